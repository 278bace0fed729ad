/**
 * Fault handling for threads that die: a watcher marks the rings a dead thread served as dead,
 * so waiting senders settle with `ECONNRESET`, and reclaims the messages queued in them.
 */
import type { Worker } from 'node:worker_threads';
import { RING_OPEN } from '../ring/ring.js';
import type { Ring } from '../ring/ring.js';
import { channelDirectory, currentTransportMemory, ringAt, transportMemory } from '../transport/channels.js';
import { ShmServer } from '../transport/server.js';
import type { ShmMemory } from '../transport/transport-memory.js';

/**
 * Marks every open channel served by thread `deadThreadId` dead and frees its queued messages.
 *
 * @param deadThreadId - `threadId` of a thread that exited
 * @param memory - the domain's memory (the calling thread's by default)
 * @returns how many channels were reaped
 */
export function reapThread(deadThreadId: number, memory: ShmMemory = transportMemory()): number {
  // No directory yet means no channel to reap: do not create one (the memory may be full).
  if (memory.directoryIfAny?.() === null) return 0;
  let n = 0;
  for (const ptr of channelDirectory(memory).rings()) {
    let ring: Ring;
    try {
      ring = ringAt(memory, ptr);
    } catch {
      // A ring this build cannot read (another layout version, a corrupt header) is not ours to
      // reap; the rest of the directory still is.
      continue;
    }
    if (ring.owner === deadThreadId && ring.state === RING_OPEN) {
      ShmServer.reap(memory, ring);
      n++;
    }
  }
  return n;
}

/**
 * Watches a worker thread: when it exits (normally, by error or `terminate()`), the channels it
 * served are marked dead, their queued messages reclaimed, and the blocks cached by the thread's
 * allocator returned (as `MemoryManager.watch` does). Call it in the thread that created
 * the worker, after the memory manager exists.
 *
 * @param worker - the worker to watch
 * @returns the worker, for chaining
 */
export function watchWorker(worker: Worker): Worker {
  const memory = transportMemory();
  // threadId reads -1 after exit, so capture it now.
  const id = worker.threadId;
  worker.once('exit', () => {
    reapThread(id, memory);
    memory.reclaimThread?.(id);
  });
  return worker;
}

/**
 * Every worker this thread creates is watched without the application's help: when it exits, the
 * channels it served are reaped and the thread slots and blocks its allocators held reclaimed, in
 * whatever memory this thread has by then. (A worker that never used shared memory costs one
 * directory scan at exit.)
 */
function watchEveryWorker(worker: Worker): void {
  const id = worker.threadId;
  worker.once('exit', () => {
    const memory = currentTransportMemory();
    if (memory === null) return;
    try {
      reapThread(id, memory);
      memory.reclaimThread?.(id);
    } catch {
      // An exit listener must not throw into the application: what could not be reclaimed here
      // stays for an explicit watchWorker or reapThread.
    }
  });
}

process.on('worker', watchEveryWorker);
