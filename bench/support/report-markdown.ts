/**
 * The markdown side of the benchmark report: one table per suite, ours and the peers side by
 * side at each message size, with the ratio.
 */
import type { BenchResultFile, BenchRow } from './report-format.js';

/** How one suite's run went, as `lightbeam bench` saw it. */
export interface SuiteOutcome {
  /** The suite name. */
  suite: string;
  /** Its result file, or `null` when it wrote none. */
  result: BenchResultFile | null;
  /** Exit code of the suite's process (`null` when it was not run, e.g. a fixture). */
  exitCode: number | null;
  /** Chart file name next to the markdown, when one was drawn. */
  chart?: string;
  /** Why there is no result (no file, invalid file, crash), for the report. */
  note?: string;
}

/** `1536` as `1.5 KiB`. */
export function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** A rate with three significant digits and an SI suffix: `1.23M`. */
export function formatRate(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toPrecision(3)}${units[u]}`;
}

/**
 * The ratio of a row: the suite's own for peer rows, else ours / peer computed when exactly
 * one ours row has the same size; `null` for ours rows and when it cannot be known.
 *
 * @param row - the row
 * @param rows - all rows of its suite
 */
export function rowRatio(row: BenchRow, rows: readonly BenchRow[]): number | null {
  if (row.side === 'ours') return null;
  if (typeof row.ratio === 'number') return row.ratio;
  const ours = rows.filter((r) => r.side === 'ours' && r.messageBytes === row.messageBytes);
  if (ours.length !== 1 || row.bytesPerSec === 0) return null;
  return ours[0].bytesPerSec / row.bytesPerSec;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * Renders the whole report.
 *
 * @param outcomes - one per suite, in order
 * @param title - the heading
 */
export function renderMarkdown(outcomes: readonly SuiteOutcome[], title = 'Lightbeam benchmarks'): string {
  const lines: string[] = [`# ${title}`, ''];
  const env = outcomes.find((o) => o.result !== null)?.result?.environment;
  if (env !== undefined) lines.push(`Node ${env.node} on ${env.platform}/${env.arch}, ${env.cpus} CPUs.`, '');
  lines.push('| suite | status | rows |', '|---|---|---:|');
  for (const o of outcomes) {
    const status = o.result !== null ? 'ok' : (o.note ?? 'no result file');
    lines.push(`| ${escapeCell(o.suite)} | ${escapeCell(status)}${o.exitCode !== null && o.exitCode !== 0 ? ` (exit ${o.exitCode})` : ''} | ${o.result?.rows.length ?? 0} |`);
  }
  lines.push('', 'Ratio: ours / peer throughput at the same message size (above 1: ours is faster).', '');
  for (const o of outcomes) {
    if (o.result === null || o.result.rows.length === 0) continue;
    const rows = [...o.result.rows].sort((a, b) => a.messageBytes - b.messageBytes || (a.side === b.side ? a.impl.localeCompare(b.impl) : a.side === 'ours' ? -1 : 1));
    lines.push(`## ${o.suite}`, '');
    if (o.chart !== undefined) lines.push(`![throughput against message size, ${o.suite}](${o.chart})`, '');
    lines.push('| size | side | implementation | ops/s | bytes/s | ratio | task |', '|---:|---|---|---:|---:|---:|---|');
    for (const r of rows) {
      const ratio = rowRatio(r, o.result.rows);
      lines.push(
        `| ${formatSize(r.messageBytes)} | ${r.side} | ${escapeCell(r.impl)} | ${formatRate(r.opsPerSec)} | ${formatRate(r.bytesPerSec)}B/s | ${ratio === null ? '' : `${ratio.toFixed(2)}x`} | ${escapeCell(r.task)} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
