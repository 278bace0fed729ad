import { describeTransportContract } from '../contract/transport-contract.js';
import type { LoopbackOptions } from '../support/loopback-transport.js';
import { createLoopbackPair, injectFrames } from '../support/loopback-transport.js';
import type { TransportPair } from '../contract/transport-contract.js';
import type { LoopbackChannel } from '../support/loopback-transport.js';

const channels = new WeakMap<TransportPair, LoopbackChannel>();

function maker(opts: LoopbackOptions): () => Promise<TransportPair> {
  return async () => {
    const address = `loopback://contract-${Math.random().toString(36).slice(2)}`;
    const { client, server, channel } = createLoopbackPair({ ...opts, address });
    const pair: TransportPair = {
      client,
      server,
      address,
      cleanup: async () => {
        await client.close();
        await server.close();
      },
    };
    channels.set(pair, channel);
    return pair;
  };
}

async function sendRaw(pair: TransportPair, frames: Uint8Array[]): Promise<void> {
  const channel = channels.get(pair);
  if (channel === undefined || !injectFrames(channel, frames)) throw new Error('loopback raw injection failed');
}

describeTransportContract('loopback (descriptors only)', maker({}), { sendRaw });
describeTransportContract('loopback (shared EXPOSE memory)', maker({ shareExposed: true }), { sendRaw, sharesMemory: true });
