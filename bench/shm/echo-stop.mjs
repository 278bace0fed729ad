// When a spinning echo loop of the bench peers (bare-ring.mjs, port-spin.mjs) stops: the
// controller's stop flag, or nothing to echo for IDLE_MS. Checked once every `every` empty polls,
// since reading the clock costs more than a poll.

/** An echo with nothing to do for this long returns (its controller is gone). */
export const IDLE_MS = 10_000;

/**
 * Called after each empty poll with the count of empty polls in a row.
 *
 * @param {number} spins - empty polls since the last message (1, 2, ...)
 * @param {number} every - how often to look at the flag and the clock
 * @param {Int32Array} stopCtl - word 0: the controller's stop flag
 * @param {{ idleSince: number }} idle - the loop's own state, made once per loop
 * @returns {boolean} true when the loop should return
 */
export function echoShouldStop(spins, every, stopCtl, idle) {
  if (spins % every !== 0) return false;
  // Acquire the controller's stop flag.
  if (Atomics.load(stopCtl, 0) !== 0) return true;
  const now = performance.now();
  if (spins === every) idle.idleSince = now;
  return spins !== every && now - idle.idleSince > IDLE_MS;
}
