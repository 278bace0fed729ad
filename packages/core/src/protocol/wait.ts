/**
 * Deadlines, abort signals and close signals for every call that waits.
 */
import { ECANCELED, ESHUTDOWN, ETIMEDOUT } from './return-codes.js';

/** Options of every call that may wait. */
export interface WaitOptions {
  /**
   * Longest wait in milliseconds; the call then resolves `ETIMEDOUT`. Omit to wait without limit.
   * @defaultValue Infinity
   */
  timeoutMs?: number;
  /** Aborting resolves the call with `ECANCELED`. */
  signal?: AbortSignal;
}

/** A wait as a transport sees it: an absolute deadline (`performance.now()` ms) and a signal. */
export interface WaitSpec {
  /** `performance.now()` value after which the wait gives up; `Infinity` for none. */
  readonly deadline: number;
  /** The caller's abort signal, if any. */
  readonly signal: AbortSignal | undefined;
}

/**
 * Turns user options into a {@link WaitSpec}.
 *
 * @param opts - the caller's options
 * @throws RangeError for a negative or non-numeric timeout
 */
export function toWaitSpec(opts: WaitOptions | undefined): WaitSpec {
  const t = opts?.timeoutMs;
  if (t !== undefined && !(t >= 0)) throw new RangeError(`timeoutMs must be a non-negative number, got ${t}`);
  return { deadline: t === undefined ? Infinity : performance.now() + t, signal: opts?.signal };
}

/** Milliseconds left before the deadline (never negative). */
export function remainingMs(spec: WaitSpec): number {
  return Math.max(0, spec.deadline - performance.now());
}

/**
 * Waits for `work` to settle, or for the deadline, the caller's abort, or the endpoint's close,
 * whichever comes first; the losers resolve to `ETIMEDOUT`, `ECANCELED` or `ESHUTDOWN`. Timers
 * and listeners are removed in every case. `work` keeps running when it loses: the caller
 * decides what to do with its result (see `onLate`).
 *
 * @param work - what to wait for
 * @param spec - deadline and abort signal
 * @param closed - aborted when the endpoint closes
 * @param onLate - receives `work`'s value if it settles after the race was lost
 */
export function raceWait<T>(
  work: Promise<T>,
  spec: WaitSpec,
  closed: AbortSignal | undefined,
  onLate?: (value: T) => void,
): Promise<T | number> {
  if (spec.signal?.aborted) {
    if (onLate) void work.then(onLate, () => {});
    return Promise.resolve(ECANCELED);
  }
  if (closed?.aborted) {
    if (onLate) void work.then(onLate, () => {});
    return Promise.resolve(ESHUTDOWN);
  }
  return new Promise<T | number>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (v: T | number, isWork: boolean): void => {
      if (settled) {
        if (isWork && onLate) onLate(v as T);
        return;
      }
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      closed?.removeEventListener('abort', onClose);
      resolve(v);
    };
    const onAbort = (): void => finish(ECANCELED, false);
    const onClose = (): void => finish(ESHUTDOWN, false);
    if (spec.deadline !== Infinity) timer = setTimeout(() => finish(ETIMEDOUT, false), remainingMs(spec));
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    closed?.addEventListener('abort', onClose, { once: true });
    work.then(
      (v) => finish(v, true),
      (err) => {
        if (!settled) {
          settled = true;
          if (timer !== undefined) clearTimeout(timer);
          spec.signal?.removeEventListener('abort', onAbort);
          closed?.removeEventListener('abort', onClose);
          reject(err);
        }
      },
    );
  });
}
