/**
 * The demo's time to go, from what it measured: the demo is a fixed list of steps (each path of
 * each workload, each run), and every run repeats the steps of the first. A step already timed in
 * an earlier run is expected to take as long again; one never timed, as long as the average step
 * so far. Before anything finished there is no honest estimate, and the bar says so.
 */

/** Tracks steps done and predicts the rest. */
export class EtaClock {
  private readonly took = new Map<string, number>();
  private done = 0;
  private doneMs = 0;
  private current: { key: string; t0: number; fraction: number } | null = null;

  /**
   * @param steps - the key of every step, in order (a key repeats once per run)
   */
  constructor(private readonly steps: readonly string[]) {}

  /** Steps in all. */
  get total(): number {
    return this.steps.length;
  }

  /** Steps done plus the fraction of the current one: the bar's value. */
  get value(): number {
    return this.done + (this.current?.fraction ?? 0);
  }

  /**
   * Starts the next step.
   *
   * @param key - its key, as listed at construction
   */
  begin(key: string): void {
    this.current = { key, t0: performance.now(), fraction: 0 };
  }

  /**
   * Reports how far the current step is.
   *
   * @param fraction - 0 to 1
   */
  progress(fraction: number): void {
    if (this.current !== null) this.current.fraction = Math.min(1, Math.max(0, fraction));
  }

  /** Ends the current step and records its time. */
  end(): void {
    if (this.current === null) return;
    const ms = performance.now() - this.current.t0;
    this.took.set(this.current.key, ms);
    this.doneMs += ms;
    this.done++;
    this.current = null;
  }

  /** Seconds to go, or `null` while no step has finished. */
  etaSeconds(): number | null {
    if (this.done === 0) return null;
    const avg = this.doneMs / this.done;
    let ms = 0;
    for (let i = this.done; i < this.steps.length; i++) ms += this.took.get(this.steps[i]) ?? avg;
    if (this.current !== null) {
      const expect = this.took.get(this.current.key) ?? avg;
      ms -= Math.min(expect, performance.now() - this.current.t0);
    }
    return Math.max(0, ms / 1000);
  }

  /** The ETA as the bar shows it: `12s`, `1m05s`, or `estimating` before the first step ends. */
  etaText(): string {
    const s = this.etaSeconds();
    if (s === null) return 'estimating';
    const r = Math.round(s);
    return r >= 60 ? `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s` : `${r}s`;
  }
}
