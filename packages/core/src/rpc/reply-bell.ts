/**
 * A doorbell an RPC server rings once per burst of replies, for a caller in another thread.
 *
 * Without it a caller parks on its reply endpoint, and the server's transport wakes it at the
 * first reply it publishes: with many calls in flight the woken caller takes the core from the
 * server (on a machine with fewer cores than runnable threads), finds that one reply, sends one
 * request, parks again, and is woken again by the next reply. Measured on 2 busy cores at 64
 * calls in flight: a wake-up of the caller every 3 calls, each one preempting the server. With
 * the bell the caller never parks on its reply endpoint (so publishing a reply wakes nobody);
 * it waits on the bell, which the server rings once it has drained every request it had and
 * sent their replies: one wake-up per burst.
 *
 * Byte layout of the bell's SharedArrayBuffer (128 bytes, two 64-byte lines so the server's
 * increments and the caller's flag do not share a line):
 *
 * | offset | size | field | written by |
 * |---|---|---|---|
 * | 0 | 4 | `counter`: bumped by each ring that wakes the caller, the value the caller waits on | server (ring), caller (interrupt) |
 * | 64 | 4 | `waiting`: 1 while the caller is about to wait or waits | caller sets, the ringing server clears |
 */

/** Bytes of a bell's SharedArrayBuffer. */
export const REPLY_BELL_BYTES = 128;

const F_COUNTER = 0;
const F_WAITING = 16;

/** Counters of an {@link RpcReplyBell}, as seen by the thread that holds this instance. */
export interface RpcReplyBellStats {
  /** Rings that woke (or would have woken) a waiting caller: one notify each. */
  wakes: number;
  /** Rings that found the caller awake: no notify. */
  quiet: number;
  /** Waits the caller started. */
  waits: number;
}

/**
 * One caller's reply doorbell, shared by the caller (`RpcClientOptions.replyBell`) and the
 * server that answers it (`RpcServerOptions.replyBell`), each thread holding its own instance
 * over the same buffer.
 */
export class RpcReplyBell {
  /** Counters of this instance (the server's rings, or the caller's waits). */
  readonly stats: RpcReplyBellStats = { wakes: 0, quiet: 0, waits: 0 };
  private readonly i32: Int32Array;

  /**
   * @param buffer - the bell's memory (from another thread's bell), or none to make a new one
   * @throws RangeError for a buffer smaller than {@link REPLY_BELL_BYTES}
   */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(REPLY_BELL_BYTES)) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < REPLY_BELL_BYTES) {
      throw new RangeError(`RpcReplyBell buffer must be a SharedArrayBuffer of at least ${REPLY_BELL_BYTES} bytes`);
    }
    this.i32 = new Int32Array(buffer, 0, REPLY_BELL_BYTES >> 2);
  }

  /**
   * Server side, after the replies of a burst are published: wakes the caller if it waits. A
   * caller that is awake costs one read of a line nobody else writes then.
   */
  ring(): void {
    const i32 = this.i32;
    // Acquire the flag after our replies were published: a caller that set it before then
    // checks for replies after setting it, so either it sees them or we see its flag. The
    // exchange lets one ring of several wake it.
    if (Atomics.load(i32, F_WAITING) !== 0 && Atomics.exchange(i32, F_WAITING, 0) !== 0) {
      // Bump before notify: a caller between its check and its wait sees the new value.
      Atomics.add(i32, F_COUNTER, 1);
      Atomics.notify(i32, F_COUNTER);
      this.stats.wakes++;
    } else this.stats.quiet++;
  }

  /**
   * Caller side, before it checks for replies one last time: announces the wait and returns the
   * value to pass to {@link RpcReplyBell.wait}.
   */
  arm(): number {
    // Read the counter before announcing, so a ring after our last check changes it.
    const v = Atomics.load(this.i32, F_COUNTER);
    // Announce: a server that publishes a reply after this sees the flag and rings.
    Atomics.store(this.i32, F_WAITING, 1);
    return v;
  }

  /** Caller side: the last check found a reply after all, so no wait follows. */
  disarm(): void {
    if (Atomics.load(this.i32, F_WAITING) !== 0) Atomics.store(this.i32, F_WAITING, 0);
  }

  /**
   * Caller side, after {@link RpcReplyBell.arm} and a check that found nothing: settles once the
   * bell rang (or already had).
   *
   * @param armed - what `arm` returned
   */
  wait(armed: number): Promise<unknown> {
    this.stats.waits++;
    const r = Atomics.waitAsync(this.i32, F_COUNTER, armed);
    return r.async ? r.value : Promise.resolve(r.value);
  }

  /** Wakes a waiting caller without a reply (its close). */
  interrupt(): void {
    Atomics.add(this.i32, F_COUNTER, 1);
    Atomics.notify(this.i32, F_COUNTER);
  }
}
