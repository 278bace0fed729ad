/**
 * The worker threads of act 1 of `lightbeam demo`: started once with `startWorker` (attached to
 * the main thread's shared memory by the package, no handle passing by hand) and reused by every
 * path and run of the act, so each path runs on the very same threads and no start-up is timed.
 */
import type { Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import type { MemoryManager } from '@lightbeam/shm';
import { startWorker } from '@lightbeam/shm';
import { CliError } from '../common/cli-error.js';
import type { LocalMode } from './local-workload.js';

/** The worker script, shipped next to `dist` and `src`. */
export const LOCAL_WORKER = new URL('../../workers/demo-local-worker.mjs', import.meta.url);

/** A reply of a worker (see workers/demo-local-worker.mjs). */
export interface WorkerReply {
  /** `ready`, `bound`, `done`, `error` or `pm`. */
  op: string;
  /** `pm`: the sequence number answered. */
  seq?: number;
  /** `pm`: the checksum the worker computed. */
  checksum?: number;
  /** `pm`: the bytes, when they come back. */
  data?: Uint8Array;
  /** `done`: messages served over kShm. */
  served?: number;
  /** `error`: why. */
  message?: string;
}

/** The pool of act 1: N threads and one reply handler at a time. */
export class LocalWorkers {
  private handler: ((index: number, reply: WorkerReply) => void) | null = null;
  private failure: CliError | null = null;
  private failed: (err: CliError) => void = () => {};
  private readonly failedAt: Promise<never>;

  private constructor(readonly threads: readonly Worker[]) {
    this.failedAt = new Promise<never>((_, reject) => (this.failed = reject));
    // Rejections nobody races are still not unhandled: the run that is racing reports them.
    this.failedAt.catch(() => undefined);
    threads.forEach((w, i) => {
      w.on('message', (m: WorkerReply) => {
        if (m.op === 'error') this.fail(new CliError(`act 1 worker ${i}: ${m.message ?? 'failed'}`));
        else this.handler?.(i, m);
      });
      w.on('error', (err) => this.fail(new CliError(`act 1 worker ${i} crashed: ${err.message}`)));
      w.on('exit', (code) => this.fail(new CliError(`act 1 worker ${i} exited (code ${code})`)));
    });
  }

  /**
   * Starts `count` workers and waits until each has loaded its script.
   *
   * @param count - threads
   * @param manager - the shared memory they attach to
   * @param timeoutMs - longest wait for them to be ready
   * @throws CliError when one fails or is not ready in time
   */
  static async start(count: number, manager: MemoryManager, timeoutMs: number): Promise<LocalWorkers> {
    const threads = Array.from({ length: count }, () => startWorker(LOCAL_WORKER, { execArgv: [] }, manager));
    const pool = new LocalWorkers(threads);
    try {
      await pool.collect('ready', timeoutMs, 'to start');
      return pool;
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  /** Number of threads. */
  get size(): number {
    return this.threads.length;
  }

  /**
   * Routes every `pm` reply to `handler` until the next call (or `null`).
   *
   * @param handler - called with the worker's index and its reply
   */
  onReply(handler: ((index: number, reply: WorkerReply) => void) | null): void {
    this.handler = handler;
  }

  /**
   * A promise that rejects when any worker fails (for racing against a run's own waits); it never
   * resolves.
   */
  failure$(): Promise<never> {
    return this.failedAt;
  }

  /**
   * Tells every worker to bind its kShm channel and waits until all are bound.
   *
   * @param mode - the workload's kind
   * @param channelOf - the channel of worker i
   * @param nextOf - where worker i sends what it made: the consumer's channel, or in a chain the
   *   next stage's
   * @param capacity - ring slots of each worker's channel
   * @param timeoutMs - longest wait, also the workers' idle limit
   */
  async bind(mode: LocalMode, channelOf: (i: number) => string, nextOf: (i: number) => string, capacity: number, timeoutMs: number): Promise<void> {
    const bound = this.collect('bound', timeoutMs, 'to bind its channel');
    this.threads.forEach((w, i) => w.postMessage({ op: 'lbm', mode, channel: channelOf(i), results: nextOf(i), capacity, timeoutMs }));
    await bound;
  }

  /**
   * Links the workers into a row for the `postMessage` baseline of a chain: worker i gets a port
   * to worker i + 1, so payloads go from stage to stage without passing through this thread.
   * Until {@link LocalWorkers.unlinkChain}, the last stage answers this thread.
   */
  linkChain(): void {
    const links = Array.from({ length: this.threads.length - 1 }, () => new MessageChannel());
    this.threads.forEach((w, i) => {
      const out = i < links.length ? links[i].port1 : undefined;
      const inPort = i > 0 ? links[i - 1].port2 : undefined;
      w.postMessage({ op: 'pmlink', out, in: inPort }, [out, inPort].filter((p) => p !== undefined));
    });
  }

  /** Closes the ports of {@link LocalWorkers.linkChain}. */
  unlinkChain(): void {
    for (const w of this.threads) w.postMessage({ op: 'pmunlink' });
  }

  /**
   * Waits for every worker's `done` (each left its serve loop on a stop message).
   *
   * @returns messages served per worker
   */
  async finished(timeoutMs: number): Promise<number[]> {
    return (await this.collect('done', timeoutMs, 'to finish')).map((r) => r.served ?? 0);
  }

  /** Terminates the threads. Idempotent. */
  async close(): Promise<void> {
    this.handler = null;
    this.fail(new CliError('act 1 workers closed'));
    await Promise.all(this.threads.map((w) => w.terminate()));
  }

  private fail(err: CliError): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.failed(err);
  }

  /** Resolves with one `op` reply per worker, in worker order. */
  private collect(op: string, timeoutMs: number, what: string): Promise<WorkerReply[]> {
    return new Promise<WorkerReply[]>((resolve, reject) => {
      const got: Array<WorkerReply | undefined> = new Array(this.threads.length);
      let n = 0;
      const timer = setTimeout(() => finish(new CliError(`act 1: only ${n} of ${this.threads.length} workers managed ${what} within ${timeoutMs} ms`)), timeoutMs);
      const listeners = this.threads.map((w, i) => {
        const l = (m: WorkerReply): void => {
          if (m.op !== op || got[i] !== undefined) return;
          got[i] = m;
          if (++n === this.threads.length) finish(null);
        };
        w.on('message', l);
        return l;
      });
      const onFail = this.failure$().catch((err: CliError) => finish(err));
      void onFail;
      const finish = (err: CliError | null): void => {
        clearTimeout(timer);
        this.threads.forEach((w, i) => w.removeListener('message', listeners[i]));
        if (err !== null) reject(err);
        else resolve(got as WorkerReply[]);
      };
    });
  }
}
