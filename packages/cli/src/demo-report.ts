/**
 * The summary table of `lightbeam demo`: one row per path, then the ratio row.
 */
import { formatBytes } from './progress.js';
import type { RunVerdict } from './demo-verifier.js';

/** One measured path. */
export interface PathResult {
  /** Row label. */
  name: string;
  /** The far side's verdict. */
  verdict: RunVerdict;
  /** Local wall time from the first message produced to the far side's verdict, in ms. */
  ms: number;
}

const COLUMNS = ['path', 'messages', 'bytes', 'time', 'throughput', 'msg/s', 'latency p50', 'latency p99', 'mismatches', 'lost'] as const;

/** Bytes per second of a path (bytes the far side verified over the local wall time). */
export function throughput(r: PathResult): number {
  return r.ms > 0 ? (r.verdict.bytes / r.ms) * 1000 : 0;
}

const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const ratio = (a: number, b: number): string => (b > 0 && a > 0 ? `${(a / b).toFixed(2)}x` : '-');

/**
 * Formats the table: rows for `ours` and `baseline`, then their ratio (throughput and messages
 * per second as ours over baseline: above 1 is faster; latencies as baseline over ours: above 1
 * is lower).
 */
export function formatSummary(ours: PathResult, baseline: PathResult): string {
  const row = (r: PathResult): string[] => [
    r.name,
    `${r.verdict.received}/${r.verdict.expected}`,
    formatBytes(r.verdict.bytes),
    `${(r.ms / 1000).toFixed(2)} s`,
    `${formatBytes(throughput(r))}/s`,
    ((r.verdict.received / r.ms) * 1000).toFixed(0),
    ms(r.verdict.p50Ms),
    ms(r.verdict.p99Ms),
    String(r.verdict.mismatches),
    String(r.verdict.lost),
  ];
  const rate = (r: PathResult): number => r.verdict.received / r.ms;
  const rows = [
    [...COLUMNS],
    row(ours),
    row(baseline),
    [
      'ratio (lightbeam / baseline)',
      '',
      '',
      ratio(baseline.ms, ours.ms),
      ratio(throughput(ours), throughput(baseline)),
      ratio(rate(ours), rate(baseline)),
      ratio(baseline.verdict.p50Ms ?? 0, ours.verdict.p50Ms ?? 0),
      ratio(baseline.verdict.p99Ms ?? 0, ours.verdict.p99Ms ?? 0),
      '',
      '',
    ],
  ];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]): string => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}
