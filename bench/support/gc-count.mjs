// Counts garbage collections during a section of code, to check that a per-message path
// allocates nothing in steady state (STYLE.md, hot paths): over 100k messages a path that
// allocates even a few bytes per message triggers young-generation collections (scavenges),
// one that allocates nothing triggers none. Plain .mjs so worker threads import the same code
// without a TypeScript loader; bench/support/gc-count.ts re-exports it for the TypeScript benches.
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';

// GC entries reach an observer late: V8's GC epilogue queues a native immediate that creates the
// entry, and the entry is then handed to observers from a JS setImmediate. This long a timer lets
// both hops run (even on a loaded machine) before stop() reads the count.
const SETTLE_MS = 25;

/**
 * Garbage collections counted between `start()` and `stop()`.
 * @typedef {object} GcCount
 * @property {number} young young-generation collections (scavenges, `NODE_PERFORMANCE_GC_MINOR`)
 * @property {number} all collections of every kind (young, mark-sweep, incremental, weak callbacks)
 */

/**
 * Counts the GCs of the current thread (main or worker) that start between `start()` and
 * `stop()`. Use: `const gc = new GcCounter(); gc.start(); section(); const { young } = await
 * gc.stop();`. Entries are matched by their start time, so collections from before `start()`
 * that are delivered late, and the ones the settling timer itself causes, do not count.
 */
export class GcCounter {
  /** @type {PerformanceObserver | null} */
  #observer = null;
  #from = 0;
  #to = Infinity;
  #young = 0;
  #all = 0;

  /** Starts counting. Throws if this counter is already running. */
  start() {
    if (this.#observer !== null) throw new Error('GcCounter.start: already started');
    this.#young = 0;
    this.#all = 0;
    this.#to = Infinity;
    this.#observer = new PerformanceObserver((list) => this.#take(list.getEntries()));
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#from = performance.now();
  }

  /**
   * Stops counting: yields long enough for the section's GC entries to arrive, then reports.
   * @returns {Promise<GcCount>}
   */
  async stop() {
    const observer = this.#observer;
    if (observer === null) throw new Error('GcCounter.stop: not started');
    this.#to = performance.now();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    await new Promise((resolve) => setImmediate(resolve));
    this.#take(observer.takeRecords());
    observer.disconnect();
    this.#observer = null;
    return { young: this.#young, all: this.#all };
  }

  /** @param {readonly import('node:perf_hooks').PerformanceEntry[]} entries */
  #take(entries) {
    for (const e of entries) {
      if (e.startTime < this.#from || e.startTime > this.#to) continue;
      this.#all++;
      // `detail` ({ kind, flags }) is where Node >= 16 puts a GC entry's kind.
      const kind = /** @type {{ detail?: { kind?: number } }} */ (e).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) this.#young++;
    }
  }
}
