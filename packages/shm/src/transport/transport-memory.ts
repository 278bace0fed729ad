/**
 * What the shared-memory transport needs from the thread's memory manager. Kept as a narrow
 * interface so the transport's logic does not depend on the allocator's internals.
 */
import type { AllocatorId, FullPtr, Pointer } from '@lightbeam/core';

/** The memory operations the transport uses. */
export interface ShmMemory {
  /** Allocates `size` bytes (8-byte aligned); `null` when memory is exhausted. */
  allocate(size: number): Pointer | null;
  /** Frees a block returned by `allocate` (in any thread). */
  free(p: Pointer): void;
  /** Usable bytes of the live block starting at `p`, or -1 when none starts there. */
  blockBytes(p: Pointer): number;
  /** The largest block `allocate` can ever return (a region's data bytes). */
  maxBlockBytes(): number;
  /** The SharedArrayBuffer of a region, or `null` when this thread does not know it. */
  regionBuffer(id: AllocatorId): SharedArrayBuffer | null;
  /** A live view of `size` bytes at `p`, or `null` for an unknown region or an out-of-range span. */
  resolve(p: Pointer, size: number): FullPtr | null;
  /**
   * The pointer of the domain's channel directory, creating it with `create` the first time any
   * thread asks (exactly one thread's `create` wins; the others get the winner's pointer).
   */
  directory(create: () => Pointer): Pointer;
  /** The directory pointer if any thread created it, else `null`; never creates one. */
  directoryIfAny?(): Pointer | null;
  /**
   * True when region `{major, minor}` exists in the domain but has not reached this thread yet
   * (a region added by another thread is announced asynchronously); see `sync`.
   */
  regionPending?(major: number, minor: number): boolean;
  /** Waits until this thread knows every region created so far; rejects after `timeoutMs`. */
  sync?(timeoutMs?: number): Promise<void>;
  /**
   * True while thread `id` may still write block `p` (it holds a slot of `p`'s region); false once
   * it is known to have exited. A memory without it: the server frees a skipped slot's block.
   */
  threadMayUse?(p: Pointer, id: number): boolean;
  /** Returns the blocks an exited thread held in its caches; called by watchers. */
  reclaimThread?(deadThreadId: number): number;
}
