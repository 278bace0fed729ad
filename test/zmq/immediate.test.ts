/**
 * `ZeroMqClientOptions.immediate` (ZMQ_IMMEDIATE), added for issue #14: a client queues nothing
 * for a connection whose ZeroMQ handshake did not complete, so a peer that accepts TCP but never
 * answers makes `send` wait and time out instead of "succeeding" into a queue that then holds the
 * process at exit. Without the option the same send resolves 0, which is the contrast tested here.
 */
import { createServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, ETIMEDOUT, LbmMeta } from '@lightbeam/core';
import { ZeroMqClient } from '@lightbeam/zmq-bridge';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { closeAll, makeServer } from './support/zmq-pair.js';

function meta1(bytes: Uint8Array, client: ZeroMqClient): LbmMeta {
  const m = new LbmMeta();
  m.send.push(client.expose(bytes, bytes.length, BULK_XFER));
  return m;
}

describe('ZeroMqClient immediate (ZMQ_IMMEDIATE, issue #14)', () => {
  let silent: NetServer | null = null;
  const accepted: Socket[] = [];
  let silentPort = 0;
  let client: ZeroMqClient | undefined;
  let server: ZeroMqServer | undefined;

  beforeEach(async () => {
    // Accepts TCP connections and never answers ZeroMQ's greeting.
    silent = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => (silent as NetServer).listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });

  afterEach(async () => {
    await closeAll(client, server);
    client = undefined;
    server = undefined;
    for (const s of accepted.splice(0)) s.destroy();
    await new Promise<void>((resolve) => (silent as NetServer).close(() => resolve()));
  });

  it('queues nothing for a peer that never completes the handshake: EAGAIN, or ETIMEDOUT with a timeout', async () => {
    client = await ZeroMqClient.create('127.0.0.1', 'tcp', silentPort, { immediate: true, linger: 0 });
    const data = new Uint8Array(16);
    expect(await client.send(meta1(data, client))).to.equal(EAGAIN);
    expect(await client.send(meta1(data, client), { timeoutMs: 200 })).to.equal(ETIMEDOUT);
  });

  it('without it, queues for that peer (send resolves 0)', async () => {
    client = await ZeroMqClient.create('127.0.0.1', 'tcp', silentPort, { linger: 0 });
    expect(await client.send(meta1(new Uint8Array(16), client), { timeoutMs: 200 })).to.equal(0);
  });

  it('sends to a server once the handshake completed', async () => {
    server = await makeServer('tcp');
    client = await ZeroMqClient.create('127.0.0.1', 'tcp', server.port as number, { immediate: true, linger: 0 });
    const data = new Uint8Array([1, 2, 3, 4]);
    expect(await client.send(meta1(data, client), { timeoutMs: 5000 })).to.equal(0);
    const m = new LbmMeta();
    expect(await server.waitMetadata(m, { timeoutMs: 5000 })).to.equal(0);
    const buf = new Uint8Array(m.send[0].size);
    m.recv.push(server.expose(buf, buf.length, m.send[0].flags));
    expect(await server.recvBulks(m)).to.equal(0);
    expect([...buf]).to.deep.equal([1, 2, 3, 4]);
  });
});
