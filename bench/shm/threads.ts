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
  /**
   * Resolves with the role's result (a pinger's times in microseconds, or a GC count), with
   * `null` when the role finished without one or the thread exited; rejects with its error.
   */
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
      else if (m.done === true) resolve(null);
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
  // Publishes the stop flag every role loop checks; wakes roles parked on it or on the raw
  // ping-pong word.
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  Atomics.notify(ctl, 3);
  await Promise.all(workers.map((w) => w.worker.terminate()));
}

/**
 * Ends a run cleanly: sets the stop flag, lets every role finish (close its channel ends, free its
 * blocks) for up to `graceMs`, then terminates the threads. Rethrows the first role's error, so a
 * failed echo (a sequence mismatch) shows as itself rather than as a pinger's timeout.
 *
 * @param graceMs - how long roles get to finish after the stop flag
 * @defaultValue graceMs 10000
 */
export async function finishRoles(ctl: Int32Array, workers: readonly RoleWorker[], graceMs = 10_000): Promise<void> {
  // Publishes the stop flag; wakes roles parked on it or on the raw ping-pong word.
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  Atomics.notify(ctl, 3);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((r) => {
    timer = setTimeout(r, graceMs);
  });
  try {
    await Promise.race([Promise.all(workers.map((w) => w.result)), grace]);
  } finally {
    clearTimeout(timer);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/** A role's result; throws if the thread ended without one. */
export async function resultOf(w: RoleWorker): Promise<Float64Array> {
  const r = await w.result;
  if (r === null) throw new Error('a bench worker ended without its result');
  return r;
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
