/**
 * The process's hot spell. A post or a completion on any endpoint a moment ago means an answer is
 * due soon (a round trip's reply, a stream's next message), so until `spinUs` after it the
 * endpoints that someone waits on read their completion queues from the JavaScript thread, once
 * per event-loop turn, instead of waiting for their progress thread's hand-off (a thread wake-up,
 * a thread-safe function, an event-loop wake-up). Past it, nothing polls on this thread.
 */

/** What the hot spell drives: an endpoint someone waits on. */
export interface HotPoller {
  /** Starts polling on this thread if someone waits here and the process is hot. */
  heat(): void;
}

/** Until when (performance.now(), ms) the process is hot. */
let hotUntil = 0;
/** Endpoints someone waits on (a metadata wait, a read, a send in flight). */
const WAITING = new Set<HotPoller>();

/** True while the process is hot. */
export function hot(): boolean {
  return performance.now() < hotUntil;
}

/** Milliseconds of the hot spell left (0 or less: over). */
export function hotLeftMs(): number {
  return hotUntil - performance.now();
}

/**
 * A post or completion happened: the process is hot for `spinMs` more.
 *
 * @param spinMs - the endpoint's spinUs, in ms
 * @param wake - whether endpoints that wait start polling now (false from a poll that runs anyway)
 */
export function warm(spinMs: number, wake = true): void {
  const until = performance.now() + spinMs;
  if (until <= hotUntil) return;
  hotUntil = until;
  if (wake) for (const ep of WAITING) ep.heat();
}

/** Records whether someone waits on `ep` (only those poll). */
export function setWaiting(ep: HotPoller, waiting: boolean): void {
  if (waiting) WAITING.add(ep);
  else WAITING.delete(ep);
}
