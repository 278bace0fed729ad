/**
 * What every section of bench/shm.bench.ts shares: the run's constants, its memory, the rows
 * and goals it collects, and the formatting of medians and ratios.
 */
import { MemoryManager } from '@lightbeam/shm';
import { human } from '../support/ratio-table.js';
import type { BenchRowInput } from '../support/report-format.js';
import { ratioOfMedians, summary } from '../support/rounds.js';
import { interleaveRotated } from '../support/rotated-rounds.js';
import type { RoundCase, Summary } from '../support/rounds.js';

export const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 7);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new RangeError(`LBM_BENCH_ROUNDS must be an integer >= 1, got ${process.env.LBM_BENCH_ROUNDS}`);
export const SMALL = 64;
export const KiB = 1024;
export const MiB = 1 << 20;
/** Messages a flow-controlled postMessage sender lets be unacknowledged. */
export const PM_WINDOW = 32;
/** Ring slots of the round-trip channels: a ping-pong holds one message, so a small ring will do. */
export const RT_CAPACITY = 64;
/** Messages per GC count: the goal is per 100k. */
export const GC_N = 100_000;
export const GC_WARMUP = 20_000;

// 256 MiB: 32 staged 1 MiB XFER messages in flight, plus every ring and block of the run.
export const manager = MemoryManager.create({ regionBytes: 256 << 20 });
export const results: BenchRowInput[] = [];

/** One line of the closing goals table. */
interface Goal {
  goal: string;
  peer: string;
  ours: string;
  ratio: string;
  met: boolean;
}
export const goals: Goal[] = [];

// Channels are bound again by every run (after the previous run's ends closed) instead of made
// afresh: a channel's ring stays in the shared region for the region's life.
export const RT_PING = 'bench-rt-ping';
export const RT_ECHO = 'bench-rt-echo';
export const streamChannel = (capacity: number): string => `bench-stream-cap${capacity}`;

/** Pause before each case: lets the previous case's worker threads finish exiting. */
export const SETTLE_MS = 20;

/**
 * ROUNDS rounds of every case, the order rotating each round (bench/support/rotated-rounds.ts):
 * no case always runs right after the same other one.
 */
export function interleave<K extends string>(cases: Readonly<Record<K, RoundCase>>): Promise<Record<K, number[]>> {
  return interleaveRotated(ROUNDS, cases, SETTLE_MS);
}

export const warmupFor = (n: number): number => Math.min(2000, n >> 2);
export const sizeLabel = (n: number): string => (n >= MiB ? `${n / MiB}MiB` : n >= KiB ? `${n / KiB}KiB` : `${n}B`);
export const fmtRate = (s: Summary, unit = ''): string => `${human(s.median)} (${human(s.min)}-${human(s.max)})${unit === '' ? '' : ` ${unit}`}`;

/** a against b: the ratio of the medians, with the per-round ratios' range (see `ratioOfMedians`). */
export const ratioOf = ratioOfMedians;

/** A summary without a unit, for columns whose header names it: `0.87 (0.80-1.02)`. */
export const fmtNum = (s: Summary, digits = 2): string => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
export const fmtRatio = (s: Summary): string => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

export function goal(text: string, peer: string, ours: string, ratio: string, met: boolean): void {
  goals.push({ goal: text, peer, ours, ratio, met });
}



export function record(task: string, side: 'ours' | 'peer', impl: string, bytes: number, rates: readonly number[], ratio?: number, links: Partial<BenchRowInput> = {}): void {
  const rate = summary(rates).median;
  results.push({ task, side, impl, messageBytes: bytes, opsPerSec: rate, bytesPerSec: rate * bytes, ...(ratio === undefined ? {} : { ratio }), ...links });
}
