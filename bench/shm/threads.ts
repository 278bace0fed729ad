/**
 * Thread plumbing for `bench/shm.bench.ts`: starts the role workers of `bench/shm/worker.mjs`,
 * collects their round-trip times, and turns samples into percentiles.
 */
import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import type { MemoryManager } from '@lightbeam/shm';

const WORKER = new URL('./worker.mjs', import.meta.url);

/** A fresh control block (see `bench/shm/roles.mjs` for its words). */
export function newCtl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(64));
}

/** A running role worker. */
export interface RoleWorker {
  /** The thread. */
  readonly worker: Worker;
  /** Resolves with a pinger's times (microseconds); rejects with the worker's error. */
  readonly result: Promise<Float64Array | null>;
}

/**
 * Starts a worker running `role`.
 *
 * @param role - a role of `bench/shm/worker.mjs`
 * @param data - its workerData (ctl, channel names, args)
 * @param manager - attach the worker to this memory
 * @param transferList - ports to move into the worker
 */
export function startRole(role: string, data: Record<string, unknown>, manager: MemoryManager | null, transferList: TransferListItem[] = []): RoleWorker {
  const worker = new Worker(WORKER, { execArgv: [], workerData: { role, ...data, shm: manager?.handle() }, transferList });
  const result = new Promise<Float64Array | null>((resolve, reject) => {
    worker.on('message', (m: { times?: Float64Array; done?: boolean; error?: string }) => {
      if (m.error !== undefined) reject(new Error(`${role} worker: ${m.error}`));
      else if (m.times !== undefined) resolve(m.times);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => resolve(code === 0 ? null : null));
  });
  // A role that never reports (echoes, sinks) is ended by terminate(); keep its promise quiet.
  result.catch(() => undefined);
  return { worker, result };
}

/** Stops role workers: sets the stop flag, then terminates whatever did not exit. */
export async function stopRoles(ctl: Int32Array, workers: readonly RoleWorker[]): Promise<void> {
  // Publishes the stop flag every role loop checks.
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 3);
  await Promise.all(workers.map((w) => w.worker.terminate()));
}

/** Percentiles of round-trip samples (microseconds). */
export interface Latency {
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
}

/** p50 and p99 of `times`. */
export function latency(times: Float64Array): Latency {
  const s = Float64Array.from(times).sort();
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/** The median of `xs`. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Yields to the event loop (lets other tasks, e.g. worker messages, run). */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Waits until `ctl[word]` reaches `target` (yielding in between), or throws after `timeoutMs`. */
export async function awaitCount(ctl: Int32Array, word: number, target: number, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // Acquire the sink's count; it bumps it after each message it finished with.
  while (Atomics.load(ctl, word) < target) {
    if (performance.now() > deadline) throw new Error(`only ${Atomics.load(ctl, word)} of ${target} messages arrived`);
    await tick();
  }
}
