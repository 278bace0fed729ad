/**
 * RPC over ZeroMQ sends one small message at a time each way: its clients do not batch unless
 * asked, because a batching client holds a small message until the end of the event-loop turn
 * (one more turn on each way of every call). Batching is still there for who asks for it.
 */
import { expect } from 'chai';
import { LbmMeta, RpcClient, RpcServer, Transport } from '@lightbeam/core';
import type { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import '@lightbeam/zmq-bridge';

describe('RPC over kZeroMq: clients that do not batch by default', function () {
  this.timeout(20000);
  let server: RpcServer;
  let client: RpcClient;

  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  async function pair(clientOptions?: Record<string, unknown>, replyClientOptions?: Record<string, unknown>): Promise<void> {
    server = await RpcServer.listen(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: 0, replyClientOptions });
    server.handle('echo', (m) => m);
    client = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: (server.server as ZeroMqServer).port as number, clientOptions });
    // The first call settles the negotiation, which decides batching for a client left at 'auto'.
    await client.call('echo', new LbmMeta(), { timeoutMs: 5000 });
  }

  /** The server's reply client towards our client, reached through its private table. */
  function replyClient(): ZeroMqClient {
    const clients = Reflect.get(Reflect.get(server, 'replies') as object, 'clients') as Map<string, { client: ZeroMqClient | null }>;
    const [entry] = [...clients.values()];
    return entry.client as ZeroMqClient;
  }

  it('sends requests and replies unbatched', async () => {
    await pair();
    expect((client.requests as ZeroMqClient).batching, 'request client').to.equal(false);
    expect(replyClient().batching, 'reply client').to.equal(false);
    const got = await client.call('echo', new LbmMeta(), { timeoutMs: 5000 });
    expect(got).to.be.instanceOf(LbmMeta);
  });

  it('batches when the options ask for it', async () => {
    await pair({ batch: true }, { batch: true });
    expect((client.requests as ZeroMqClient).batching).to.equal(true);
    expect(replyClient().batching).to.equal(true);
    await client.call('echo', new LbmMeta(), { timeoutMs: 5000 });
  });
});
