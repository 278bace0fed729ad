import { expect } from 'chai';
import { BULK_XFER, EAGAIN, ECANCELED, ESHUTDOWN, ETIMEDOUT, LbmMeta } from '@lightbeam/core';
import type { LoopbackChannel, LoopbackClient, LoopbackServer } from '../support/loopback-transport.js';
import { createLoopbackPair } from '../support/loopback-transport.js';
import { RequestMeta, numbered } from '../contract/contract-context.js';

/** Backpressure and resource rules of the core classes, through the loopback's bounded queue. */
describe('loopback: backpressure and message release', () => {
  let client: LoopbackClient;
  let server: LoopbackServer;
  let channel: LoopbackChannel;

  beforeEach(() => {
    ({ client, server, channel } = createLoopbackPair({ capacity: 2 }));
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('resolves EAGAIN from send when the queue is full, without waiting', async () => {
    expect(await client.send(numbered(1))).to.equal(0);
    expect(await client.send(numbered(2))).to.equal(0);
    expect(await client.send(numbered(3))).to.equal(EAGAIN);
    expect(channel.length).to.equal(2);
    expect(channel.stats.refused).to.equal(1);
  });

  it('waits for room when given timeoutMs, and the message then arrives in order', async () => {
    await client.send(numbered(1));
    await client.send(numbered(2));
    const third = client.send(numbered(3), { timeoutMs: 5000 });
    const meta = new RequestMeta();
    expect(await server.waitMetadata(meta, { timeoutMs: 5000 })).to.equal(0);
    expect(await third).to.equal(0);
    const ids = [meta.requestId];
    for (let i = 0; i < 2; i++) {
      expect(await server.waitMetadata(meta, { timeoutMs: 5000 })).to.equal(0);
      ids.push(meta.requestId);
    }
    expect(ids).to.deep.equal([1, 2, 3]);
  });

  it('resolves ETIMEDOUT from a send that finds no room in time, and it is never delivered', async () => {
    await client.send(numbered(1));
    await client.send(numbered(2));
    expect(await client.send(numbered(3), { timeoutMs: 15 })).to.equal(ETIMEDOUT);
    const meta = new RequestMeta();
    const ids: number[] = [];
    while ((await server.recvMetadata(meta)) === 0) ids.push(meta.requestId);
    expect(ids).to.deep.equal([1, 2]);
  });

  it('resolves ECANCELED from a send waiting for room when its signal aborts', async () => {
    await client.send(numbered(1));
    await client.send(numbered(2));
    const ac = new AbortController();
    const pending = client.send(numbered(3), { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    expect(await pending).to.equal(ECANCELED);
  });

  it('settles sends waiting for room, and those queued behind them, with ESHUTDOWN on close', async () => {
    await client.send(numbered(1));
    await client.send(numbered(2));
    const waiting = client.send(numbered(3), { timeoutMs: 60_000 });
    const behind = client.send(numbered(4), { timeoutMs: 60_000 });
    await client.close();
    expect(await waiting).to.equal(ESHUTDOWN);
    expect(await behind).to.equal(ESHUTDOWN);
  });

  it('resolves EAGAIN from send once the server is gone (no peer)', async () => {
    await server.close();
    expect(await client.send(numbered(1))).to.equal(EAGAIN);
  });

  it('releases every message exactly once: consumed, mismatched, dropped, or never read', async () => {
    const withData = (id: number, parts: string[]): RequestMeta => {
      const m = numbered(id);
      for (const p of parts) m.send.push(client.expose(new TextEncoder().encode(p), p.length, BULK_XFER));
      return m;
    };
    const plan: Array<(m: RequestMeta) => Promise<void>> = [
      async (m) => {
        m.recv.push(server.expose(new Uint8Array(1), 1, BULK_XFER));
        expect(await server.recvBulks(m)).to.equal(0);
      },
      async (m) => {
        m.recv.push(server.expose(new Uint8Array(1), 1, BULK_XFER), server.expose(new Uint8Array(1), 1, BULK_XFER));
        expect(await server.recvBulks(m)).to.equal(-1);
      },
      async (m) => {
        expect(await server.recvBulks(m)).to.equal(0);
      },
      async () => {},
    ];
    const meta = new RequestMeta();
    for (let i = 0; i < plan.length; i++) {
      expect(await client.send(withData(i, ['a']), { timeoutMs: 5000 })).to.equal(0);
      expect(await server.waitMetadata(meta, { timeoutMs: 5000 })).to.equal(0);
      await plan[i](meta);
    }
    // The last message was never read: receiving the next into the same meta drops it.
    expect(channel.stats.inFlight).to.equal(1);
    await client.send(numbered(99));
    expect(await server.waitMetadata(meta, { timeoutMs: 5000 })).to.equal(0);
    expect(channel.stats.inFlight).to.equal(0);
    expect(channel.stats.doubleReleases).to.equal(0);
    expect(server.counters).to.deep.equal({ received: 5, malformed: 0, mismatched: 1 });
  });

  it('counts and releases a malformed message', async () => {
    const { injectFrames } = await import('../support/loopback-transport.js');
    expect(injectFrames(channel, [Uint8Array.of(1, 2, 3), Uint8Array.of(4)])).to.equal(true);
    expect(await server.recvMetadata(new LbmMeta())).to.equal(-1);
    expect(server.counters.malformed).to.equal(1);
    expect(channel.stats.inFlight).to.equal(0);
  });

  it('refuses a capacity below 1', () => {
    expect(() => createLoopbackPair({ capacity: 0 })).to.throw(RangeError, /capacity/);
  });
});
