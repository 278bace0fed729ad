/**
 * Options and statistics of the slab allocator.
 */
import type { AllocatorId } from '@lightbeam/core';

/** Options for {@link SlabAllocator.create}. */
export interface SlabAllocatorOptions {
  /** Bytes per page of the page heap: a power of two, at least 4096. @defaultValue 65536 */
  pageBytes?: number;
  /** Threads that can allocate from the region at once (each needs a slot). At most 250. @defaultValue 64 */
  threadSlots?: number;
  /** Allocator id major. @defaultValue 0 */
  major?: number;
  /** Allocator id minor. @defaultValue 0 */
  minor?: number;
}

/** Per size class figures in {@link SlabStats}. */
export interface SizeClassStats {
  /** Block size of the class in bytes (64 .. 1 MiB). */
  blockBytes: number;
  /** Blocks allocated and not yet freed. */
  blocksInUse: number;
  /** `blocksInUse * blockBytes`. */
  bytesInUse: number;
  /** Blocks of this class that are free (in the shared list or in some thread's cache). */
  freeBlocks: number;
  /** Blocks ever carved from the page heap into this class (pages stay with their class). */
  carvedBlocks: number;
}

/** A snapshot of one region; exact when no thread is allocating or freeing meanwhile. */
export interface SlabStats {
  /** The region's allocator id. */
  allocId: AllocatorId;
  /** Size of the SharedArrayBuffer. */
  regionBytes: number;
  /** Bytes of pages available to blocks (the region minus header and tables). */
  dataBytes: number;
  /** Bytes per page. */
  pageBytes: number;
  /** One entry per size class, smallest first. */
  classes: SizeClassStats[];
  /** Large blocks (above 1 MiB, whole pages) in use. */
  largeBlocksInUse: number;
  /** Bytes of pages held by large blocks in use. */
  largeBytesInUse: number;
  /** All blocks in use, size-class and large. */
  blocksInUse: number;
  /** All bytes in use (block sizes, not requested sizes). */
  bytesInUse: number;
  /**
   * Free bytes: free pages of the heap plus free size-class blocks (cached ones included). Pages
   * carved into a size class stay with that class, so a large request may find less than this:
   * see {@link SlabStats.largestFreeBytes}.
   */
  freeBytes: number;
  /** The largest block a request can get now: the longest run of free pages, or a free size-class block if larger. */
  largestFreeBytes: number;
  /** Free pages of the page heap, in bytes. */
  heapFreeBytes: number;
  /** The most bytes of pages ever taken from the page heap at once. */
  highWaterBytes: number;
}
