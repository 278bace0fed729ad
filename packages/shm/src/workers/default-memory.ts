/**
 * The embedded default shared memory: a thread that uses `Transport.kShm` (or any helper of this
 * package) without a `MemoryManager` gets one on first use. The main thread creates it, sized by
 * the `LIGHTBEAM_SHM_REGION_BYTES` environment variable (64 MiB regions by default, growing by
 * regions as needed); a worker started with {@link startWorker} or `createPool` attaches to its
 * creator's from `workerData`. An application that wants other options creates its manager
 * first; that one is then the thread's.
 */
import { Worker, isMainThread, workerData as threadWorkerData } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import { LightbeamError } from '@lightbeam/core';
import { MemoryManager } from '../memory/memory-manager.js';
import type { MemoryManagerHandle } from '../memory/manager-types.js';
import { setMemoryFallback } from '../transport/channels.js';
import { typeScriptBoot, typeScriptEntry } from './ts-worker.js';

/** The `workerData` key that carries the memory's handle to a worker. */
export const WORKER_DATA_KEY = 'lightbeamShm';
/** Environment variable: bytes of each region of the embedded default memory. */
export const REGION_BYTES_ENV = 'LIGHTBEAM_SHM_REGION_BYTES';
/** Region bytes of the embedded default when the environment does not say. */
export const DEFAULT_REGION_BYTES = 64 * 1024 * 1024;

/**
 * Region bytes for the embedded default, from {@link REGION_BYTES_ENV}.
 *
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` naming the variable when it is not a positive integer
 */
export function defaultRegionBytes(): number {
  const raw = process.env[REGION_BYTES_ENV];
  if (raw === undefined || raw === '') return DEFAULT_REGION_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `${REGION_BYTES_ENV} must be a positive integer of bytes, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The calling thread's memory manager: the one it created or attached, else the embedded default
 * (created in the main thread, attached from `workerData` in a worker started by this package).
 *
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` in a worker that has neither
 */
export function defaultMemory(): MemoryManager {
  const m = MemoryManager.current() ?? installDefault();
  if (m === null) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `no shared memory in this worker and no ${WORKER_DATA_KEY} handle in its workerData: start it with startWorker() or createPool()`);
  }
  return m;
}

function installDefault(): MemoryManager | null {
  if (isMainThread) return MemoryManager.create({ regionBytes: defaultRegionBytes() });
  const handle = (threadWorkerData as Record<string, unknown> | null | undefined)?.[WORKER_DATA_KEY] as MemoryManagerHandle | undefined;
  return handle === undefined ? null : MemoryManager.attach(handle);
}

/**
 * `workerData` with the handle of `manager` added under {@link WORKER_DATA_KEY}, the caller's
 * own data kept.
 *
 * @param workerData - the caller's workerData: an object or undefined
 * @param manager - the memory to share
 * @throws TypeError when `workerData` is not an object
 */
export function withMemoryHandle(workerData: unknown, manager: MemoryManager): Record<string, unknown> {
  if (workerData !== undefined && (workerData === null || typeof workerData !== 'object')) {
    throw new TypeError(`workerData must be an object or undefined to carry the shared memory, got ${workerData === null ? 'null' : typeof workerData}`);
  }
  return { ...(workerData as object | undefined), [WORKER_DATA_KEY]: manager.handle() };
}

/**
 * Starts a worker thread attached to this thread's shared memory (the embedded default unless a
 * manager exists): in the worker, `Transport.kShm` and `attachFromWorkerData()` find it with no
 * further setup. Watching is not this function's doing: importing this package installs a
 * `process.on('worker')` hook that watches every worker the thread creates (this one, a piscina
 * pool's, a plain `new Worker`), so that when one exits the channels it served are marked dead
 * and the blocks it cached reclaimed.
 *
 * A TypeScript script (`.ts`, `.mts`, `.cts`, `.tsx`) runs when this process runs under tsx 4
 * (`npx tsx`, `node --import tsx`): a compiled bootstrap registers tsx's loader in the worker
 * first, which Node 20 does not do for a worker's entry by itself. Otherwise it is refused at once.
 *
 * @param filename - the worker's script (a path or file URL, as for `new Worker`)
 * @param options - `Worker` options; `workerData` must be an object or undefined
 * @param manager - the memory to share (this thread's by default)
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a TypeScript script when this process
 *   does not run under tsx, saying what to do
 */
export function startWorker(filename: string | URL, options: WorkerOptions = {}, manager: MemoryManager = defaultMemory()): Worker {
  const workerData = withMemoryHandle(options.workerData, manager);
  const ts = typeScriptEntry(filename, options);
  if (ts === null) return new Worker(filename, { ...options, workerData });
  const boot = typeScriptBoot(ts, workerData);
  return new Worker(boot.filename, { ...options, workerData: boot.workerData });
}

setMemoryFallback(() => {
  installDefault();
});
