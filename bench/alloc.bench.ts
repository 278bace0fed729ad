/**
 * Allocate+free pairs per second: the shm slab allocator against `new Uint8Array(size)` (the GC)
 * and @thi.ng/malloc's MemPool (single-threaded, over an ArrayBuffer), in one thread and in two
 * threads on one region. Every figure is the median over `LBM_BENCH_ROUNDS` (default 7)
 * interleaved rounds with its min-max (bench/support/rounds.ts): each round runs every case once
 * (the two-thread cases in an order that rotates, bench/support/rotated-rounds.ts), so a burst of
 * load on this shared 2-core machine lands on all of them; the best round is never the figure.
 *
 * Run: `npx tsx bench/alloc.bench.ts` (after `pnpm run build`).
 *
 * Goals (issue 10): 64 B alloc+free at least 20 M pairs/s in one thread and 8 M in total with two
 * threads; at 4 KiB at least 5x `new Uint8Array`.
 */
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { MemPool } from '@thi.ng/malloc';
import { MemoryManager } from '@lightbeam/shm';
import { human, taskRate } from './support/ratio-table.js';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { ratioOfMedians, summary } from './support/rounds.js';
import { interleaveRotated } from './support/rotated-rounds.js';
import type { Summary } from './support/rounds.js';

const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 7);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new RangeError(`LBM_BENCH_ROUNDS must be an integer >= 1, got ${process.env.LBM_BENCH_ROUNDS}`);
const SIZES = [64, 4096, 1 << 20];
/** Pairs per tinybench call: keeps the timer's own cost out of a sub-100 ns operation. */
const BATCH = 256;
/** Milliseconds each two-thread run measures. */
const TWO_THREAD_MS = 250;
const label = (n: number): string => (n >= 1 << 20 ? `${n >> 20}MiB` : n >= 1024 ? `${n >> 10}KiB` : `${n}B`);
const fmtRate = (s: Summary): string => `${human(s.median)} (${human(s.min)}-${human(s.max)})`;
const fmtRatio = (s: Summary): string => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
/** a against b: the ratio of the medians, with the per-round ratios' range (`ratioOfMedians`). */
const ratioOf = ratioOfMedians;

const manager = MemoryManager.create({ regionBytes: 64 << 20 });
const pool = new MemPool({ size: 64 << 20 });
let sink: unknown = null;
const results: BenchRowInput[] = [];

type OneImpl = 'shm alloc+free' | 'new Uint8Array' | 'thi.ng MemPool malloc+free';
const ONE_IMPLS: readonly OneImpl[] = ['shm alloc+free', 'new Uint8Array', 'thi.ng MemPool malloc+free'];
const oneTask = (impl: OneImpl, size: number): string => `${impl} size=${label(size)} threads=1`;

/** One round of the one-thread cases: every impl at every size, each for tinybench's short time. */
function build(): Bench {
  const bench = new Bench({ time: 150, warmupTime: 30 });
  for (const size of SIZES) {
    bench.add(oneTask('shm alloc+free', size), () => {
      for (let i = 0; i < BATCH; i++) manager.free(manager.allocate(size)!);
    });
    bench.add(oneTask('new Uint8Array', size), () => {
      for (let i = 0; i < BATCH; i++) sink = new Uint8Array(size);
    });
    bench.add(oneTask('thi.ng MemPool malloc+free', size), () => {
      for (let i = 0; i < BATCH; i++) pool.free(pool.malloc(size));
    });
  }
  return bench;
}

/** Pairs/s of every one-thread task in each of ROUNDS rounds (a fresh bench per round). */
async function oneThread(): Promise<Record<string, number[]>> {
  const perTask: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    const bench = build();
    await bench.run();
    for (const t of bench.tasks) (perTask[t.name] ??= []).push(taskRate(t, { batch: BATCH }).opsPerSec);
  }
  return perTask;
}

/** Live blocks per thread in the FIFO variant: 1024, capped at 8 MiB per thread. */
const fifoDepth = (size: number): number => Math.min(1024, (8 << 20) / size);

type TwoKind = 'shm' | 'shm-fifo' | 'gc';

