// Allocate+free pairs per second: the shm slab allocator vs `new Uint8Array(size)` (GC) and
// @thi.ng/malloc's MemPool (single-threaded, over an ArrayBuffer), in one thread and two threads.
// Run: npx tsx bench/alloc.bench.ts
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { MemPool } from '@thi.ng/malloc';
import { MemoryManager } from '@lightbeam/shm';
import { human, printRatioTable, runRounds, taskRate } from './support/ratio-table.js';

const SIZES = [64, 4096, 1 << 20];
const BATCH = 256;
const label = (n: number): string => (n >= 1 << 20 ? `${n >> 20}MiB` : n >= 1024 ? `${n >> 10}KiB` : `${n}B`);

const manager = MemoryManager.create({ regionBytes: 64 << 20 });
const pool = new MemPool({ size: 64 << 20 });
let sink: unknown = null;

function build(): Bench {
  const bench = new Bench({ time: 150, warmupTime: 30 });
  for (const size of SIZES) {
    bench.add(`shm alloc+free size=${label(size)} threads=1`, () => {
      for (let i = 0; i < BATCH; i++) manager.free(manager.allocate(size)!);
    });
    bench.add(`new Uint8Array size=${label(size)} threads=1`, () => {
      for (let i = 0; i < BATCH; i++) sink = new Uint8Array(size);
    });
    bench.add(`thi.ng MemPool malloc+free size=${label(size)} threads=1`, () => {
      for (let i = 0; i < BATCH; i++) pool.free(pool.malloc(size));
    });
  }
  return bench;
}

const shapes = Object.fromEntries(
  SIZES.flatMap((s) => ['shm alloc+free', 'new Uint8Array', 'thi.ng MemPool malloc+free'].map((k) => [`${k} size=${label(s)} threads=1`, { batch: BATCH }])),
);
const rounds = await runRounds(3, build);
console.log('\none thread: allocate+free pairs/s (median of 3 rounds)');
const ratios = printRatioTable(
  rounds,
  SIZES.flatMap((s) => [
    { label: `shm vs new Uint8Array size=${label(s)}`, subject: `shm alloc+free size=${label(s)} threads=1`, peer: `new Uint8Array size=${label(s)} threads=1` },
    { label: `shm vs thi.ng MemPool size=${label(s)}`, subject: `shm alloc+free size=${label(s)} threads=1`, peer: `thi.ng MemPool malloc+free size=${label(s)} threads=1` },
  ]),
  shapes,
);

/** Live blocks per thread in the FIFO variant: 1024, capped at 8 MiB per thread. */
const fifoDepth = (size: number): number => Math.min(1024, (8 << 20) / size);

/** Total pairs/s of two worker threads running `kind` for `ms` at once. */
async function twoThreads(kind: 'shm' | 'shm-fifo' | 'gc', size: number, ms: number): Promise<number> {
  const ctl = new SharedArrayBuffer(64);
  const flags = new Int32Array(ctl);
  const url = new URL('./alloc/contend-worker.mjs', import.meta.url);
  const workers = [0, 1].map((index) => new Worker(url, { workerData: { kind, size, ctl, index, depth: fifoDepth(size), lightbeamShm: manager.handle() }, execArgv: [] }));
  const deadline = Date.now() + 10_000;
  while (Atomics.load(flags, 1) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // Start both at once; the stop flag below ends the window.
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  // Stop; each worker publishes its count and bumps the done counter.
  Atomics.store(flags, 0, 2);
  const elapsed = performance.now() - t0;
  while (Atomics.load(flags, 2) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await Promise.all(workers.map((w) => w.terminate()));
  return ((Atomics.load(flags, 4) + Atomics.load(flags, 5)) / elapsed) * 1000;
}

console.log('\ntwo threads on one region: total allocate+free pairs/s (FIFO keeps min(1024, 8 MiB / size) blocks live per thread, so thread caches overflow and refill through the shared lists)');
const rows = [];
for (const size of SIZES) {
  const shm = await twoThreads('shm', size, 400);
  const fifo = await twoThreads('shm-fifo', size, 400);
  const gc = await twoThreads('gc', size, 400);
  rows.push({
    task: `alloc+free size=${label(size)} threads=2`,
    shm: human(shm, 'pairs/s'),
    'shm FIFO': human(fifo, 'pairs/s'),
    'new Uint8Array': human(gc, 'pairs/s'),
    'ratio shm/gc': (shm / gc).toFixed(2),
    'ratio fifo/gc': (fifo / gc).toFixed(2),
    'thi.ng MemPool': 'n/a (single-threaded)',
  });
  if (size === 64) ratios['two-thread 64B total pairs/s'] = shm;
}
console.table(rows);

const one64 = rounds.map((b) => taskRate(b.tasks.find((t) => t.name === 'shm alloc+free size=64B threads=1')!, { batch: BATCH }).opsPerSec);
console.log('\ngoals:');
console.log(`  >= 20M pairs/s at 64B, one thread: ${human(Math.max(...one64), 'pairs/s')} (best round)`);
console.log(`  >= 8M pairs/s total, two threads at 64B: ${human(ratios['two-thread 64B total pairs/s'], 'pairs/s')}`);
console.log(`  >= 5x new Uint8Array at 4KiB: ${ratios['shm vs new Uint8Array size=4KiB'].toFixed(2)}x`);
void sink;
manager.detach();
