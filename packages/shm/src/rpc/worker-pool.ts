/**
 * A worker pool over `Transport.kShm`: `pool.run(name, meta)` calls a handler in one of N worker
 * threads through RPC, so a meta's BULK_EXPOSE bulks in shared memory reach the worker as live
 * views (no copy, no structured clone). Each worker serves its own channel and has its own
 * `RpcClient` in the pool's thread; a call goes to the ready worker with the fewest calls in
 * flight, at most `concurrency` per worker, the rest wait in a queue bounded by `maxQueue`.
 *
 * A worker that exits (crash, `process.exit`, `terminate()`) has its calls rejected with
 * `ERR_LBM_RPC_PEER_LOST` and is replaced; queued calls go to the replacement.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import type { LbmMeta, RpcCallOptions } from '@lightbeam/core';
import { ECANCELED, ECONNRESET, ETIMEDOUT, LightbeamError, RpcClient, RpcReplyBell, Transport, callError } from '@lightbeam/core';
import type { MemoryManager } from '../memory/memory-manager.js';
import { defaultMemory, startWorker } from '../workers/default-memory.js';
import { RPC_POOL_KEY, RPC_POOL_READY } from './worker.js';

/** Options of {@link createRpcPool}. */
export interface RpcPoolOptions {
  /**
   * Worker threads.
   * @defaultValue `os.availableParallelism()`
   */
  workers?: number;
  /**
   * Calls in flight per worker; more wait in the pool's queue.
   * @defaultValue 64
   */
  concurrency?: number;
  /**
   * Calls waiting for a worker; beyond it `run` rejects `ERR_LBM_RPC_QUEUE_FULL` (await
   * {@link RpcWorkerPool.ready} before submitting more).
   * @defaultValue 1024
   */
  maxQueue?: number;
  /**
   * Timeout of calls that give none (queue time included).
   * @defaultValue 30000
   */
  defaultTimeoutMs?: number;
  /**
   * A worker that exits before it reports ready this many times in a row stops the pool from
   * replacing workers (its script is broken): queued calls are rejected.
   * @defaultValue 3
   */
  maxStartFailures?: number;
  /**
   * Microseconds each end (the worker's RPC server, the pool's RPC clients) polls an empty
   * channel before parking, once per wake-up: a reply or request that arrives within it costs no
   * wake-up. (The transport's own adaptive spin is off for these endpoints: the RPC loops spin.)
   * @defaultValue 50
   */
  spinUs?: number;
  /**
   * Idle workers block their thread up to this many ms at a time waiting for a call (the fastest
   * wake-up, no CPU while waiting; see `RpcServerOptions.blockWhenIdleMs`); 0 parks them on the
   * event loop instead (for workers that also serve timers or other I/O).
   * @defaultValue 10
   */
  blockWhenIdleMs?: number;
  /** `Worker` options (`workerData` must be an object or undefined; the channel is added). */
  workerOptions?: WorkerOptions;
  /** The memory the workers attach to (the thread's by default). */
  manager?: MemoryManager;
}

/** Counters of an {@link RpcWorkerPool}. */
export interface RpcPoolStats {
  /** Calls resolved with a reply. */
  completed: number;
  /** Calls rejected (handler failures, timeouts, cancels, lost workers, close). */
  failed: number;
  /** Workers that exited while the pool was open, each replaced. */
  workersLost: number;
}

interface Slot {
  worker: Worker;
  /** The worker's thread id, kept: `worker.threadId` reads -1 once it exited. */
  threadId: number;
  channel: string;
  /** The bell the worker rings once per burst of replies; the slot's client waits on it. */
  bell: RpcReplyBell;
  client: RpcClient | null;
  ready: boolean;
  dead: boolean;
  inFlight: number;
  /** Counts a settled call and frees its place (the client calls it); made once per worker. */
  settled: (ok: boolean) => void;
}

interface Job {
  name: string;
  meta: LbmMeta;
  opts: RpcCallOptions<LbmMeta>;
  deadline: number;
  resolve: (m: LbmMeta) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
}

/** N worker threads serving RPC handlers over shared memory; see {@link createRpcPool}. */
export class RpcWorkerPool {
  /** Counters since creation. */
  readonly stats: RpcPoolStats = { completed: 0, failed: 0, workersLost: 0 };
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly waitingForRoom: Array<() => void> = [];
  private readonly waitingForStart: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private readonly defaultTimeoutMs: number;
  private readonly maxStartFailures: number;
  private readonly spinUs: number;
  private startFailures = 0;
  private closing: Promise<void> | null = null;
  private broken: LightbeamError | null = null;

