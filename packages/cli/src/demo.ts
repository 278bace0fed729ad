/**
 * `lightbeam demo`, the main job: the same workload through Lightbeam (slab, kShm EXPOSE to a
 * piscina pool, bridge over TCP) and through what one writes without it (postMessage copies and
 * a raw zeromq.js PUSH), both verified message by message by a second process standing in for a
 * remote host, then one summary table.
 */
import { MemoryManager, createPool } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { connect } from 'node:net';
import { CliError } from './cli-error.js';
import type { RemoteChild } from './demo-child.js';
import { startRemoteChild } from './demo-child.js';
import { runBaselinePath } from './demo-baseline-run.js';
import type { RunName } from './demo-control.js';
import { ControlClient } from './demo-control.js';
import { RESULTS_CHANNEL } from './demo-remote.js';
import type { PathResult } from './demo-report.js';
import { formatSummary } from './demo-report.js';
import type { LocalRunContext } from './demo-shm-run.js';
import { runShmPath } from './demo-shm-run.js';
import type { HostPort } from './host-port.js';
import { formatHostPort } from './host-port.js';
import type { Progress } from './progress.js';
import { formatBytes } from './progress.js';

/** The piscina worker script, shipped next to `dist` and `src`. */
export const DEMO_WORKER = new URL('../workers/demo-worker.mjs', import.meta.url).href;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Messages per path. */
  count: number;
  /** Payload bytes per message (a multiple of 4). */
  size: number;
  /** Piscina workers. */
  workers: number;
  /** A running `lightbeam demo-remote` (its control address), or `null` to start one here. */
  remote: HostPort | null;
  /** Longest wait for any single step, in ms. */
  timeoutMs: number;
  /** Damage every N-th payload after its checksum (0: never); proves the far side checks. */
  corruptEvery: number;
  /** Progress display. */
  progress: Progress;
  /** Also log a plain progress line every this many ms (0: never); for output that is not a terminal. */
  progressLinesMs: number;
}

/** The outcome: both paths as the far side saw them. */
export interface DemoOutcome {
  /** The Lightbeam path. */
  ours: PathResult;
  /** The postMessage + zeromq.js path. */
  baseline: PathResult;
  /** The summary table as printed. */
  table: string;
}

/**
 * Runs the demo and prints its table.
 *
 * @throws CliError on any mismatch or lost message (after printing the table), or when a step
 *   fails or times out
 */
