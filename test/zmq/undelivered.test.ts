/**
 * Issue 22.12: ZeroMQ queues messages for a server that is not there, and `send` resolves 0 (the
 * C++ semantics, kept). With `watchPeer` a client counts what it queued for nobody, reports it
 * on close, and can wait for a server before sending.
 */
import { connect } from 'node:net';
import { expect } from 'chai';
import { BULK_XFER, ETIMEDOUT, LbmMeta, LightbeamError } from '@lightbeam/core';
import { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { closeAll, uniqueAddress } from './support/zmq-pair.js';

function message(i: number): LbmMeta {
  const m = new LbmMeta();
  const bytes = new Uint8Array([i, i + 1, i + 2]);
  m.send.push({ data: { ptr: bytes, shm: { allocId: { major: 0, minor: 0 }, off: 0 } }, size: 3, flags: BULK_XFER });
  return m;
}

/** Collects the LBM_UNDELIVERED warnings emitted while `fn` runs (and one tick after). */
async function warnings(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error & { code?: string }): void => {
    if (w.code === 'LBM_UNDELIVERED') seen.push(w.message);
  };
  process.on('warning', on);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

describe('ZeroMQ sends to nobody (issue 22.12)', function () {
  this.timeout(20_000);
  let client: ZeroMqClient | undefined;
  let server: ZeroMqServer | undefined;
  afterEach(async () => {
    await closeAll(client, server);
    client = server = undefined;
  });

  it('resolves 0 for each send with no server (C++ semantics), counts them, and reports them on close', async () => {
    client = await ZeroMqClient.create(uniqueAddress('ipc'), 'ipc', 0, { watchPeer: true, linger: 0 });
    for (let i = 0; i < 3; i++) expect(await client.send(message(i))).to.equal(0);
    expect(client.peerConnected).to.equal(false);
    expect(client.undelivered).to.equal(3);
    const c = client;
    const seen = await warnings(() => c.close());
    expect(seen).to.have.length(1);
    expect(seen[0]).to.include('closed with 3 message(s) queued that no server received');
    expect(client.undelivered).to.equal(3);
  });

  it('hands what waited to the server that comes, and counts nothing once one is connected', async () => {
    const path = uniqueAddress('ipc');
    client = await ZeroMqClient.create(path, 'ipc', 0, { watchPeer: true, linger: 0 });
    expect(await client.send(message(1))).to.equal(0);
    expect(client.undelivered).to.equal(1);
    server = await ZeroMqServer.create(path, 'ipc', 0, { linger: 0 });
    expect(await client.waitForPeer({ timeoutMs: 10_000 })).to.equal(0);
    expect(client.peerConnected).to.equal(true);
    expect(client.undelivered).to.equal(0);
    expect(await client.send(message(2))).to.equal(0);
    const got: number[] = [];
    for (let i = 0; i < 2; i++) {
      const m = new LbmMeta();
      expect(await server.waitMetadata(m, { timeoutMs: 10_000 })).to.equal(0);
      const buf = new Uint8Array(3);
      m.recv.push(server.expose(buf, 3, BULK_XFER));
      expect(await server.recvBulks(m)).to.equal(0);
      got.push(buf[0] as number);
    }
    expect(got).to.deep.equal([1, 2]);
    const c = client;
    expect(await warnings(() => c.close())).to.deep.equal([]);
    expect(client.undelivered).to.equal(0);
  });

  it('waitForPeer gives up at its deadline with ETIMEDOUT (tcp)', async () => {
    server = await ZeroMqServer.create('127.0.0.1', 'tcp', 0);
    const port = server.port as number;
    await server.close();
    // libzmq tears the listener down on its own thread after close returns: wait until the port
    // refuses connections, or the client may still reach the closing listener.
    await refusedAt(port);
    client = await ZeroMqClient.create('127.0.0.1', 'tcp', port, { watchPeer: true, linger: 0 });
    expect(await client.waitForPeer({ timeoutMs: 50 })).to.equal(ETIMEDOUT);
  });

  it('without watchPeer: undelivered is null and waitForPeer is refused; inproc refuses watchPeer', async () => {
    client = await ZeroMqClient.create(uniqueAddress('ipc'), 'ipc', 0, { linger: 0 });
    expect(client.undelivered).to.equal(null);
    expect(client.peerConnected).to.equal(null);
    const err = await client.waitForPeer().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LightbeamError);
    expect((err as LightbeamError).code).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(() => new ZeroMqClient(uniqueAddress('inproc'), 'inproc', 0, { watchPeer: true })).to.throw(LightbeamError, /inproc/);
  });
});

/** Resolves once a TCP connect to 127.0.0.1:`port` is refused (bounded: 100 tries, 20 ms apart). */
async function refusedAt(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`127.0.0.1:${port} still accepts connections after its server closed`);
}
