/**
 * `lightbeam demo`, in two acts, each run several times and closed by one sentence:
 *
 * 1. inside one process (local.ts): producer -> worker threads -> consumer over
 *    Transport.kShm (EXPOSE descriptors, blocks moved, received in place) against the same
 *    pipeline over `postMessage` (clone and transfer), plus a fan-out of one payload to every worker;
 * 2. across hosts: the same kind of workload through Lightbeam (slab, kShm EXPOSE to a piscina
 *    pool, bridge over TCP) and through what one writes without it (postMessage copies and a raw
 *    zeromq.js PUSH), both verified message by message by a second process standing in for a
 *    remote host.
 */
import { MemoryManager, createPool } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { connect } from 'node:net';
import { CliError } from '../common/cli-error.js';
import type { RemoteChild } from './child.js';
import { startRemoteChild } from './child.js';
import { runBaselinePath } from './baseline-run.js';
import type { Act2Windows } from './windows.js';
import { act2Windows } from './windows.js';
import type { RunName } from './control.js';
import { ControlClient } from './control.js';
import { RESULTS_CHANNEL } from './remote.js';
import type { PathResult } from './report.js';
import { formatSummary } from './report.js';
import type { LocalActOutcome } from './local.js';
import { localStepKeys, runLocalAct } from './local.js';
import { DemoSteps } from './steps.js';
import { speedups, spreadOf, verdictSentence } from './verdict.js';
import type { LocalRunContext } from './shm-run.js';
import { runShmPath } from './shm-run.js';
import type { HostPort } from '../common/host-port.js';
import { formatHostPort } from '../common/host-port.js';
import type { Progress } from '../common/progress.js';
import { formatBytes } from '../common/progress.js';

/** The piscina worker script, shipped next to `dist` and `src`. */
export const DEMO_WORKER = new URL('../../workers/demo-worker.mjs', import.meta.url).href;

/**
 * How long the second process may take to start, whatever `--timeout-ms` says: the option bounds
 * the steps of a run, and a short one used to fail the demo on a loaded machine before the remote
 * side had even loaded its modules (issue 14).
 */
export const REMOTE_START_TIMEOUT_MS = 30_000;

/** Which acts {@link runDemo} runs. */
export type DemoActs = 'both' | 'local' | 'remote';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Act 2: messages per path and run. */
  count: number;
  /** Act 2: payload bytes per message (a multiple of 4). */
  size: number;
  /** Worker threads (both acts). */
  workers: number;
  /** Act 2: a running `lightbeam demo-remote` (its control address), or `null` to start one here. */
  remote: HostPort | null;
  /** Longest wait for any single step, in ms. */
  timeoutMs: number;
  /** Act 2: damage every N-th payload after its checksum (0: never); proves the far side checks. */
  corruptEvery: number;
  /** Progress display. */
  progress: Progress;
  /** Act 2: also log a plain progress line every this many ms (0: never); for output that is not a terminal. */
  progressLinesMs: number;
  /**
   * Runs of every path of every act.
   * @defaultValue 5
   */
  runs?: number;
  /**
   * Which acts to run.
   * @defaultValue 'both'
   */
  acts?: DemoActs;
  /**
   * Multiplies act 1's message counts.
   * @defaultValue 1
   */
  localScale?: number;
}

/** The outcome: what each act measured. */
export interface DemoOutcome {
  /** Act 1, when it ran. */
  local: LocalActOutcome | null;
  /** Act 2: the Lightbeam path's runs as the far side saw them (empty when act 2 did not run). */
  ours: PathResult[];
  /** Act 2: the postMessage + zeromq.js path's runs. */
  baseline: PathResult[];
  /** Act 2's table as printed (empty when it did not run). */
  table: string;
  /** Act 2's closing sentence (empty when it did not run). */
  sentence: string;
}

/**
 * Runs the demo and prints its tables and sentences.
 *
 * @throws CliError on any mismatch or lost message (after printing the table), or when a step
 *   fails or times out
 */
