// The control block every bench end shares, and the waits on it (see ../roles.mjs for the
// words' table). Plain .mjs so a worker loads it without a TypeScript loader.

/** ctl word: stop flag. */
export const STOP = 0;
/** ctl word: ready counter. */
export const READY = 1;
/** ctl word: messages a sink received (also the flow-controlled postMessage sender's ack). */
export const RECEIVED = 2;
/** ctl word: raw ping-pong sequence. */
export const SEQ = 3;

// Empty polls between looks at the clock: rare enough that a spin stays on the ring's line (and
// allocates nothing: Node 20's performance.now() returns a fresh HeapNumber), often enough to
// notice a stall within microseconds of IDLE_MS.
export const CHECK_EVERY = 4096;
/** Milliseconds without progress after which a spinning end gives up. */
export const IDLE_MS = 10_000;
/** Longest blocking or async wait for one message before the run is declared broken. */
export const WAIT_MS = 10_000;
// One options object for every waiting call: a literal per call would allocate per message.
export const WAIT = Object.freeze({ timeoutMs: WAIT_MS });

/** True once the main thread asked every end to stop. */
export const stopped = (ctl) => Atomics.load(ctl, STOP) !== 0;

/** Says "this end is set up" to whoever waits on ctl[READY]. */
export function signalReady(ctl) {
  // Publishes that this thread bound its channel before the other side starts sending.
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY);
}

/** Waits (without blocking the event loop) until `n` ends signalled ready. */
export async function awaitReady(ctl, n, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // Acquire the ends' ready counts (and the channel binds published before them).
    const v = Atomics.load(ctl, READY);
    if (v >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${v} of ${n} bench threads became ready`);
    // A timer, not Atomics.waitAsync: a pending waitAsync does not keep the event loop alive.
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Spins until ctl[RECEIVED] reaches `target` (a sink in another thread counts there); throws
 * after IDLE_MS without the count moving. Blocks the calling thread meanwhile, so the time of
 * the last message's arrival is seen within a poll.
 */
export function spinUntilReceived(ctl, target) {
  let last = -1;
  let since = 0;
  for (let spins = 1; ; spins++) {
    // Acquire the sink's count; it bumps it after each message it finished with.
    const got = Atomics.load(ctl, RECEIVED);
    if (got >= target) return;
    if (spins % CHECK_EVERY !== 0) continue;
    const now = performance.now();
    if (got !== last) {
      last = got;
      since = now;
    } else if (now - since > IDLE_MS) {
      throw new Error(`only ${got} of ${target} messages arrived (no progress in ${IDLE_MS} ms)`);
    }
  }
}
