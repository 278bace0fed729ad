/**
 * The shared transport contract over ZeroMQ: every protocol, plain, with copied sends, batched,
 * and once through `TransportFactory`. Raw frames come from a separate zeromq.js PUSH socket.
 */
import { Transport, TransportFactory } from '@lightbeam/core';
import type { ZeroMqClientOptions, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';
import type { TransportContractOptions, TransportPair } from '../contract/transport-contract.js';
import { describeTransportContract } from '../contract/transport-contract.js';
import type { Protocol } from './support/zmq-pair.js';
import { PROTOCOLS, clientFor, makeServer } from './support/zmq-pair.js';

type ZmqPair = TransportPair & { raw: Push };

function maker(protocol: Protocol, clientOptions: ZeroMqClientOptions): () => Promise<ZmqPair> {
  return async () => {
    const server = await makeServer(protocol);
    const client = await clientFor(server, protocol, clientOptions);
    const raw = new Push({ linger: 0 });
    raw.connect(server.endpoint as string);
    return {
      client,
      server,
      raw,
      address: server.getAddress(),
      cleanup: async () => {
        raw.close();
        await Promise.all([client.close(), server.close()]);
      },
    };
  };
}

const sendRaw = async (pair: TransportPair, frames: Uint8Array[]): Promise<void> => {
  await (pair as ZmqPair).raw.send(frames);
};

const base: TransportContractOptions = { sendRaw, copiesOnSend: true };

for (const protocol of PROTOCOLS) {
  describeTransportContract(`zeromq ${protocol}`, maker(protocol, {}), base);
}
describeTransportContract('zeromq tcp (zero copy)', maker('tcp', { copyXfer: false }), { ...base, copiesOnSend: false });
describeTransportContract('zeromq tcp (batched)', maker('tcp', { batch: true }), base);
describeTransportContract('zeromq inproc (batched, zero copy)', maker('inproc', { batch: true, copyXfer: false }), { ...base, copiesOnSend: false });

describeTransportContract('zeromq tcp via TransportFactory', async () => {
  // The factory follows C++ (port 0 means 8192), so pick a random high port; retry on a clash.
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    let server: ZeroMqServer;
    try {
      server = (await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', port)) as ZeroMqServer;
    } catch (err) {
      if (attempt < 5) continue;
      throw err;
    }
    const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
    return {
      client,
      server,
      address: '127.0.0.1',
      cleanup: async () => {
        await Promise.all([client.close(), server.close()]);
      },
    };
  }
});
