/**
 * The markdown side of the benchmark report: one table per suite, each peer beside the one of
 * our rows it is compared with, the ratio (above 1 = ours better), the goal and whether it is met.
 */
import { comparisonsOf, familyOf } from './report-compare.js';
import type { BenchResultFile, BenchRow } from './report-format.js';

/** How one suite's run went, as `lightbeam bench` saw it. */
export interface SuiteOutcome {
  /** The suite name. */
  suite: string;
  /** Its result file, or `null` when it wrote none. */
  result: BenchResultFile | null;
  /** Exit code of the suite's process (`null` when it was not run, e.g. a fixture). */
  exitCode: number | null;
  /** The charts drawn for it (file names next to the markdown), one per family of measures. */
  charts?: Array<{ measure: string; file: string }>;
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
 * The ratio of a peer row: the suite's own, else ours / peer computed from the ours row it is
 * compared with (see report-compare.ts); `null` for ours rows and when it cannot be known.
 *
 * @param row - the row
 * @param rows - all rows of its suite
 */
export function rowRatio(row: BenchRow, rows: readonly BenchRow[]): number | null {
  if (row.side === 'ours') return null;
  return comparisonsOf(rows).comparisons.find((c) => c.peer === row)?.ratio ?? null;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A row's figure as people read it: `1.23M messages/s`, plus the time of one for round trips. */
export function formatFigure(r: BenchRow): string {
  const unit = r.unit ?? 'ops';
  const per = unit === 'round trips' && r.opsPerSec > 0 ? ` (${(1e6 / r.opsPerSec).toFixed(2)} us each)` : '';
  return `${formatRate(r.opsPerSec)} ${unit}/s${per}`;
}

/** The direction of a ratio in words: `(better)` above 1, `(worse)` below, `(even)` when it rounds to 1.00. */
export function ratioWord(ratio: number): string {
  if (ratio.toFixed(2) === '1.00') return '(even)';
  return ratio > 1 ? '(better)' : '(worse)';
}

/**
 * The header of each suite's table. Two ratios, each named for what it is: the ratio of the two
 * figures printed beside it (which a reader can check), and the suite's own statistic (the median
 * of per-round ratios, for suites that pair their rounds), on which the goal is judged.
 */
export const TABLE_HEADER =
  "| measure | peer | peer figure | ours | ours / peer, of these figures (above 1 = ours better) | suite's own ratio (median of per-round ratios where its rounds are paired) | goal | met |";

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
  lines.push(
    '',
    'Each table sets a peer beside the one of our rows it is compared with. Ratio: ours / peer in operations per second at the same ' +
      'size and workload (for round trips: the peer\'s time over ours), so above 1 means ours is better, below 1 worse. ' +
      'Figures are medians over the suite\'s rounds; descriptor-only hand-offs are counted in messages, never bytes. ' +
      'The first ratio is computed from the two figures beside it. Where a suite pairs its rounds (ours and the peer ' +
      'measured back to back), it also gives the median of the per-round ratios, in its own column: a fair statistic on a ' +
      'noisy machine, which can differ from the ratio of the two medians. A goal is judged on the suite\'s ratio where ' +
      'it gives one, else on the ratio of the figures.',
    '',
  );
  for (const o of outcomes) {
    if (o.result === null || o.result.rows.length === 0) continue;
    const { comparisons, unpaired } = comparisonsOf(o.result.rows);
    lines.push(`## ${o.suite}`, '');
    for (const c of o.charts ?? []) lines.push(`![${escapeCell(c.measure)}](${c.file})`, '');
    lines.push(TABLE_HEADER, '|---|---|---:|---|---:|---:|---:|---|');
    for (const c of comparisons) {
      const word = (r: number | null): string => (r === null ? '-' : `${r.toFixed(2)}x ${ratioWord(r)}`);
      const ours = c.ours === null ? '(not named by the suite)' : `${c.ours.impl}: ${formatFigure(c.ours)}`;
      const met = c.goal === null || c.ratio === null ? '' : c.ratio >= c.goal ? 'met' : 'NOT met';
      lines.push(
        `| ${escapeCell(`${c.measure}, ${formatSize(c.peer.messageBytes)}`)} | ${escapeCell(c.peer.impl)} | ${formatFigure(c.peer)} | ${escapeCell(ours)} | ${word(c.figures)} | ${word(c.suiteRatio)} | ${c.goal === null ? '' : `>= ${c.goal.toFixed(2)}x`} | ${met} |`,
      );
    }
    if (unpaired.length > 0) {
      lines.push('', 'Also measured, with no peer of their own:', '');
      for (const r of unpaired) lines.push(`- ${escapeCell(familyOf(r))}, ${formatSize(r.messageBytes)}: ${escapeCell(r.impl)}, ${formatFigure(r)} (\`${escapeCell(r.task)}\`)`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