  /**
   * @param filename - the worker script; it calls `serveRpcWorker`
   * @param options - sizes and limits
   */
  constructor(
    private readonly filename: string | URL,
    private readonly options: RpcPoolOptions = {},
  ) {
    const n = options.workers ?? availableParallelism();
    this.concurrency = options.concurrency ?? 64;
    this.maxQueue = options.maxQueue ?? 1024;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.maxStartFailures = options.maxStartFailures ?? 3;
    this.spinUs = options.spinUs ?? 50;
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`createRpcPool workers must be a positive integer, got ${n}`);
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`createRpcPool concurrency must be a positive integer, got ${this.concurrency}`);
    if (!Number.isSafeInteger(this.maxQueue) || this.maxQueue < 0) throw new RangeError(`createRpcPool maxQueue must be a non-negative integer, got ${this.maxQueue}`);
    // Create the memory first, so every worker attaches to the same one.
    options.manager ?? defaultMemory();
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  /** Worker threads (alive or starting). */
  get size(): number {
    return this.slots.length;
  }

  /** The worker threads now in the pool (a replaced worker is no longer listed). */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Calls waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Calls running in the workers. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.slots) n += s.inFlight;
    return n;
  }

  /** Resolves once every worker reported ready (or the pool closed or broke). */
  started(): Promise<void> {
    if (this.closing !== null || this.broken !== null || this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((r) => this.waitingForStart.push(r));
  }

  private notifyStarted(): void {
    if (this.closing !== null || this.broken !== null || this.slots.every((s) => s.ready)) for (const r of this.waitingForStart.splice(0)) r();
  }

  /** Resolves when the queue has room for another `run` (backpressure: await it before submitting). */
  ready(): Promise<void> {
    if (this.queue.length < this.maxQueue || this.closing !== null) return Promise.resolve();
    return new Promise((r) => this.waitingForRoom.push(r));
  }

  /**
   * Calls handler `name` in a worker with `meta` as the request; resolves its reply. EXPOSE bulks
   * of `meta` in shared memory are seen by the worker in place; keep them alive until it settles.
   *
   * @param name - the handler's name
   * @param meta - the request
   * @param opts - timeout (queue time included), signal, reply meta factory
   * @throws LightbeamError (rejects) `ERR_LBM_RPC_QUEUE_FULL` at the queue's bound,
   *   `ERR_LBM_RPC_PEER_LOST` when the worker exits mid-call, `ERR_LBM_CLOSED` after close,
   *   and what `RpcClient.call` rejects with
   */
  run<R extends LbmMeta = LbmMeta>(name: string, meta: LbmMeta, opts: RpcCallOptions<R> = {}): Promise<R> {
    if (this.closing !== null) return Promise.reject(new LightbeamError('ERR_LBM_CLOSED', `pool run ${name}: the pool is closed`));
    if (this.broken !== null) return Promise.reject(this.broken);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const slot = this.pick();
    // The pool's default timeout is its clients' default too: opts go as they are, not copied.
    if (slot !== null && this.queue.length === 0) return this.dispatch(slot, name, meta, opts as RpcCallOptions<LbmMeta>) as Promise<R>;
    if (this.queue.length >= this.maxQueue) {
      this.stats.failed++;
      return Promise.reject(new LightbeamError('ERR_LBM_RPC_QUEUE_FULL', `pool run ${name}: ${this.queue.length} calls queued (maxQueue)`));
    }
    return new Promise<R>((resolve, reject) => {
      const job: Job = { name, meta, opts: opts as RpcCallOptions<LbmMeta>, deadline: performance.now() + timeoutMs, resolve: resolve as (m: LbmMeta) => void, reject, timer: undefined, onAbort: undefined };
      if (timeoutMs !== Infinity) job.timer = setTimeout(() => this.dropQueued(job, callError(name, ETIMEDOUT, 'waiting in the pool queue')), timeoutMs);
      if (opts.signal !== undefined) {
        if (opts.signal.aborted) return reject(callError(name, ECANCELED, 'before queueing'));
        job.onAbort = () => this.dropQueued(job, callError(name, ECANCELED, 'waiting in the pool queue'));
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
    });
  }

  /**
   * Rejects queued calls and calls in flight with `ERR_LBM_CLOSED`, closes the clients and
   * terminates the workers. Idempotent; resolves when every worker has exited.
   */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = new LightbeamError('ERR_LBM_CLOSED', 'pool closed before the call ran');
    for (const job of this.queue.splice(0)) this.failJob(job, closed);
    for (const r of this.waitingForRoom.splice(0)) r();
    this.notifyStarted();
    await Promise.all(
      this.slots.map(async (s) => {
        s.dead = true;
        await s.client?.close();
        await s.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const channel = `lbm-pool-${randomUUID()}`;
    const base = this.options.workerOptions ?? {};
    const bell = new RpcReplyBell();
    const workerData = { ...(base.workerData as object | undefined), [RPC_POOL_KEY]: { channel, spinUs: this.spinUs, blockWhenIdleMs: this.options.blockWhenIdleMs ?? 10, replyBell: bell.buffer } };
    const worker = startWorker(this.filename, { ...base, workerData }, this.options.manager ?? defaultMemory());
    const slot: Slot = {
      worker,
      threadId: worker.threadId,
      channel,
      bell,
      client: null,
      ready: false,
      dead: false,
      inFlight: 0,
      settled: (ok) => {
        if (ok) this.stats.completed++;
        else this.stats.failed++;
        this.done(slot);
      },
    };
    worker.on('message', (msg: unknown) => {
      if (msg === RPC_POOL_READY && !slot.ready && !slot.dead) void this.onReady(slot);
    });
    // Without a listener an 'error' event would be thrown in this thread; 'exit' follows it.
    worker.on('error', () => undefined);
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private async onReady(slot: Slot): Promise<void> {
    try {
      const client = await RpcClient.connect(Transport.kShm, slot.channel, { defaultTimeoutMs: this.defaultTimeoutMs, spinUs: this.spinUs, replyServerOptions: { spinUs: 0 }, replyBell: slot.bell, onSettled: slot.settled });
      if (slot.dead || this.closing !== null) {
        await client.close();
        return;
      }
      slot.client = client;
      slot.ready = true;
      this.startFailures = 0;
      this.pump();
      this.notifyStarted();
    } catch {
      await slot.worker.terminate();
    }
  }

  private onExit(slot: Slot, code: number): void {
    const wasReady = slot.ready;
    slot.dead = true;
    slot.ready = false;
    const client = slot.client;
    slot.client = null;
    if (client !== null) {
      client.failPending(new LightbeamError('ERR_LBM_RPC_PEER_LOST', `pool worker ${slot.threadId} exited (code ${code}) during the call`, { errno: ECONNRESET }));
      void client.close();
    }
    if (this.closing !== null) return;
    this.stats.workersLost++;
    if (!wasReady && ++this.startFailures >= this.maxStartFailures) {
      this.broken = new LightbeamError('ERR_LBM_RPC_PEER_LOST', `pool workers of ${String(this.filename)} exited ${this.startFailures} times before reporting ready`, { errno: ECONNRESET });
      for (const job of this.queue.splice(0)) this.failJob(job, this.broken);
      this.notifyStarted();
      return;
    }
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots[at] = this.spawn();
  }

  /** The ready worker with the fewest calls in flight below `concurrency`, or `null`. */
  private pick(): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (s.ready && !s.dead && s.inFlight < this.concurrency && (best === null || s.inFlight < best.inFlight)) best = s;
    }
    return best;
  }

  private dispatch(slot: Slot, name: string, meta: LbmMeta, opts: RpcCallOptions<LbmMeta>): Promise<LbmMeta> {
    slot.inFlight++;
    const client = slot.client as RpcClient;
    // The client counts the call out (slot.settled) as it settles: its promise goes to the caller as it is.
    return client.call(name, meta, opts);
  }

  private done(slot: Slot): void {
    slot.inFlight--;
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.pick();
      if (slot === null) break;
      const job = this.queue.shift() as Job;
      this.unwatch(job);
      const left = job.deadline - performance.now();
      if (left <= 0) {
        this.failJob(job, callError(job.name, ETIMEDOUT, 'waiting in the pool queue'));
        continue;
      }
      this.dispatch(slot, job.name, job.meta, { ...job.opts, timeoutMs: left }).then(job.resolve, job.reject);
    }
    while (this.waitingForRoom.length > 0 && this.queue.length < this.maxQueue) (this.waitingForRoom.shift() as () => void)();
  }

  private dropQueued(job: Job, err: Error): void {
    const at = this.queue.indexOf(job);
    if (at < 0) return;
    this.queue.splice(at, 1);
    this.failJob(job, err);
    this.pump();
  }

  private failJob(job: Job, err: Error): void {
    this.unwatch(job);
    this.stats.failed++;
    job.reject(err);
  }

  private unwatch(job: Job): void {
    if (job.timer !== undefined) clearTimeout(job.timer);
    if (job.onAbort !== undefined) job.opts.signal?.removeEventListener('abort', job.onAbort);
  }
}

/**
 * Starts a pool of `options.workers` threads running `filename` (which calls `serveRpcWorker`).
 *
 * @param filename - the worker script, a path or file URL
 * @param options - sizes, limits, worker options, memory
 */
export function createRpcPool(filename: string | URL, options: RpcPoolOptions = {}): RpcWorkerPool {
  return new RpcWorkerPool(filename, options);
}