export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  const { progress } = o;
  // Messages in flight per worker, the same window on both paths: the kShm input ring of each
  // worker, and the piscina tasks outstanding per worker on the baseline. A power of two (ring
  // size), at most 16 MiB of payload.
  const perWorker = 2 ** Math.floor(Math.log2(Math.max(2, Math.min(32, Math.floor((16 << 20) / o.size)))));
  const resultsCapacity = perWorker * 2;
  const inFlight = o.size * (o.workers * (perWorker + 1) + resultsCapacity);
  const regionBytes = Math.min(2 ** 30, Math.max(64 << 20, 2 ** Math.ceil(Math.log2(inFlight * 1.5 + (8 << 20)))));
  let child: RemoteChild | null = null;
  let control: ControlClient | null = null;
  let bridge: Bridge | null = null;
  const manager = MemoryManager.create({ regionBytes });
  const pool = createPool({ manager, filename: DEMO_WORKER, minThreads: o.workers, maxThreads: o.workers, idleTimeout: 60_000, execArgv: [] });
  try {
    let host = '127.0.0.1';
    let port: number;
    if (o.remote === null) {
      child = await startRemoteChild(o.timeoutMs);
      port = child.controlPort;
      progress.log(`started a second process standing in for the remote host (control port ${port})`);
    } else {
      ({ host, port } = o.remote);
      await probe(host, port, Math.min(o.timeoutMs, 5000));
    }
    control = new ControlClient(host, port, o.timeoutMs);
    const hello = (await control.call({ op: 'hello' })).hello;
    if (hello === undefined) throw new CliError('the demo remote answered hello without its ports');
    const peer = `tcp://${host.includes(':') ? `[${host}]` : host}:${hello.bridgePort}`;
    let undelivered = '';
    bridge = await Bridge.create({
      peer,
      channels: [RESULTS_CHANNEL],
      ring: { capacity: resultsCapacity },
      // Longer than the workers' send timeout: while the far side is gone, the egress holds its
      // full channel instead of dropping a message every timeoutMs, so the worker stuck behind it
      // times out first and says why (the remote side is not taking results).
      sendTimeoutMs: 2 * o.timeoutMs,
      onUndelivered: (r) => (undelivered ||= r.reason),
    });
    // Start every worker and load its script before anything is timed.
    await Promise.all(Array.from({ length: o.workers }, () => pool.run({ op: 'clone', seq: 0, key: 0, data: new Uint8Array(64), corruptEvery: 0 })));
    progress.log(`${o.count} messages of ${formatBytes(o.size)} per path, ${o.workers} workers, remote side ${formatHostPort({ host, port })} (pid ${hello.pid})`);

    const ctl = control;
    const measure = async (run: RunName, label: string, name: string, body: (ctx: LocalRunContext) => Promise<void>): Promise<PathResult> => {
      const key = (Math.random() * 2 ** 32) >>> 0;
      await ctl.call({ op: 'expect', run, expect: { count: o.count, size: o.size, key } });
      progress.start(o.count, label);
      const t0 = performance.now();
      let lastLine = t0;
      const onProgress = (n: number): void => {
        progress.update(n);
        if (o.progressLinesMs > 0 && performance.now() - lastLine >= o.progressLinesMs) {
          lastLine = performance.now();
          progress.log(`${name}: ${n}/${o.count} sent`);
        }
      };
      await body({ manager, pool, workers: o.workers, perWorker, count: o.count, size: o.size, key, corruptEvery: o.corruptEvery, timeoutMs: o.timeoutMs, onProgress });
      const verdict = (await ctl.call({ op: 'result', run, idleMs: o.timeoutMs }, o.timeoutMs * 2)).verdict;
      const ms = performance.now() - t0;
      progress.update(o.count);
      progress.stop();
      if (verdict === undefined) throw new CliError(`the demo remote sent no verdict for the ${run} run`);
      progress.log(`${name}: ${verdict.received}/${verdict.expected} verified by the remote side, ${verdict.mismatches} mismatches, ${verdict.lost} lost, ${(ms / 1000).toFixed(2)} s`);
      return { name, verdict, ms };
    };
    const b = bridge;
    const ours = await measure('shm', 'lightbeam ', 'lightbeam kShm + bridge', async (ctx) => {
      const r = await runShmPath(ctx, b, RESULTS_CHANNEL);
      if (r.undelivered > 0) progress.log(`the bridge could not forward ${r.undelivered} messages: ${undelivered}`);
    });
    const baseline = await measure('baseline', 'postMessage', 'postMessage + zeromq.js', (ctx) => runBaselinePath(ctx, `tcp://${host.includes(':') ? `[${host}]` : host}:${hello.baselinePort}`));
    const table = formatSummary(ours, baseline);
    progress.log('');
    progress.log(table);
    await control.call({ op: 'bye' });
    const bad = [ours, baseline].filter((r) => r.verdict.mismatches > 0 || r.verdict.lost > 0 || r.verdict.unexpected > 0);
    if (bad.length > 0) {
      const r = bad[0].verdict;
      const first = r.firstMismatch === null ? '' : ` (first: ${r.firstMismatch})`;
      throw new CliError(`${bad[0].name}: ${r.mismatches} mismatches, ${r.lost} lost, ${r.unexpected} unexpected of ${r.expected} messages${first}`);
    }
    progress.log(`OK: every message of both paths verified by the remote side, 0 mismatches, 0 lost`);
    return { ours, baseline, table };
  } finally {
    progress.stop();
    control?.close();
    await bridge?.close();
    await pool.destroy();
    await child?.stop(2000);
    manager.detach();
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
