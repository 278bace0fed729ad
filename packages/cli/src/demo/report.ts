/**
 * The tables of `lightbeam demo`. Every comparison is written out with its direction
 * ("1.52x faster", "1.20x higher"), never as a bare ratio: the old ratio row was labelled
 * lightbeam / baseline while its time and latency cells held baseline / lightbeam (issue 12).
 * Each comparison row names its statistic: the ratio of the medians printed above it, or the
 * median of the per-run ratios (see verdict.ts); the two need not agree.
 */
import { formatBytes } from '../common/progress.js';
import type { RunVerdict } from './verifier.js';
import { describeFactor, spreadOf } from './verdict.js';
import type { RunSpread } from './verdict.js';

/** One measured run of one path of act 2. */
export interface PathResult {
  /** Row label. */
  name: string;
  /** The far side's verdict. */
  verdict: RunVerdict;
  /** Local wall time from the first message produced to the far side's verdict, in ms. */
  ms: number;
}

/** Bytes per second of a path (bytes the far side verified over the local wall time). */
export function throughput(r: PathResult): number {
  return r.ms > 0 ? (r.verdict.bytes / r.ms) * 1000 : 0;
}

/**
 * A markdown table with the first column left-aligned and the others right-aligned, padded so
 * it also reads as plain text.
 *
 * @param rows - the header row, then the body rows (all of the header's length)
 */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: readonly string[]): string => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const spreadText = (s: RunSpread, f: (v: number) => string): string => (s.runs === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`);

/** The header of {@link formatSummary}'s table. */
export const SUMMARY_COLUMNS = ['path', 'messages per run', 'bytes per run', 'time', 'throughput', 'msg/s', 'latency p50', 'latency p99', 'mismatches', 'lost'] as const;

/** Label of the comparison row of {@link formatSummary} computed from the medians printed above it. */
export const COMPARISON_ROW = 'Lightbeam against the baseline, ratio of these medians';
/** Label of the comparison row of {@link formatSummary} holding the median of the per-run ratios. */
export const PER_RUN_ROW = 'Lightbeam against the baseline, median of per-run ratios';

/**
 * Formats act 2's table: one row per path with the median (and range) over its runs, then two
 * rows comparing them in words (time and throughput as `faster`/`slower`, latencies as
 * `lower`/`higher`): {@link COMPARISON_ROW}, the ratio of the medians printed above it, and
 * {@link PER_RUN_ROW}, the median of the per-run ratios.
 *
 * @param ours - Lightbeam's runs
 * @param baseline - the baseline's runs, in the same order
 */
export function formatSummary(ours: readonly PathResult[], baseline: readonly PathResult[]): string {
  // The medians the path rows print, which the first comparison row divides.
  const medians = (rs: readonly PathResult[]): Array<number | null> => {
    const lat = (f: (v: RunVerdict) => number | null): number | null => {
      const xs = rs.map((r) => f(r.verdict)).filter((x): x is number => x !== null);
      return xs.length === 0 ? null : spreadOf(xs).median;
    };
    return [
      spreadOf(rs.map((r) => r.ms)).median,
      spreadOf(rs.map(throughput)).median,
      spreadOf(rs.map((r) => (r.verdict.received / r.ms) * 1000)).median,
      lat((v) => v.p50Ms),
      lat((v) => v.p99Ms),
    ];
  };
  const row = (rs: readonly PathResult[]): string[] => {
    const last = rs[rs.length - 1];
    const sum = (f: (v: RunVerdict) => number): number => rs.reduce((a, r) => a + f(r.verdict), 0);
    const lat = (f: (v: RunVerdict) => number | null): string => {
      const xs = rs.map((r) => f(r.verdict)).filter((x): x is number => x !== null);
      return xs.length === 0 ? '-' : spreadText(spreadOf(xs), ms);
    };
    return [
      last.name,
      `${last.verdict.received}/${last.verdict.expected}`,
      formatBytes(last.verdict.bytes),
      spreadText(spreadOf(rs.map((r) => r.ms)), (v) => `${(v / 1000).toFixed(2)} s`),
      `${formatBytes(spreadOf(rs.map(throughput)).median)}/s`,
      spreadOf(rs.map((r) => (r.verdict.received / r.ms) * 1000)).median.toFixed(0),
      lat((v) => v.p50Ms),
      lat((v) => v.p99Ms),
      String(sum((v) => v.mismatches)),
      String(sum((v) => v.lost)),
    ];
  };
  // Each factor: the baseline's figure over ours when lower is better (time, latency), ours over
  // the baseline's when higher is better (throughput), so above 1 always means Lightbeam better.
  const factor = (f: (r: PathResult) => number | null, lowerIsBetter: boolean): number => {
    const xs = ours.flatMap((o, i) => {
      const a = f(o);
      const b = f(baseline[i]);
      return a === null || b === null || !(a > 0) || !(b > 0) ? [] : [lowerIsBetter ? b / a : a / b];
    });
    return xs.length === 0 ? NaN : spreadOf(xs).median;
  };
  const speed = describeFactor(factor((r) => r.ms, true));
  const perRun = [
    PER_RUN_ROW,
    '',
    '',
    speed,
    speed,
    speed,
    describeFactor(factor((r) => r.verdict.p50Ms, true), ['lower', 'higher']),
    describeFactor(factor((r) => r.verdict.p99Ms, true), ['lower', 'higher']),
    '',
    '',
  ];
  const mo = medians(ours);
  const mb = medians(baseline);
  // Time and latency: the baseline's over ours; throughput and msg/s: ours over the baseline's.
  const ofMedians = (i: number, lowerIsBetter: boolean, words?: readonly [string, string]): string => {
    const a = mo[i];
    const b = mb[i];
    return a === null || b === null || !(a > 0) || !(b > 0) ? '-' : describeFactor(lowerIsBetter ? b / a : a / b, words);
  };
  const comparison = [
    COMPARISON_ROW,
    '',
    '',
    ofMedians(0, true),
    ofMedians(1, false),
    ofMedians(2, false),
    ofMedians(3, true, ['lower', 'higher']),
    ofMedians(4, true, ['lower', 'higher']),
    '',
    '',
  ];
  return renderTable([[...SUMMARY_COLUMNS], row(ours), row(baseline), comparison, perRun]);
}
