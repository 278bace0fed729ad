// Types of bench/support/gc-count.mjs.

/** Garbage collections counted between `start()` and `stop()`. */
export interface GcCount {
  /** Young-generation collections (scavenges, `NODE_PERFORMANCE_GC_MINOR`). */
  readonly young: number;
  /** Collections of every kind. */
  readonly all: number;
}

/**
 * Counts the current thread's GCs (main or worker) that start between `start()` and `stop()`;
 * `stop()` yields so the asynchronously delivered GC entries arrive before it reports.
 */
export declare class GcCounter {
  /** Starts counting. Throws if already started. */
  start(): void;
  /** Stops counting, after letting pending GC entries arrive. */
  stop(): Promise<GcCount>;
}
