/**
 * Honest statistics over repeated rounds. On a shared 2-core machine noise comes in bursts
 * (another build, a descheduled thread); running every case once per round, round-robin, spreads
 * a burst over all cases instead of letting it land on one, and reporting the median with its
 * min-max shows how far to trust it. The best round is never the figure: it is the one where the
 * noise happened to stay away.
 */

/** One measured case: runs once and returns one number (a p50, a rate). */
export type RoundCase = () => number | Promise<number>;

/** Median, min and max of a case's per-round numbers. */
export interface Summary {
  /** The middle value (the mean of the two middle values for an even count): the reported figure. */
  readonly median: number;
  /** The smallest value; shown only as the low end of the spread. */
  readonly min: number;
  /** The largest value; the high end of the spread. */
  readonly max: number;
}

/**
 * Runs `rounds` rounds; each round runs every case once, in the order of `cases`, and records
 * the number it returns. Cases run one at a time (awaited), never concurrently, so they do not
 * compete for the two cores.
 *
 * @param rounds - how many rounds (at least 1)
 * @param cases - named cases; their insertion order is the order within a round
 * @returns for each case, its `rounds` numbers in round order
 */
export async function interleave<K extends string>(rounds: number, cases: Readonly<Record<K, RoundCase>>): Promise<Record<K, number[]>> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`interleave rounds must be an integer >= 1, got ${rounds}`);
  const names = Object.keys(cases) as K[];
  const out = {} as Record<K, number[]>;
  for (const name of names) out[name] = [];
  for (let r = 0; r < rounds; r++) {
    for (const name of names) out[name].push(await cases[name]());
  }
  return out;
}

/**
 * The median, min and max of `values`.
 *
 * @param values - at least one number, none NaN
 */
export function summary(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of no values');
  if (values.some(Number.isNaN)) throw new RangeError(`summary values contain NaN: ${values.join(', ')}`);
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

/**
 * Formats a summary as `2.31 us (2.10-2.90)`: the median, then the spread over rounds.
 *
 * @param s - from `summary`
 * @param unit - appended after the median (`us`, `msg/s`)
 * @param digits - decimals
 * @defaultValue digits 2
 */
export function fmtRange(s: Summary, unit: string, digits = 2): string {
  return `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

/**
 * How case `a` compares with case `b`: the ratio of their medians, `median(a) / median(b)`, so
 * that it agrees with the two figures printed beside it, and for the noise the min-max of the
 * per-round ratios `a[r] / b[r]` (same round, same load). The ratio of the medians can lie
 * outside that range when the rounds disagree a lot; it is still the figure.
 *
 * @param a - one case's per-round numbers
 * @param b - the other's, round for round
 */
export function ratioOfMedians(a: readonly number[], b: readonly number[]): Summary {
  const perRound = summary(a.map((x, i) => x / (b[i] as number)));
  return { median: summary(a).median / summary(b).median, min: perRound.min, max: perRound.max };
}
