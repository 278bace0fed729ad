/**
 * The demo's progress: one bar over both acts with a measured ETA (see eta.ts). On output
 * that is not a terminal the bar is not drawn; each step prints its own result line instead.
 */
import { EtaClock } from './eta.js';
import type { Progress } from '../common/progress.js';

/** Runs the demo's steps and shows how far it is. */
export class DemoSteps {
  private readonly eta: EtaClock;

  /**
   * @param progress - the display
   * @param keys - every step's key, in the order they will run
   */
  constructor(
    private readonly progress: Progress,
    keys: readonly string[],
  ) {
    this.eta = new EtaClock(keys);
  }

  /** Shows the bar (a terminal) at 0. */
  start(): void {
    this.progress.start(this.eta.total, 'lightbeam demo');
    this.progress.update(0, this.eta.etaText());
  }

  /**
   * Runs one step.
   *
   * @param key - the step's key, as given to the constructor
   * @param body - the step; it reports its own progress as a fraction 0..1
   */
  async run<T>(key: string, body: (onFraction: (f: number) => void) => Promise<T>): Promise<T> {
    this.eta.begin(key);
    const show = (f: number): void => {
      this.eta.progress(f);
      this.progress.update(this.eta.value, this.eta.etaText());
    };
    show(0);
    const r = await body(show);
    this.eta.end();
    this.progress.update(this.eta.value, this.eta.etaText());
    return r;
  }

  /**
   * Prints a line above the bar.
   *
   * @param line - the text
   */
  log(line: string): void {
    this.progress.log(line);
  }

  /** Removes the bar. */
  stop(): void {
    this.progress.stop();
  }
}
