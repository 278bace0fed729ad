/**
 * The process's hot spell. A post or a completion on any endpoint a moment ago means an answer is
 * due soon (a round trip's reply, a stream's next message), so until the spell ends the endpoints
 * that someone waits on read their completion queues from the JavaScript thread, once per
 * event-loop turn, instead of waiting for their progress thread's hand-off (a thread wake-up, a
 * thread-safe function, an event-loop wake-up). Past it, nothing polls on this thread.
 *
 * The spell lasts `spinUs` after each post or completion, stretched to cover the answers of the
 * recent past: the time from a post to the completion that followed it, for the last
 * {@link ANSWER_SAMPLES} answers, times 1.5, up to {@link HOT_STRETCH_MAX_MS}. A ping-pong whose
 * replies take 300 us on a busy machine thus stays on this thread (a fixed 250 us spell sent
 * most of them through the progress thread, two scheduler wake-ups each way), while an endpoint
 * that went quiet stops polling at most that long after its last event.
 */

/** What the hot spell drives: an endpoint someone waits on. */
export interface HotPoller {
  /** Starts polling on this thread if someone waits here and the process is hot. */
  heat(): void;
}

/** Longest the recent answers can stretch a hot spell, in ms. */
export const HOT_STRETCH_MAX_MS = 2;
/** Answers the stretch looks back on. */
export const ANSWER_SAMPLES = 8;

/** Until when (performance.now(), ms) the process is hot. */
let hotUntil = 0;
/** Endpoints someone waits on (a metadata wait, a read, a send in flight). */
const WAITING = new Set<HotPoller>();
/** When the last post was made (performance.now(), ms). */
let postedAt = -Infinity;
/** The last answers' delays (ms since the post before them), a ring. */
const answers = new Float64Array(ANSWER_SAMPLES);
let nextAnswer = 0;
/** How far the recent answers stretch the spell (ms): 1.5 times the slowest of them, capped. */
let stretchMs = 0;

/** True while the process is hot. */
export function hot(): boolean {
  return performance.now() < hotUntil;
}

/** Milliseconds of the hot spell left (0 or less: over). */
export function hotLeftMs(): number {
  return hotUntil - performance.now();
}

/** The current stretch of a spell beyond `spinUs`, in ms (0 until answers came). */
export function hotStretchMs(): number {
  return stretchMs;
}

/**
 * A post or completion happened: the process is hot for `spinMs` more, or as long as the recent
 * answers took (see the module's notes); a `spinMs` of 0 opts the endpoint out of polling.
 *
 * @param spinMs - the endpoint's spinUs, in ms
 * @param wake - whether endpoints that wait start polling now (false from a poll that runs anyway)
 */
export function warm(spinMs: number, wake = true): void {
  if (spinMs <= 0) return;
  const until = performance.now() + Math.max(spinMs, stretchMs);
  if (until <= hotUntil) return;
  hotUntil = until;
  if (wake) for (const ep of WAITING) ep.heat();
}

/**
 * A post was made: its answer is due.
 *
 * @param spinMs - the endpoint's spinUs, in ms
 */
export function posted(spinMs: number): void {
  postedAt = performance.now();
  warm(spinMs);
}

/**
 * Completions arrived: the time since the last post is an answer's delay (unless longer than
 * the stretch may grow, which is a pause, not an answer), then as {@link warm}.
 *
 * @param spinMs - the endpoint's spinUs, in ms
 * @param wake - as for {@link warm}
 */
export function answered(spinMs: number, wake = true): void {
  const dt = performance.now() - postedAt;
  if (dt >= 0 && dt * 1.5 <= HOT_STRETCH_MAX_MS) {
    answers[nextAnswer] = dt;
    nextAnswer = (nextAnswer + 1) % ANSWER_SAMPLES;
    let slowest = 0;
    for (const a of answers) if (a > slowest) slowest = a;
    stretchMs = Math.min(HOT_STRETCH_MAX_MS, slowest * 1.5);
  }
  warm(spinMs, wake);
}

/** Records whether someone waits on `ep` (only those poll). */
export function setWaiting(ep: HotPoller, waiting: boolean): void {
  if (waiting) WAITING.add(ep);
  else WAITING.delete(ep);
}
