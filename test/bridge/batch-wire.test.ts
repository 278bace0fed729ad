/**
 * The lean bridge's wire (issue 21 item 1): an egress drains every message ready in one wake-up
 * into one routed batch (version 2: route, metadata and small XFER data in frame 0), copies large
 * XFER bulks out of the slab before zeromq.js sees them, and an ingress reads batches, the older
 * version-1 routed messages, and refuses malformed batches while the next one arrives intact.
 */
import { expect } from 'chai';
import { BULK_XFER, DEFAULT_ARCHIVE_LIMITS, LBM_MALFORMED, LBM_OK, LbmMeta, decodeMeta, encodeMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import type { UndeliveredReport } from '@lightbeam/zmq-bridge';
import { Bridge, ROUTE_BATCH_VERSION, decodeRouteBatch, encodeRoute } from '@lightbeam/zmq-bridge';
import { Pull, Push } from 'zeromq';
import { SeqMeta, fnv1a, payload } from './support/bridge-meta.js';
import { freePort } from '../support/free-port.js';

const LIMITS = DEFAULT_ARCHIVE_LIMITS;

function seqMeta(seq: number, data: Uint8Array, client: ShmClient): SeqMeta {
  const m = new SeqMeta();
  m.seq = seq;
  m.checksum = fnv1a(data);
  m.tag = `m${seq}`;
  m.send.push(client.expose(data, data.length, BULK_XFER));
  return m;
}

/** Version-2 frame 0 of `channel` holding the given records ([meta, inline data]). */
function batchFrame(channel: string, records: Uint8Array[][], count = records.length, inlineMax = 4096): Uint8Array {
  const name = new TextEncoder().encode(channel);
  const parts: number[] = [0x4c, 0x42, 0x4d, 0x52, ROUTE_BATCH_VERSION, 0, name.length & 0xff, name.length >> 8, ...name];
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  parts.push(...u32(count), ...u32(inlineMax));
  for (const [meta, ...inline] of records) {
    parts.push(...u32(meta.length), ...meta);
    for (const d of inline) parts.push(...d);
  }
  return Uint8Array.from(parts);
}

describe('bridge wire version 2: routed batches', () => {
  let manager: MemoryManager;
  const closers: { close(): Promise<void> | void }[] = [];
  const reports: UndeliveredReport[] = [];
  let seq = 0;
  const name = (what: string): string => `bw-${what}-${process.pid}-${seq++}`;

  before(() => {
    manager = MemoryManager.current() ?? MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  after(() => MemoryManager.current()?.detach());
  beforeEach(() => {
    reports.length = 0;
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
  });

  it('drains a burst published in one turn into few routed batches, every message verified on the wire', async () => {
    const port = await freePort();
    const pull = new Pull({ linger: 0, receiveTimeout: 10000 });
    await pull.bind(`tcp://127.0.0.1:${port}`);
    closers.push({ close: () => pull.close() });
    const ch = name('burst');
    const egress = await Bridge.create({ peer: `tcp://127.0.0.1:${port}`, channels: [ch], onUndelivered: (r) => reports.push(r) });
    closers.push(egress);
    const tx = new ShmClient(ch);
    closers.push(tx);
    const N = 300;
    // Published without yielding: the egress (this thread) wakes once to a full ring.
    for (let i = 0; i < N; i++) expect(tx.sendNow(seqMeta(i, payload(i, 64), tx))).to.equal(LBM_OK);
    let got = 0;
    let zmqMessages = 0;
    while (got < N) {
      const frames = await pull.receive();
      zmqMessages++;
      expect(frames[0][4], 'version byte').to.equal(ROUTE_BATCH_VERSION);
      const batch = decodeRouteBatch(frames[0], frames.length - 1, (i) => frames[i + 1], LIMITS);
      if ('error' in batch) throw new Error(batch.error);
      expect(batch.channel).to.equal(ch);
      expect(frames.length, '64 B bulks travel inside frame 0').to.equal(1);
      for (const r of batch.records) {
        const m = new SeqMeta();
        expect(decodeMeta(r.meta, m)).to.equal(0);
        expect(m.seq).to.equal(got);
        expect(fnv1a(r.xfer[0])).to.equal(m.checksum);
        got++;
      }
    }
    expect(zmqMessages, `${N} messages in ${zmqMessages} ZeroMQ messages`).to.be.lessThan(N / 10);
    expect(egress.stats().egress).to.include({ received: N, forwarded: N, undelivered: 0 });
  });

  it('delivers a burst of mixed sizes through egress and ingress, in order and intact', async () => {
    const ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0', onUndelivered: (r) => reports.push(r) });
    closers.push(ingress);
    const ch = name('mixed');
    const egress = await Bridge.create({ peer: `tcp://127.0.0.1:${ingress.port}`, channels: [{ local: `${ch}-out`, remote: `${ch}-in` }], onUndelivered: (r) => reports.push(r) });
    closers.push(egress);
    const rx = await ShmServer.create(`${ch}-in`);
    closers.push(rx);
    const tx = new ShmClient(`${ch}-out`);
    closers.push(tx);
    const sizes = [0, 64, 129, 4096, 4097, 70_000];
    const N = 240;
    for (let i = 0; i < N; i++) expect(tx.sendNow(seqMeta(i, payload(i, sizes[i % sizes.length]), tx))).to.equal(LBM_OK);
    for (let i = 0; i < N; i++) {
      const m = new SeqMeta();
      expect(await rx.waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
      const size = sizes[i % sizes.length];
      expect([m.seq, m.tag, m.send[0].size]).to.deep.equal([i, `m${i}`, size]);
      const buf = new Uint8Array(size);
      m.recv.push(rx.expose(buf, size, BULK_XFER));
      expect(await rx.recvBulks(m)).to.equal(LBM_OK);
      expect(fnv1a(buf), `message ${i}`).to.equal(m.checksum);
    }
    expect(ingress.stats().ingress).to.include({ received: N, delivered: N, malformed: 0, mismatched: 0 });
    expect(reports).to.deep.equal([]);
  });

  it('sends the bytes a slab block held when it was sent, though the sender reuses the block before ZeroMQ writes it', async () => {
    // Nobody listens yet: libzmq keeps what the egress queued, so every frame is still unwritten
    // when the blocks are freed, reallocated and overwritten below.
    const port = await freePort();
    const ch = name('reuse');
    const egress = await Bridge.create({ peer: `tcp://127.0.0.1:${port}`, channels: [ch], onUndelivered: (r) => reports.push(r) });
    closers.push(egress);
    const tx = new ShmClient(ch);
    closers.push(tx);
    const sizes = [129, 1000, 5000, 100_000];
    const sums: number[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const block = manager.allocateOrThrow(sizes[i]);
      const fp = manager.toFullPtr(block, sizes[i]);
      fp.ptr.set(payload(i, sizes[i]));
      sums.push(fnv1a(fp.ptr));
      const m = new SeqMeta();
      m.seq = i;
      m.checksum = sums[i];
      m.send.push(tx.exposeMove(fp, sizes[i]));
      expect(await tx.send(m, { timeoutMs: 5000 })).to.equal(LBM_OK);
    }
    const deadline = Date.now() + 10000;
    while (egress.stats().egress.forwarded < sizes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(egress.stats().egress.forwarded).to.equal(sizes.length);
    // The egress released every message: the same blocks come back, and are overwritten.
    const reused = sizes.map((s) => manager.allocateOrThrow(s));
    for (let i = 0; i < sizes.length; i++) manager.toFullPtr(reused[i], sizes[i]).ptr.fill(0xee);
    const pull = new Pull({ linger: 0, receiveTimeout: 10000 });
    closers.push({ close: () => pull.close() });
    await pull.bind(`tcp://127.0.0.1:${port}`);
    let got = 0;
    while (got < sizes.length) {
      const frames = await pull.receive();
      const batch = decodeRouteBatch(frames[0], frames.length - 1, (i) => frames[i + 1], LIMITS);
      if ('error' in batch) throw new Error(batch.error);
      for (const r of batch.records) {
        expect(fnv1a(r.xfer[0]), `message ${got} (${sizes[got]} bytes)`).to.equal(sums[got]);
        got++;
      }
    }
    for (const p of reused) manager.free(p);
  });

  describe('ingress', () => {
    let bridge: Bridge;
    let rx: ShmServer;
    let push: Push;
    let ch = '';

    beforeEach(async () => {
      ch = name('in');
      bridge = await Bridge.create({ listen: 'tcp://127.0.0.1:0', onUndelivered: (r) => reports.push(r) });
      rx = await ShmServer.create(ch);
      push = new Push({ linger: 0 });
      push.connect(`tcp://127.0.0.1:${bridge.port}`);
    });
    afterEach(async () => {
      push.close();
      await bridge.close();
      await rx.close();
    });

    function wire(i: number, size: number): { meta: Uint8Array; data: Uint8Array } {
      const data = payload(i, size);
      const m = new SeqMeta();
      m.seq = i;
      m.checksum = fnv1a(data);
      m.send.push({ data: null, size, flags: BULK_XFER });
      return { meta: encodeMeta(m), data };
    }

    async function expectDelivered(i: number, size: number): Promise<void> {
      const m = new SeqMeta();
      expect(await rx.waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
      expect([m.seq, m.send[0].size]).to.deep.equal([i, size]);
      const buf = new Uint8Array(size);
      m.recv.push(rx.expose(buf, size, BULK_XFER));
      expect(await rx.recvBulks(m)).to.equal(LBM_OK);
      expect(fnv1a(buf)).to.equal(m.checksum);
    }

    it('still delivers version-1 routed messages (an older egress)', async () => {
      const a = wire(1, 300);
      await push.send([encodeRoute(ch), a.meta, a.data]);
      await expectDelivered(1, 300);
    });

    it('counts each malformed batch once and delivers the next batch intact', async () => {
      const small = wire(2, 10);
      const big = wire(3, 5000);
      const good = batchFrame(ch, [[small.meta, small.data], [big.meta]]);
      const hostile: Uint8Array[][] = [
        [batchFrame(ch, [[small.meta, small.data]], 0)],
        [batchFrame(ch, [[small.meta, small.data]], 2)],
        [batchFrame(ch, [[small.meta, small.data, new Uint8Array(1)]])],
        [batchFrame(ch, [[small.meta, small.data.subarray(0, 5)]])],
        [batchFrame(ch, [[big.meta]])],
        [batchFrame(ch, [[small.meta, small.data]]), big.data],
        [batchFrame(ch, [[big.meta]]), new Uint8Array(4999)],
        [batchFrame(ch, [[new Uint8Array([1, 2, 3])]])],
        [good.subarray(0, 14)],
      ];
      for (const frames of hostile) await push.send(frames);
      await push.send([good, big.data]);
      await expectDelivered(2, 10);
      await expectDelivered(3, 5000);
      expect(bridge.stats().ingress).to.include({ malformed: hostile.length, delivered: 2 });
      expect(reports).to.have.length(hostile.length);
      expect(reports.every((r) => r.direction === 'ingress' && r.code === LBM_MALFORMED)).to.equal(true);
    });

    it('delivers an empty-bulk message of a batch (metadata only)', async () => {
      const m = new LbmMeta();
      await push.send([batchFrame(ch, [[encodeMeta(m)]])]);
      const got = new LbmMeta();
      expect(await rx.waitMetadata(got, { timeoutMs: 10000 })).to.equal(LBM_OK);
      expect(got.send).to.deep.equal([]);
    });
  });
});
