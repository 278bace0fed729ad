/**
 * Act 1 of `lightbeam demo`, inside one process: each workload (local-workload.ts) through
 * Lightbeam and through `postMessage` (clone and transfer), on the same worker threads, `runs`
 * times; the order of the paths rotates from run to run so none always runs first (cold) or
 * last. Prints one table with each path's median and range, then one sentence.
 */
import type { MemoryManager } from '@lightbeam/shm';
import { CliError } from '../common/cli-error.js';
import { runLightbeamLocal } from './local-lightbeam.js';
import type { PostMode } from './local-postmessage.js';
import { runPostMessageLocal } from './local-postmessage.js';
import { tieNotes } from './local-ties.js';
import { LocalWorkers } from './local-workers.js';
import type { LocalRunResult, LocalWorkload } from './local-workload.js';
import { expectedChecksums, localWorkloads, messagesOf } from './local-workload.js';
import { renderTable } from './report.js';
import type { DemoSteps } from './steps.js';
import { compareTimes, describeFactor, describeRange, geometricMean, spreadOf, verdictSentence } from './verdict.js';
import type { RunSpread } from './verdict.js';
import { formatBytes } from '../common/progress.js';

/** The paths of act 1, Lightbeam first. */
export const LOCAL_PATHS = ['lightbeam', 'postMessage clone', 'postMessage transfer'] as const;
/** Untimed passes of every path before the timed runs (see runLocalAct). */
export const WARM_UP_PASSES = 2;

/** One path of act 1. */
export type LocalPath = (typeof LOCAL_PATHS)[number];

/** Options of {@link runLocalAct}. */
export interface LocalActOptions {
  /** This thread's shared memory. */
  manager: MemoryManager;
  /** Worker threads. */
  workers: number;
  /** Runs of every path. */
  runs: number;
  /** Multiplies the workloads' counts (1: the default demo). */
  scale: number;
  /** Longest quiet time of any step. */
  timeoutMs: number;
  /** The transform key. */
  key: number;
}

/** What act 1 measured. */
export interface LocalActOutcome {
  /** Per workload name, per path: one result per run. */
  results: Record<string, Record<LocalPath, LocalRunResult[]>>;
  /** The act's speed-up per run: geometric mean over workloads of the best baseline's time over ours. */
  perRun: number[];
  /** The closing sentence. */
  sentence: string;
  /** The table as printed. */
  table: string;
}

/** The step keys act 1 will run, in order (for the ETA). */
export function localStepKeys(o: Pick<LocalActOptions, 'runs' | 'scale' | 'key'>): string[] {
  const keys: string[] = [];
  const ws = localWorkloads(o.scale, o.key);
  for (let pass = 0; pass < WARM_UP_PASSES; pass++) for (const w of ws) for (const p of LOCAL_PATHS) keys.push(`act1 warm-up ${w.name} ${p}`);
  for (let r = 0; r < o.runs; r++) for (const w of ws) for (let p = 0; p < LOCAL_PATHS.length; p++) keys.push(`act1 ${w.name} ${LOCAL_PATHS[(p + r) % LOCAL_PATHS.length]}`);
  return keys;
}

/**
 * Runs act 1 and prints its table and sentence.
 *
 * @throws CliError when a step fails, or (after printing) when any message was wrong
 */
