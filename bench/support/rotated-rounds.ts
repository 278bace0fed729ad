/**
 * Interleaved rounds whose order rotates: round r starts with case r (mod the number of cases).
 * With a fixed order (bench/support/rounds.ts `interleave`), the case that comes first in every
 * round always follows the previous round's last case, and pays for its leftovers: a worker
 * thread still being torn down, a core still busy with its garbage. Rotating puts every case in
 * every position, so such costs spread over all of them instead of biasing one.
 */
import type { RoundCase } from './rounds.js';

/**
 * Runs `rounds` rounds of every case, one case at a time, rotating the order each round, with
 * an optional pause before each case for the previous one's threads to finish exiting.
 *
 * @param rounds - how many rounds (at least 1)
 * @param cases - named cases; round r runs them from the r-th (mod count) in insertion order
 * @param settleMs - milliseconds to wait before each case
 * @defaultValue settleMs 0
 * @returns for each case, its `rounds` numbers in round order
 */
export async function interleaveRotated<K extends string>(rounds: number, cases: Readonly<Record<K, RoundCase>>, settleMs = 0): Promise<Record<K, number[]>> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`interleaveRotated rounds must be an integer >= 1, got ${rounds}`);
  if (!(settleMs >= 0)) throw new RangeError(`interleaveRotated settleMs must be a number >= 0, got ${settleMs}`);
  const names = Object.keys(cases) as K[];
  const out = {} as Record<K, number[]>;
  for (const name of names) out[name] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
      out[name].push(await cases[name]());
    }
  }
  return out;
}