/** Total pairs/s of two worker threads running `kind` for `ms` at once. */
async function twoThreads(kind: TwoKind, size: number, ms: number): Promise<number> {
  const ctl = new SharedArrayBuffer(64);
  const flags = new Int32Array(ctl);
  const url = new URL('./alloc/contend-worker.mjs', import.meta.url);
  const workers = [0, 1].map((index) => new Worker(url, { workerData: { kind, size, ctl, index, depth: fifoDepth(size), lightbeamShm: manager.handle() }, execArgv: [] }));
  try {
    const deadline = Date.now() + 10_000;
    // Acquire the workers' ready count.
    while (Atomics.load(flags, 1) < 2) {
      if (Date.now() > deadline) throw new Error(`two-thread ${kind}: only ${Atomics.load(flags, 1)} of 2 workers became ready`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Start both at once; the stop flag below ends the window.
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    // Stop; each worker publishes its count and bumps the done counter.
    Atomics.store(flags, 0, 2);
    const elapsed = performance.now() - t0;
    while (Atomics.load(flags, 2) < 2) {
      if (Date.now() > deadline) throw new Error(`two-thread ${kind}: only ${Atomics.load(flags, 2)} of 2 workers finished`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Acquire the counts the workers published before their done bump.
    return ((Atomics.load(flags, 4) + Atomics.load(flags, 5)) / elapsed) * 1000;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const twoTask = (kind: TwoKind, size: number): string => `${kind === 'gc' ? 'new Uint8Array' : kind === 'shm' ? 'shm alloc+free' : 'shm alloc+free FIFO'} size=${label(size)} threads=2`;

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`alloc: Node ${process.version}, ${ROUNDS} interleaved rounds, load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const one = await oneThread();
  console.log(`\none thread: allocate+free pairs/s, median over ${ROUNDS} rounds (min-max)`);
  console.table(
    SIZES.flatMap((size) => {
      const shm = one[oneTask('shm alloc+free', size)];
      return ONE_IMPLS.map((impl) => {
        const xs = one[oneTask(impl, size)];
        return { task: oneTask(impl, size), 'pairs/s (min-max)': fmtRate(summary(xs)), 'shm / this': fmtRatio(ratioOf(shm, xs)) };
      });
    }),
  );
  for (const size of SIZES) {
    const shm = one[oneTask('shm alloc+free', size)];
    for (const impl of ONE_IMPLS) {
      const xs = one[oneTask(impl, size)];
      const ops = summary(xs).median;
      const ours = impl === 'shm alloc+free';
      const measure = 'alloc+free, one thread';
      const peerOf = { ratio: ratioOf(shm, xs).median, vs: oneTask('shm alloc+free', size), goal: impl === 'new Uint8Array' && size === 4096 ? 5 : null };
      results.push({ task: oneTask(impl, size), side: ours ? 'ours' : 'peer', impl: ours ? 'lightbeam slab' : impl, messageBytes: size, opsPerSec: ops, bytesPerSec: ops * size, measure, unit: 'alloc+free pairs', ...(ours ? {} : peerOf) });
    }
  }

  console.log(
    `\ntwo threads on one region: total allocate+free pairs/s over ${TWO_THREAD_MS} ms, median over ${ROUNDS} rounds (min-max). FIFO keeps min(1024, 8 MiB / size) blocks live per thread, so thread caches overflow and refill through the shared lists`,
  );
  const kinds: readonly TwoKind[] = ['shm', 'shm-fifo', 'gc'];
  // Rotated, with a pause before each run: the previous run's workers finish exiting first.
  const two = await interleaveRotated(
    ROUNDS,
    Object.fromEntries(SIZES.flatMap((size) => kinds.map((kind) => [twoTask(kind, size), () => twoThreads(kind, size, TWO_THREAD_MS)]))),
    20,
  );
  console.table(
    SIZES.map((size) => {
      const gc = two[twoTask('gc', size)];
      return {
        size: label(size),
        shm: fmtRate(summary(two[twoTask('shm', size)])),
        'shm FIFO': fmtRate(summary(two[twoTask('shm-fifo', size)])),
        'new Uint8Array': fmtRate(summary(gc)),
        'shm / gc': fmtRatio(ratioOf(two[twoTask('shm', size)], gc)),
        'FIFO / gc': fmtRatio(ratioOf(two[twoTask('shm-fifo', size)], gc)),
        'thi.ng MemPool': 'n/a (single-threaded)',
      };
    }),
  );
  for (const size of SIZES) {
    const gc = two[twoTask('gc', size)];
    for (const kind of kinds) {
      const xs = two[twoTask(kind, size)];
      const ops = summary(xs).median;
      const ours = kind !== 'gc';
      const peerOf = {
        ratio: ratioOf(two[twoTask('shm', size)], xs).median,
        vs: twoTask('shm', size),
        also: [{ vs: twoTask('shm-fifo', size), ratio: ratioOf(two[twoTask('shm-fifo', size)], xs).median }],
      };
      results.push({
        task: twoTask(kind, size),
        side: ours ? 'ours' : 'peer',
        impl: ours ? `lightbeam slab${kind === 'shm-fifo' ? ' FIFO' : ''}` : 'new Uint8Array',
        messageBytes: size,
        opsPerSec: ops,
        bytesPerSec: ops * size,
        measure: 'alloc+free, two threads on one region (total)',
        unit: 'alloc+free pairs',
        ...(ours ? {} : peerOf),
      });
    }
  }

  const one64 = summary(one[oneTask('shm alloc+free', 64)]);
  const two64 = summary(two[twoTask('shm', 64)]);
  const vsGc4k = ratioOf(one[oneTask('shm alloc+free', 4096)], one[oneTask('new Uint8Array', 4096)]);
  console.log(`\ngoals (median over ${ROUNDS} rounds (min-max)):`);
  console.table([
    { goal: '64 B alloc+free, one thread >= 20 M pairs/s', measured: fmtRate(one64), met: one64.median >= 20e6 ? 'met' : 'NOT met' },
    { goal: '64 B alloc+free, two threads total >= 8 M pairs/s', measured: fmtRate(two64), met: two64.median >= 8e6 ? 'met' : 'NOT met' },
    { goal: '4 KiB alloc+free, one thread >= 5x new Uint8Array', measured: fmtRatio(vsGc4k), met: vsGc4k.median >= 5 ? 'met' : 'NOT met' },
  ]);
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await writeBenchResult('alloc', results);
}

await main();
void sink;
manager.detach();
