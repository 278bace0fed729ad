/** Options and attach handle of the memory manager. */

/** Options for {@link MemoryManager.create}. */
export interface MemoryManagerOptions {
  /** Bytes of each region (SharedArrayBuffer), at most 1 GiB. @defaultValue 67108864 (64 MiB) */
  regionBytes?: number;
  /** Page size of each region's page heap (power of two, at least 4096). @defaultValue 65536 */
  pageBytes?: number;
  /** Threads that may allocate at once (slots per region). @defaultValue 64 */
  threadSlots?: number;
  /**
   * Allocator id major of every region (the region index is the minor). Managers in one process
   * get distinct majors by default, so a pointer from one is never taken for a block of another.
   * @defaultValue a random integer in [1, 2^30)
   */
  major?: number;
  /**
   * Replace this thread's manager (its pointer resolver and the shared-memory transport's
   * memory) when the thread already has one that is not detached. Without it, a second `create`
   * in one thread throws instead of silently taking over.
   * @defaultValue false
   */
  replace?: boolean;
  /** Most regions the manager grows to; 1 disables growth. At most 256. @defaultValue 16 */
  maxRegions?: number;
}

/** Everything another thread needs to attach: structured-cloneable (workerData or postMessage). */
export interface MemoryManagerHandle {
  /** Format tag. */
  readonly kind: 'lightbeam.shm.v1';
  /** Names the manager's BroadcastChannel. */
  readonly id: string;
  /** The control buffer. */
  readonly control: SharedArrayBuffer;
  /** Regions known to the thread that made the handle, by minor. */
  readonly regions: readonly {
    /** The region's allocator minor id. */
    readonly minor: number;
    /** The region's bytes. */
    readonly sab: SharedArrayBuffer;
  }[];
}
