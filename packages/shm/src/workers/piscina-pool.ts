/**
 * Piscina pools whose workers share the thread's memory: the manager's handle travels in
 * `workerData`, the worker attaches with {@link attachFromWorkerData}, and a task can then carry
 * a `Pointer` (16 bytes) instead of its bytes.
 *
 * Caches: a pool worker's cached free blocks (at most two batches per size class and region)
 * go back to the shared lists when the worker calls `manager.detach()`, or when the creating
 * thread calls `manager.reclaimThread(threadId)` after the worker exited; the pool's
 * `workerDestroy` event happens before the exit, so it is not wired automatically.
 */
import { workerData as threadWorkerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { MemoryManager } from '../memory/memory-manager.js';
import type { MemoryManagerHandle } from '../memory/manager-types.js';
import { WORKER_DATA_KEY, defaultMemory, withMemoryHandle } from './default-memory.js';

/** Piscina's constructor options. */
export type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/** Options for {@link createPool}: piscina's options plus the memory to share. */
export interface ShmPoolOptions extends PiscinaOptions {
  /**
   * The memory the workers attach to.
   * @defaultValue the calling thread's (the embedded default unless a manager exists)
   */
  manager?: MemoryManager;
}

/**
 * Creates a piscina pool whose workers can attach to `manager`'s memory. The user's own
 * `workerData` (an object or undefined) is kept; the handle is added under {@link WORKER_DATA_KEY}.
 *
 * @param options - piscina options plus `manager`
 * @throws TypeError when `workerData` is not an object
 */
export function createPool<T = unknown, R = unknown>(options: ShmPoolOptions = {}): Piscina<T, R> {
  const { manager, workerData, ...rest } = options;
  return new Piscina<T, R>({ ...rest, workerData: withMemoryHandle(workerData, manager ?? defaultMemory()) });
}

/**
 * In a worker started by {@link createPool} or `startWorker` (or any worker given
 * `{ lightbeamShm: handle }`): attaches once and returns the thread's manager; later calls return
 * the same manager.
 *
 * @param data - the worker's `workerData` (the thread's by default)
 * @throws TypeError when the data carries no handle
 */
export function attachFromWorkerData(data: unknown = threadWorkerData): MemoryManager {
  const existing = MemoryManager.current();
  if (existing !== null) return existing;
  const handle = (data as Record<string, unknown> | null)?.[WORKER_DATA_KEY] as MemoryManagerHandle | undefined;
  if (handle === undefined) throw new TypeError(`attachFromWorkerData: workerData has no ${WORKER_DATA_KEY} handle (start the worker with startWorker or createPool, or pass manager.handle())`);
  return MemoryManager.attach(handle);
}
