/**
 * Call deadlines of an RPC client with one timer instead of one per call: a timer per call costs
 * an object, a list insert and a removal each time, and most calls settle long before their
 * deadline. Calls with the same timeout expire in the order they were made, so each distinct
 * timeout keeps a FIFO lane and the timer is armed for the earliest head. Settled calls stay in
 * their lane until it is compacted (when stale entries outnumber live ones).
 */

interface Lane {
  ids: number[];
  at: number[];
  head: number;
}

/** Deadlines by call id; `onExpire(id)` runs once a deadline passed (the call may have settled). */
export class Deadlines {
  private readonly lanes = new Map<number, Lane>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private armedAt = Infinity;

  /**
   * @param onExpire - called with each id whose deadline passed
   * @param live - how many calls are still pending (for compaction)
   * @param isLive - whether an id is still pending
   */
  constructor(
    private readonly onExpire: (id: number) => void,
    private readonly live: () => number,
    private readonly isLive: (id: number) => boolean,
  ) {}

  /** Schedules `id` to expire after `timeoutMs`. */
  add(id: number, timeoutMs: number): void {
    const at = performance.now() + timeoutMs;
    let lane = this.lanes.get(timeoutMs);
    if (lane === undefined) this.lanes.set(timeoutMs, (lane = { ids: [], at: [], head: 0 }));
    lane.ids.push(id);
    lane.at.push(at);
    if (lane.ids.length - lane.head > 2 * this.live() + 1024) compact(lane, this.isLive);
    if (at < this.armedAt) this.arm(at);
  }

  /** Stops the timer and forgets every deadline. */
  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    this.lanes.clear();
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [timeout, lane] of this.lanes) {
      // A timer may fire up to a millisecond early: a deadline within it counts as passed.
      while (lane.head < lane.ids.length && (lane.at[lane.head] as number) <= now + 1) this.onExpire(lane.ids[lane.head++] as number);
      if (lane.head === lane.ids.length) this.lanes.delete(timeout);
      else {
        if (lane.head > 1024) compact(lane, () => true);
        next = Math.min(next, lane.at[lane.head] as number);
      }
    }
    if (next !== Infinity) this.arm(next);
  }
}

/** Drops the consumed head and the ids no longer pending. */
function compact(lane: Lane, keep: (id: number) => boolean): void {
  const ids: number[] = [];
  const at: number[] = [];
  for (let i = lane.head; i < lane.ids.length; i++) {
    const id = lane.ids[i] as number;
    if (!keep(id)) continue;
    ids.push(id);
    at.push(lane.at[i] as number);
  }
  lane.ids = ids;
  lane.at = at;
  lane.head = 0;
}
