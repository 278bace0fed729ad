/**
 * What ends a parked receive of the shared-memory server (server.ts) other than a message: the
 * park's deadline, the caller's `AbortSignal` and close. The park waits on the ring's data bell
 * with no timeout and no race around it; each of these rings the bell itself (`interrupt`), and
 * the park's loop sees why it woke.
 */
import type { Ring } from '../ring/ring.js';

/** The deadline timer and the watched signal of one server's parks. */
export class ParkAlarms {
  /** True while the server's park waits on the data bell. */
  parked = false;
  /** Set by the deadline timer when the current park's deadline passed. */
  deadlineHit = false;
  /** The deadline (`performance.now()` scale) of the current park; Infinity when none. */
  parkDeadline = Infinity;
  /** When the armed timer fires (`performance.now()` scale); Infinity when not armed. */
  timerAt = Infinity;
  /**
   * One timer for every park's deadline, armed for the earliest deadline it must catch and
   * re-armed only when it fires early or a park needs an earlier one: a stream of parks with
   * `timeoutMs` costs a timer every timeout period, not one per message.
   */
  private deadlineTimer: NodeJS.Timeout | null = null;
  /** The caller's signal we listen to (kept between parks: the bridge passes the same one each time). */
  private watched: AbortSignal | null = null;
  /** Wakes the park (a signal's abort, close). */
  readonly interrupt = (): void => {
    this.ring.interruptConsumer();
  };
  private readonly onDeadline = (): void => {
    this.deadlineTimer = null;
    this.timerAt = Infinity;
    if (!this.parked || this.parkDeadline === Infinity) return;
    const left = this.parkDeadline - performance.now();
    if (left > 0) {
      this.armDeadline(left);
      return;
    }
    this.deadlineHit = true;
    this.ring.interruptConsumer();
  };

  constructor(private readonly ring: Ring) {}

  /** Arms the one deadline timer to fire in `ms`. */
  armDeadline(ms: number): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.timerAt = performance.now() + ms;
    this.deadlineTimer = setTimeout(this.onDeadline, ms);
    // The heartbeat keeps a parked thread alive; this timer must not keep an idle one up.
    this.deadlineTimer.unref();
  }

  /** Makes `signal`'s abort wake a park; replaces the signal watched before. */
  watch(signal: AbortSignal): void {
    if (signal === this.watched) return;
    this.watched?.removeEventListener('abort', this.interrupt);
    this.watched = signal;
    signal.addEventListener('abort', this.interrupt, { once: true });
  }

  /** Clears the timer and stops watching the signal (close). */
  dispose(): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.watched?.removeEventListener('abort', this.interrupt);
    this.watched = null;
  }
}
