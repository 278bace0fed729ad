// Real worker threads allocating and freeing concurrently in one region.
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { MemoryManager } from '@lightbeam/shm';

const WORKER = new URL('../fixtures/shm/alloc-worker.mjs', import.meta.url);

interface Live {
  minor: number;
  off: number;
  size: number;
}

function start(manager: MemoryManager, data: Record<string, unknown>): Worker {
  return new Worker(WORKER, { workerData: { ...data, lightbeamShm: manager.handle() }, execArgv: [] });
}

function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('slab allocator under concurrency', function () {
  this.timeout(120000);
  let manager: MemoryManager;
  let workers: Worker[] = [];

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 48 << 20, maxRegions: 1 });
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    workers = [];
    manager.detach();
  });

  it('4 workers x 100k seeded random allocate/free: canaries intact, no overlap, zero in use after', async () => {
    const ops = 100_000;
    workers = [0, 1, 2, 3].map((index) => start(manager, { mode: 'stress', index, seed: 1234 + index, ops, maxLive: 256, maxSize: 16384 }));
    const lives = await Promise.all(workers.map((w) => nextMessage<{ live: Live[] }>(w)));
    // All four workers are paused holding their live blocks: no two may overlap.
    const all = lives.flatMap((m) => m.live).sort((x, y) => x.minor - y.minor || x.off - y.off);
    let overlaps = 0;
    for (let i = 1; i < all.length; i++) if (all[i].minor === all[i - 1].minor && all[i].off < all[i - 1].off + all[i - 1].size) overlaps++;
    expect(all.length).to.be.greaterThan(100);
    expect(overlaps).to.equal(0);
    expect(manager.stats()[0].blocksInUse).to.equal(all.length);
    const done = workers.map((w) => nextMessage<{ ops: number; allocs: number; frees: number; nulls: number; canaryErrors: number }>(w));
    for (const w of workers) w.postMessage('finish');
    const results = await Promise.all(done);
    for (const r of results) {
      expect(r.canaryErrors).to.equal(0);
      expect(r.allocs).to.equal(r.frees);
      expect(r.nulls).to.equal(0);
    }
    const s = manager.stats()[0];
    expect(s.blocksInUse).to.equal(0);
    expect(s.bytesInUse).to.equal(0);
    expect(s.freeBytes).to.equal(s.dataBytes);
    // Figures for the closing note.
    const total = results.reduce((n, r) => n + r.allocs + r.frees, 0);
    console.log(`      concurrency: ${workers.length} threads, ${total} allocate/free operations, ${all.length} live blocks checked, overlaps found = ${overlaps}`);
  });

  it('frees in the main thread a block a worker allocated, and the reverse', async () => {
    const w = start(manager, { mode: 'rpc' });
    workers.push(w);
    await nextMessage(w);
    w.postMessage({ op: 'alloc', size: 300, byte: 0x5a });
    const { p } = await nextMessage<{ p: { allocId: { major: number; minor: number }; off: number } }>(w);
    expect(Array.from(manager.toFullPtr(p, 300).ptr).every((b) => b === 0x5a)).to.equal(true);
    manager.free(p);
    const q = manager.allocateOrThrow(1000);
    manager.toFullPtr(q, 1000).ptr.fill(1);
    w.postMessage({ op: 'write', p: q, size: 1000, byte: 0x33 });
    await nextMessage(w);
    expect(manager.toFullPtr(q, 1000).ptr.every((b) => b === 0x33)).to.equal(true);
    w.postMessage({ op: 'free', p: q });
    expect(await nextMessage(w)).to.deep.include({ ok: true });
    w.postMessage({ op: 'free', p: q });
    expect(await nextMessage(w)).to.deep.include({ ok: false, code: 'ERR_LBM_DOUBLE_FREE' });
    expect(manager.stats()[0].blocksInUse).to.equal(0);
  });

  it('keeps allocating while a worker is terminated mid-churn, and reclaims its cache', async () => {
    const count = 100;
    const out = new SharedArrayBuffer(4 * (2 + count));
    const slots = new Int32Array(out);
    const hog = start(manager, { mode: 'hog', count, size: 64, out });
    const peer = start(manager, { mode: 'rpc' });
    workers.push(hog, peer);
    await nextMessage(peer);
    // Wait (bounded) until the hog holds its blocks and is churning.
    for (let i = 0; i < 500 && (Atomics.load(slots, 0) !== count || Atomics.load(slots, 1) < 3); i++) await new Promise((r) => setTimeout(r, 10));
    expect(Atomics.load(slots, 0)).to.equal(count);
    const hogId = hog.threadId;
    const exited = new Promise((r) => hog.once('exit', r));
    await hog.terminate();
    await exited;
    // The others keep allocating: the main thread and the peer worker.
    const mine = Array.from({ length: 2000 }, () => manager.allocateOrThrow(64));
    peer.postMessage({ op: 'alloc', size: 64, byte: 1 });
    const fromPeer = await nextMessage<{ ok: boolean; p: { allocId: { major: number; minor: number }; off: number } }>(peer);
    expect(fromPeer.ok).to.equal(true);
    // Every worker is watched without being asked: its cache went back when it exited, so a
    // manual reclaim finds nothing left.
    expect(manager.reclaimThread(hogId)).to.equal(0);
    // Only the hog's held blocks (and possibly the one it was churning) remain in use.
    for (const p of mine) manager.free(p);
    manager.free(fromPeer.p);
    const inUse = manager.stats()[0].classes[0].blocksInUse;
    expect(inUse === count || inUse === count + 1).to.equal(true);
    // Its held blocks are ordinary blocks: anyone may free them.
    for (let i = 0; i < count; i++) manager.free({ allocId: manager.defaultAllocatorId, off: Atomics.load(slots, 2 + i) });
    expect(manager.stats()[0].classes[0].blocksInUse).to.be.lessThanOrEqual(1);
    expect(manager.reclaimThread(hogId)).to.equal(0);
  });
});
