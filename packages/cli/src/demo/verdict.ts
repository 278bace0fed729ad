/**
 * How the demo states a comparison: always as a factor above 1 with its direction spelled out
 * ("2.31x faster", "1.40x slower"), never as a bare ratio whose direction the reader must guess.
 * A bare `0.86x` under a heading "lightbeam / baseline" once read as a mixed result when
 * Lightbeam was slower on every column (issue 12).
 *
 * Two statistics, each under its own name, because a reader checks a ratio against the figures
 * printed beside it: the ratio of the two medians shown (which that check confirms), and the
 * median of the per-run ratios (fairer on a noisy machine, since each run pairs the two paths
 * under the same load, but it need not match the medians' ratio: "106 ms against 118 ms" once
 * stood beside "1.07x slower").
 */

/** Median, min and max of a few runs. */
export interface RunSpread {
  /** The middle run (the mean of the two middle runs for an even count). */
  median: number;
  /** The lowest run. */
  min: number;
  /** The highest run. */
  max: number;
  /** How many runs. */
  runs: number;
}

/**
 * The median and range of `values`.
 *
 * @param values - one number per run, at least one
 * @throws RangeError for no values or a NaN
 */
export function spreadOf(values: readonly number[]): RunSpread {
  if (values.length === 0 || values.some(Number.isNaN)) throw new RangeError(`spreadOf needs numbers, got [${values.join(', ')}]`);
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1], runs: s.length };
}

/**
 * Per-run speed-ups of Lightbeam: the baseline's time over Lightbeam's time for the same work in
 * the same run (above 1: Lightbeam took less time).
 *
 * @param oursMs - Lightbeam's time per run
 * @param baselineMs - the baseline's time per run, same order
 */
export function speedups(oursMs: readonly number[], baselineMs: readonly number[]): number[] {
  if (oursMs.length !== baselineMs.length) throw new RangeError(`speedups: ${oursMs.length} runs of ours against ${baselineMs.length} of the baseline`);
  return oursMs.map((o, i) => baselineMs[i] / o);
}

/**
 * A speed-up as words: `2.31x faster` when above 1, `1.40x slower` (its inverse) when below,
 * `as fast` when equal at two decimals.
 *
 * @param speedup - baseline time over Lightbeam time
 * @param words - the words for the two directions (`['faster', 'slower']`, `['lower', 'higher']`)
 */
export function describeFactor(speedup: number, words: readonly [better: string, worse: string] = ['faster', 'slower']): string {
  if (!(speedup > 0) || !Number.isFinite(speedup)) return '-';
  const factor = speedup >= 1 ? speedup : 1 / speedup;
  if (factor.toFixed(2) === '1.00') return `as ${words[0] === 'faster' ? 'fast' : 'good'} (1.00x)`;
  return `${factor.toFixed(2)}x ${speedup >= 1 ? words[0] : words[1]}`;
}

/**
 * The sentence closing an act: `Lightbeam 2.31x faster than x (median of the per-run ratios;
 * 1.90-2.60x faster over 3 runs).` or `... 1.40x slower ...`. The direction follows the median;
 * the range is of the same factor (inverted when slower), low to high. A range that straddles 1
 * says so. The sentence names its statistic, so that it is not read as the ratio of two medians.
 *
 * @param s - the spread of the per-run speed-ups (baseline time over Lightbeam time)
 * @param against - what Lightbeam was compared with, appended as `than <against>`
 */
export function verdictSentence(s: RunSpread, against: string): string {
  const faster = s.median >= 1;
  const f = (x: number): number => (faster ? x : 1 / x);
  const runs = `median of the per-run ratios; ${describeRange(s)} over ${s.runs} run${s.runs === 1 ? '' : 's'}`;
  // "1.00x faster" would claim a direction the rounding does not show.
  if (f(s.median).toFixed(2) === '1.00') return `Lightbeam as fast as ${against} (1.00x; ${runs}).`;
  return `Lightbeam ${f(s.median).toFixed(2)}x ${faster ? 'faster' : 'slower'} than ${against} (${runs}).`;
}

/**
 * The range of a spread of speed-ups in words: `1.90-2.60x faster` when every run points the same
 * way, `1.20x slower to 1.10x faster` when the runs disagree.
 *
 * @param s - a spread of speed-ups (above 1: Lightbeam faster)
 * @param words - the words for the two directions
 */
export function describeRange(s: RunSpread, words: readonly [better: string, worse: string] = ['faster', 'slower']): string {
  if (s.min >= 1) return `${s.min.toFixed(2)}-${s.max.toFixed(2)}x ${words[0]}`;
  if (s.max < 1) return `${(1 / s.max).toFixed(2)}-${(1 / s.min).toFixed(2)}x ${words[1]}`;
  return `${(1 / s.min).toFixed(2)}x ${words[1]} to ${s.max.toFixed(2)}x ${words[0]}`;
}

/** What a verdict sentence states. */
export interface ParsedVerdict {
  /** The factor, above or at 1. */
  factor: number;
  /** Whether it says faster, slower (`false`), or as fast (`null`). */
  faster: boolean | null;
}

/** The factor and direction a sentence of {@link verdictSentence} states, read back (for tests and tools). */
export function parseVerdict(sentence: string): ParsedVerdict | null {
  if (/Lightbeam as fast as /.test(sentence)) return { factor: 1, faster: null };
  const m = /Lightbeam (\d+\.\d+)x (faster|slower) than /.exec(sentence);
  return m === null ? null : { factor: Number(m[1]), faster: m[2] === 'faster' };
}

/**
 * The geometric mean of `xs` (all above 0): how several speed-ups combine into one, so that 2x
 * faster on one workload and 2x slower on another come out as even.
 */
export function geometricMean(xs: readonly number[]): number {
  if (xs.length === 0 || xs.some((x) => !(x > 0))) throw new RangeError(`geometricMean needs positive numbers, got [${xs.join(', ')}]`);
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

/** Two paths' times compared both ways (see the file comment); above 1: Lightbeam took less time. */
export interface TimeComparison {
  /** The baseline's median time over Lightbeam's: agrees with the two medians printed. */
  ofMedians: number;
  /** The spread of the per-run ratios (baseline time over Lightbeam time, run by run). */
  perRun: RunSpread;
}

/**
 * Compares two paths' times run by run and by their medians.
 *
 * @param oursMs - Lightbeam's time per run
 * @param baselineMs - the baseline's time per run, same order
 */
export function compareTimes(oursMs: readonly number[], baselineMs: readonly number[]): TimeComparison {
  return { ofMedians: spreadOf(baselineMs).median / spreadOf(oursMs).median, perRun: spreadOf(speedups(oursMs, baselineMs)) };
}