export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  const runs = o.runs ?? 5;
  const acts = o.acts ?? 'both';
  const localScale = o.localScale ?? 1;
  const key = (Math.random() * 2 ** 32) >>> 0;
  // The same window of messages in flight on both paths of act 2 (windows.ts).
  const windows = act2Windows(o.size, o.workers);
  const { perWorker, results: resultsCapacity } = windows;
  const inFlight = o.size * (o.workers * (perWorker + 1) + resultsCapacity);
  // Act 1 holds at most 8 MiB-payloads in flight per worker plus its results: 64 MiB covers it.
  const regionBytes = Math.min(2 ** 30, Math.max(128 << 20, 2 ** Math.ceil(Math.log2(inFlight * 1.5 + (8 << 20)))));
  const manager = MemoryManager.create({ regionBytes });
  const local = acts !== 'remote';
  const remote = acts !== 'local';
  const keys = [...(local ? localStepKeys({ runs, scale: localScale, key }) : []), ...(remote ? remoteStepKeys(runs) : [])];
  const steps = new DemoSteps(o.progress, keys);
  try {
    steps.start();
    const localOutcome = local ? await runLocalAct({ manager, workers: o.workers, runs, scale: localScale, timeoutMs: o.timeoutMs, key }, steps) : null;
    if (!remote) return { local: localOutcome, ours: [], baseline: [], table: '', sentence: '' };
    if (local) steps.log('');
    const r = await runRemoteAct(o, runs, manager, windows, steps);
    return { local: localOutcome, ...r };
  } finally {
    steps.stop();
    manager.detach();
  }
}

/** The step keys act 2 will run, in order (for the ETA). */
function remoteStepKeys(runs: number): string[] {
  return Array.from({ length: runs }, (_, r) => (r % 2 === 0 ? ['act2 shm', 'act2 baseline'] : ['act2 baseline', 'act2 shm'])).flat();
}

