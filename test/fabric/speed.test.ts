/**
 * The speed work of issue 23 as behaviour, on both providers: memory registered once per staging
 * buffer and once per caller buffer (not per message), completions read on the JavaScript thread
 * while a call is hot and by the progress thread otherwise (without a core spent when idle), and
 * reads of several messages in flight at once, each delivered byte for byte into its own buffer,
 * and their releases batched into one note per run of consecutive messages.
 */
import { expect } from 'chai';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { FabricClient, FabricServer } from '@lightbeam/fabric';
import { Prng } from '../support/prng.js';
import { describeEachProvider } from './support/fabric-pair.js';

const KiB = 1 << 10;

function pattern(seed: number, size: number): Uint8Array {
  const rng = new Prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.nextU32();
  return out;
}

/** Receives one message with one XFER bulk into `into`; the recvBulks code. */
async function receiveInto(server: FabricServer, into: Uint8Array): Promise<number> {
  const m = new LbmMeta();
  expect(await server.waitMetadata(m, { timeoutMs: 10_000 })).to.equal(0);
  m.recv.push(server.expose(into, into.byteLength, BULK_XFER));
  return server.recvBulks(m);
}

describeEachProvider('speed (issue 23)', (_p, open) => {
  it('registers a staging buffer once and reuses it: 40 copied 256 KiB bulks, every byte delivered, at most 2 registrations', async () => {
    const pair = await open();
    const client = pair.client as FabricClient;
    const server = pair.server as FabricServer;
    const data = new Uint8Array(256 * KiB);
    const got = new Uint8Array(256 * KiB);
    for (let i = 0; i < 40; i++) {
      data.set(pattern(i, data.byteLength));
      const m = new LbmMeta();
      m.send.push(client.expose(data, data.byteLength, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 10_000 }), `send #${i}`).to.equal(0);
      expect(await receiveInto(server, got), `recvBulks #${i}`).to.equal(0);
      expect(Buffer.compare(got, pattern(i, got.byteLength)), `bytes of #${i}`).to.equal(0);
      // The release travels back before the next send takes a buffer.
      for (let t = 0; t < 2000 && client.unreleasedMessages > 0; t++) await new Promise((r) => setTimeout(r, 1));
    }
    const s = client.stats();
    // Per message it was 40 (each copy registered, then deregistered on release).
    expect(s.registrations).to.be.at.most(2);
    expect(s.stagedBytes).to.be.at.least(256 * KiB);
  });

  it('with copyXfer false registers the buffer the bulks lie in once: 24 bulks at different offsets of one ArrayBuffer, 1 registration', async () => {
    const pair = await open({ copyXfer: false });
    const client = pair.client as FabricClient;
    const server = pair.server as FabricServer;
    const region = pattern(77, 24 * 64 * KiB + 13);
    const got = new Uint8Array(64 * KiB);
    for (let i = 0; i < 24; i++) {
      // Odd offsets too: the descriptor's address is the buffer's plus the view's offset.
      const view = region.subarray(i * 64 * KiB + (i % 3), i * 64 * KiB + (i % 3) + 40 * KiB);
      const m = new LbmMeta();
      m.send.push(client.expose(view, view.byteLength, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 10_000 }), `send #${i}`).to.equal(0);
      got.fill(0);
      expect(await receiveInto(server, got.subarray(0, view.byteLength)), `recvBulks #${i}`).to.equal(0);
      expect(Buffer.compare(got.subarray(0, view.byteLength), view), `bytes of #${i}`).to.equal(0);
    }
    // Per message it was 24, one registration of each bulk.
    expect(client.stats().registrations).to.equal(1);
  });

  it('reads 12 messages in flight at once: all recvBulks pending together, each delivered byte for byte in order, released by one batched note', async () => {
    const pair = await open();
    const client = pair.client as FabricClient;
    const server = pair.server as FabricServer;
    const N = 12;
    for (let i = 0; i < N; i++) {
      const m = new LbmMeta();
      const data = pattern(500 + i, 96 * KiB + i);
      m.send.push(client.expose(data, data.byteLength, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 10_000 }), `send #${i}`).to.equal(0);
    }
    const metas: LbmMeta[] = [];
    const bufs: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const m = new LbmMeta();
      expect(await server.waitMetadata(m, { timeoutMs: 10_000 }), `metadata #${i}`).to.equal(0);
      expect(m.send[0].size, `size of #${i}: messages arrive in order`).to.equal(96 * KiB + i);
      const b = new Uint8Array(m.send[0].size);
      m.recv.push(server.expose(b, b.byteLength, BULK_XFER));
      metas.push(m);
      bufs.push(b);
    }
    const rcs = await Promise.all(metas.map((m) => server.recvBulks(m)));
    expect(rcs).to.deep.equal(new Array<number>(N).fill(0));
    for (let i = 0; i < N; i++) expect(Buffer.compare(bufs[i], pattern(500 + i, 96 * KiB + i)), `bytes of #${i}`).to.equal(0);
    for (let t = 0; t < 2000 && client.unreleasedMessages > 0; t++) await new Promise((r) => setTimeout(r, 1));
    expect(client.unreleasedMessages, 'every message released').to.equal(0);
    // Released together: one note per run of consecutive messages (it was one per message).
    expect(server.stats().releaseNotes).to.be.at.most(3);
    expect(client.stats().releaseNotes).to.equal(server.stats().releaseNotes);
  });

  it('reads completions on the JavaScript thread while a call is hot, and leaves them to the progress thread with spinUs 0', async () => {
    for (const spinUs of [250, 0]) {
      const pair = await open({ spinUs });
      const client = pair.client as FabricClient;
      const server = pair.server as FabricServer;
      const got = new Uint8Array(32 * KiB);
      for (let i = 0; i < 30; i++) {
        const m = new LbmMeta();
        const data = pattern(i, got.byteLength);
        m.send.push(client.expose(data, data.byteLength, BULK_XFER));
        expect(await client.send(m, { timeoutMs: 10_000 })).to.equal(0);
        expect(await receiveInto(server, got)).to.equal(0);
        expect(Buffer.compare(got, data), `bytes of #${i}`).to.equal(0);
      }
      const s = server.stats();
      // The server's spinUs is its default: what differs is the client's, and the process's
      // hot spell is set by every post in it. With 0 on one side the other still polls, so
      // only the client's own completions tell.
      const c = client.stats();
      if (spinUs > 0) expect(s.polledEvents + c.polledEvents, 'events read on the JavaScript thread').to.be.above(0);
      else expect(c.polledEvents, 'a client with spinUs 0 never polls').to.equal(0);
      expect(s.polledEvents + s.threadEvents, 'the server saw every message and read').to.be.at.least(60);
      await pair.cleanup();
    }
  });

  it('spends no core while a waitMetadata is pending and nothing arrives, after a hot exchange', async () => {
    const pair = await open();
    const client = pair.client as FabricClient;
    const server = pair.server as FabricServer;
    const m = new LbmMeta();
    m.send.push(client.expose(new Uint8Array(16), 16, BULK_XFER));
    expect(await client.send(m)).to.equal(0);
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 10_000 })).to.equal(0);
    // A wait that nothing answers: the hot spell ends after spinUs, then the thread sleeps.
    const pending = server.waitMetadata(new LbmMeta(), { timeoutMs: 1500 });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const d = process.cpuUsage(t0);
    const share = (d.user + d.system) / 1000 / (performance.now() - w0);
    expect(await pending).to.not.equal(0);
    // A JavaScript thread polling every turn would be close to 1.0 of a core.
    expect(share).to.be.below(0.3);
  });
});
