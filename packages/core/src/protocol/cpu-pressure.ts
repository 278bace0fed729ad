/**
 * Whether a spin can win right now. A thread that polls for a message its peer is about to send
 * wins only while the peer has a core of its own; once the machine has more runnable threads than
 * cores, the spinner takes the core the peer (or its wake-up) needs, and a park is cheaper.
 * Measured on a 2-core machine under load: an RPC worker that kept polling after each reply made
 * round trips 3-4x slower than one that blocked at once, while on idle cores the same poll halves
 * them. So the adaptive spins ask this before they lengthen.
 *
 * Linux reports the instantaneous count of runnable threads (the fourth field of /proc/loadavg);
 * it is read at most every {@link CPU_PRESSURE_TTL_MS}. Elsewhere the one-minute load average
 * stands in for it.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/** How long one reading of the runnable-thread count is trusted, in ms. */
export const CPU_PRESSURE_TTL_MS = 20;

const cores = availableParallelism();
let checkedAt = -Infinity;
let over = false;
let procReadable = process.platform === 'linux';

/** Runnable threads on the machine now (this one included), or NaN when unknown. */
function runnableNow(): number {
  if (procReadable) {
    try {
      // "0.50 0.40 0.30 3/512 12345": runnable/total scheduling entities is the fourth field.
      const text = readFileSync('/proc/loadavg', 'latin1');
      const field = text.split(' ')[3] ?? '';
      const n = Number(field.slice(0, field.indexOf('/')));
      if (Number.isFinite(n) && n > 0) return n;
    } catch {
      // No procfs (a container without it): fall back below from now on.
    }
    procReadable = false;
  }
  return loadavg()[0] as number;
}

/**
 * True when the machine has more runnable threads than cores (a spin would take a core another
 * runnable thread needs). Cheap: reads the count at most every {@link CPU_PRESSURE_TTL_MS}.
 *
 * @param now - `performance.now()` if the caller has it (saves reading the clock)
 */
export function cpuOversubscribed(now: number = performance.now()): boolean {
  if (now - checkedAt < CPU_PRESSURE_TTL_MS) return over;
  checkedAt = now;
  over = runnableNow() > cores;
  return over;
}