/** Act 2: the far side, the bridge, the pool; `runs` runs of each path, alternating which goes first. */
async function runRemoteAct(o: DemoOptions, runs: number, manager: MemoryManager, windows: Act2Windows, steps: DemoSteps): Promise<Omit<DemoOutcome, 'local'>> {
  let child: RemoteChild | null = null;
  let control: ControlClient | null = null;
  let bridge: Bridge | null = null;
  const pool = createPool({ manager, filename: DEMO_WORKER, minThreads: o.workers, maxThreads: o.workers, idleTimeout: 60_000, execArgv: [] });
  try {
    let host = '127.0.0.1';
    let port: number;
    if (o.remote === null) {
      child = await startRemoteChild(Math.max(o.timeoutMs, REMOTE_START_TIMEOUT_MS));
      port = child.controlPort;
      steps.log(`act 2, across hosts: started a second process standing in for the remote host (control port ${port})`);
    } else {
      ({ host, port } = o.remote);
      await probe(host, port, Math.min(o.timeoutMs, 5000));
    }
    control = new ControlClient(host, port, o.timeoutMs);
    const hello = (await control.call({ op: 'hello' }, Math.max(o.timeoutMs, REMOTE_START_TIMEOUT_MS))).hello;
    if (hello === undefined) throw new CliError('the demo remote answered hello without its ports');
    const peer = `tcp://${host.includes(':') ? `[${host}]` : host}:${hello.bridgePort}`;
    let undelivered = '';
    bridge = await Bridge.create({
      peer,
      channels: [RESULTS_CHANNEL],
      ring: { capacity: windows.results },
      // Longer than the workers' send timeout: while the far side is gone, the egress holds its
      // full channel instead of dropping a message every timeoutMs, so the worker stuck behind it
      // times out first and says why (the remote side is not taking results).
      sendTimeoutMs: 2 * o.timeoutMs,
      onUndelivered: (r) => (undelivered ||= r.reason),
    });
    // Start every worker and load its script before anything is timed.
    await Promise.all(Array.from({ length: o.workers }, () => pool.run({ op: 'clone', seq: 0, key: 0, data: new Uint8Array(64), corruptEvery: 0 })));
    steps.log(`${o.count} messages of ${formatBytes(o.size)} per path and run, ${o.workers} workers, ${runs} runs, remote side ${formatHostPort({ host, port })} (pid ${hello.pid})`);

    const ctl = control;
    const measure = async (run: RunName, r: number, name: string, body: (ctx: LocalRunContext) => Promise<void>): Promise<PathResult> =>
      steps.run(`act2 ${run}`, async (onFraction) => {
        const key = (Math.random() * 2 ** 32) >>> 0;
        await ctl.call({ op: 'expect', run, expect: { count: o.count, size: o.size, key } });
        const t0 = performance.now();
        let lastLine = t0;
        const onProgress = (n: number): void => {
          onFraction(n / o.count);
          if (o.progressLinesMs > 0 && performance.now() - lastLine >= o.progressLinesMs) {
            lastLine = performance.now();
            steps.log(`${name}: ${n}/${o.count} sent`);
          }
        };
        const perWorker = run === 'shm' ? windows.shmInput : windows.perWorker;
        await body({ manager, pool, workers: o.workers, perWorker, count: o.count, size: o.size, key, corruptEvery: o.corruptEvery, timeoutMs: o.timeoutMs, onProgress });
        const verdict = (await ctl.call({ op: 'result', run, idleMs: o.timeoutMs }, o.timeoutMs * 2)).verdict;
        const ms = performance.now() - t0;
        if (verdict === undefined) throw new CliError(`the demo remote sent no verdict for the ${run} run`);
        steps.log(`run ${r + 1}/${runs}, ${name}: ${verdict.received}/${verdict.expected} verified by the remote side, ${verdict.mismatches} mismatches, ${verdict.lost} lost, ${ms.toFixed(1)} ms`);
        return { name, verdict, ms };
      });
    const b = bridge;
    const oursRun = (r: number): Promise<PathResult> =>
      measure('shm', r, 'lightbeam kShm + bridge', async (ctx) => {
        const res = await runShmPath(ctx, b, RESULTS_CHANNEL);
        if (res.undelivered > 0) steps.log(`the bridge could not forward ${res.undelivered} messages: ${undelivered}`);
      });
    const baselineUrl = `tcp://${host.includes(':') ? `[${host}]` : host}:${hello.baselinePort}`;
    const baselineRun = (r: number): Promise<PathResult> => measure('baseline', r, 'postMessage + zeromq.js', (ctx) => runBaselinePath(ctx, baselineUrl));
    const ours: PathResult[] = [];
    const baseline: PathResult[] = [];
    for (let r = 0; r < runs; r++) {
      // Alternate which path goes first: the first of a pair runs on a cooler machine.
      if (r % 2 === 0) {
        ours.push(await oursRun(r));
        baseline.push(await baselineRun(r));
      } else {
        baseline.push(await baselineRun(r));
        ours.push(await oursRun(r));
      }
      const bad = [ours[r], baseline[r]].find((x) => x.verdict.mismatches > 0 || x.verdict.lost > 0 || x.verdict.unexpected > 0);
      if (bad !== undefined) break; // stop at the first bad run: the table below shows it
    }
    const table = formatSummary(ours, baseline);
    const sentence = verdictSentence(spreadOf(speedups(ours.map((x) => x.ms), baseline.map((x) => x.ms))), 'postMessage + zeromq.js across hosts');
    steps.log('');
    steps.log(table);
    await control.call({ op: 'bye' });
    const bad = [...ours, ...baseline].filter((r) => r.verdict.mismatches > 0 || r.verdict.lost > 0 || r.verdict.unexpected > 0);
    if (bad.length > 0) {
      const r = bad[0].verdict;
      const first = r.firstMismatch === null ? '' : ` (first: ${r.firstMismatch})`;
      throw new CliError(`${bad[0].name}: ${r.mismatches} mismatches, ${r.lost} lost, ${r.unexpected} unexpected of ${r.expected} messages${first}`);
    }
    steps.log(`OK: every message of both paths verified by the remote side, 0 mismatches, 0 lost`);
    steps.log(`Act 2: ${sentence} (Wall time from the first message produced to the remote side's verdict, per run, same messages on both paths.)`);
    return { ours, baseline, table, sentence };
  } finally {
    control?.close();
    await bridge?.close();
    await pool.destroy();
    await child?.stop(2000);
  }
}

/** Fails fast with a clear line when nothing listens at the remote's control port. */
function probe(host: string, port: number, timeoutMs: number): Promise<void> {
  const where = formatHostPort({ host, port });
  const hint = `is "lightbeam demo-remote --listen <addr>:${port}" running there?`;
  return new Promise<void>((resolve, reject) => {
    const sock = connect({ host, port });
    const fail = (why: string): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(new CliError(`cannot reach the demo remote at ${where}: ${why} (${hint})`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message));
  });
}