export async function runLocalAct(o: LocalActOptions, steps: DemoSteps): Promise<LocalActOutcome> {
  const ws = localWorkloads(o.scale, o.key);
  steps.log(`act 1, one process: producer -> ${o.workers} worker threads (side by side, or in a row for stages) -> consumer; ${ws.map((w) => `${w.name} x ${w.count}`).join(', ')}; ${o.runs} runs of each path`);
  const want = new Map(ws.map((w) => [w.name, expectedChecksums(w, o.workers)]));
  const results = Object.fromEntries(ws.map((w) => [w.name, { lightbeam: [], 'postMessage clone': [], 'postMessage transfer': [] }])) as LocalActOutcome['results'];
  const workers = await LocalWorkers.start(o.workers, o.manager, o.timeoutMs);
  const runPath = (w: LocalWorkload, path: LocalPath, onFraction: (f: number) => void): Promise<LocalRunResult> => {
    const wantW = want.get(w.name) as Uint32Array;
    return path === 'lightbeam'
      ? runLightbeamLocal(w, wantW, workers, o.manager, o.timeoutMs, onFraction)
      : runPostMessageLocal(w, wantW, workers, path.slice('postMessage '.length) as PostMode, o.timeoutMs, onFraction);
  };
  try {
    // Untimed passes of every path first, at half the count: the JIT compiles each path's code
    // and the slab carves pages for each size before anything is timed. One short pass was not
    // enough: Lightbeam's first timed run of the 4 KiB pipeline still took twice as long as its
    // later ones (more of its code is JavaScript that V8 optimises from what it has seen run).
    for (let pass = 0; pass < WARM_UP_PASSES; pass++) {
      for (const w of ws) {
        for (const path of LOCAL_PATHS) {
          const r = await steps.run(`act1 warm-up ${w.name} ${path}`, (f) => runPath({ ...w, count: Math.max(4, Math.ceil(w.count / 2)) }, path, f));
          if (r.mismatches > 0) throw new CliError(`act 1 warm-up, ${path} ${w.name}: ${r.mismatches} mismatches (first: ${r.firstMismatch})`);
        }
      }
    }
    // Every block the timed runs take must come back: moved blocks are freed by the consumer's
    // release, fanned-out ones by the producer after the last answer.
    const inUse = (): number => o.manager.stats().reduce((a, st) => a + st.blocksInUse, 0);
    const before = inUse();
    for (let r = 0; r < o.runs; r++) {
      for (const w of ws) {
        for (let p = 0; p < LOCAL_PATHS.length; p++) {
          const path = LOCAL_PATHS[(p + r) % LOCAL_PATHS.length];
          const res = await steps.run(`act1 ${w.name} ${path}`, (onFraction) => runPath(w, path, onFraction));
          results[w.name][path].push(res);
        }
      }
      steps.log(`act 1 run ${r + 1}/${o.runs}: ${ws.map((w) => `${w.name} ${describeFactor(bestSpeedup(results[w.name], r))}`).join(', ')} (Lightbeam against the faster postMessage)`);
    }
    const after = inUse();
    if (after > before) throw new CliError(`act 1: ${after - before} shared-memory blocks still in use after the timed runs (${before} before)`);
    steps.log(`act 1: shared-memory blocks in use before the timed runs ${before}, after ${after}: every block handed over came back`);
  } finally {
    await workers.close();
  }
  const perRun = Array.from({ length: o.runs }, (_, r) => geometricMean(ws.map((w) => bestSpeedup(results[w.name], r))));
  const sentence = verdictSentence(spreadOf(perRun), 'postMessage in one process');
  const table = formatLocalTable(ws, results, o.workers);
  steps.log('');
  steps.log(table);
  for (const note of tieNotes(ws, results)) steps.log(note);
  const bad = ws.flatMap((w) => LOCAL_PATHS.flatMap((p) => results[w.name][p].filter((x) => x.mismatches > 0).map((x) => `${p} ${w.name}: ${x.mismatches} mismatches (first: ${x.firstMismatch})`)));
  if (bad.length > 0) throw new CliError(`act 1: ${bad[0]}`);
  steps.log(`Act 1: ${sentence} (Geometric mean of the ${ws.length} workloads, each against the faster of clone and transfer in the same run; every message's bytes verified.)`);
  return { results, perRun, sentence, table };
}

/** Run `r`'s speed-up of Lightbeam over the faster postMessage flavour. */
function bestSpeedup(byPath: Record<LocalPath, LocalRunResult[]>, r: number): number {
  const base = Math.min(byPath['postMessage clone'][r].ms, byPath['postMessage transfer'][r].ms);
  return base / byPath.lightbeam[r].ms;
}

const range = (s: RunSpread, f: (x: number) => string): string => `${f(s.median)} (${f(s.min)}-${f(s.max)})`;

/** The act 1 table: a row per workload and path, medians with their ranges over the runs. */
export function formatLocalTable(ws: readonly LocalWorkload[], results: LocalActOutcome['results'], workers: number): string {
  const header = ['workload', 'path', 'time, median (range)', 'messages/s', 'payload MiB/s', 'verified', 'mismatches', 'Lightbeam against it: ratio of the medians', 'median of per-run ratios (range)'];
  const rows: string[][] = [header];
  for (const w of ws) {
    const ours = results[w.name].lightbeam.map((x) => x.ms);
    for (const p of LOCAL_PATHS) {
      const xs = results[w.name][p];
      const ms = spreadOf(xs.map((x) => x.ms));
      const msgs = messagesOf(w, workers);
      const c = p === 'lightbeam' ? null : compareTimes(ours, xs.map((x) => x.ms));
      rows.push([
        w.name,
        p,
        range(ms, (v) => `${v.toFixed(0)} ms`),
        ((msgs / ms.median) * 1000).toFixed(0),
        ((((w.count * w.size) / ms.median) * 1000) / (1 << 20)).toFixed(0),
        `${xs[xs.length - 1].verified}/${msgs}`,
        String(xs.reduce((a, x) => a + x.mismatches, 0)),
        c === null ? '' : describeFactor(c.ofMedians),
        c === null ? '' : `${describeFactor(c.perRun.median)} (${describeRange(c.perRun)})`,
      ]);
    }
  }
  const fans = ws.filter((w) => w.mode === 'fan').map((w) => formatBytes(w.size));
  return `${renderTable(rows)}\n(fan-out: every payload is read by all ${workers} workers, so messages = payloads x ${workers}; ${fans.join(' and ')} each. stages: each payload passes through all ${workers} workers in turn, worker to worker)`;
}
