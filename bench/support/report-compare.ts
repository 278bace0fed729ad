/**
 * Which of our rows each peer row is compared with, read from a suite's result rows: the pairing
 * the suite declared (`vs`, `also`), else the only ours row of the same family and size. The
 * report's tables and its checks are built from this list, so a reader can always tell which of
 * our figures a ratio belongs to.
 */
import type { BenchRow } from './report-format.js';

/** Family name of a row: its `measure`, else its suite. */
export function familyOf(row: BenchRow): string {
  return row.measure ?? row.suite;
}

/** One line of a suite's table: a peer, the ours row it is compared with, the ratio. */
export interface Comparison {
  /** The family of measures. */
  measure: string;
  /** The peer row. */
  peer: BenchRow;
  /** The ours row, or `null` when none could be told. */
  ours: BenchRow | null;
  /** Ours / peer, above 1 = ours better: the suite's figure, else computed from the two rows. */
  ratio: number | null;
  /**
   * Ours / peer computed from the two rows' figures (operations per second): the ratio a reader
   * checks against the two numbers printed beside it. `null` without an ours row.
   */
  figures: number | null;
  /**
   * The suite's own ratio, when it gave one: for suites that pair their rounds, the median of the
   * per-round ratios, which may differ from {@link Comparison.figures} (a median of ratios is not
   * the ratio of medians).
   */
  suiteRatio: number | null;
  /** The ratio aimed for, if any. */
  goal: number | null;
}

/**
 * The comparisons of one suite, in row order, and the ours rows no peer is compared with.
 *
 * @param rows - the suite's rows
 */
export function comparisonsOf(rows: readonly BenchRow[]): { comparisons: Comparison[]; unpaired: BenchRow[] } {
  const byTask = new Map<string, BenchRow>();
  for (const r of rows) if (r.side === 'ours') byTask.set(r.task, r);
  const comparisons: Comparison[] = [];
  const used = new Set<BenchRow>();
  const computed = (ours: BenchRow | null, peer: BenchRow): number | null => (ours === null || peer.opsPerSec === 0 ? null : ours.opsPerSec / peer.opsPerSec);
  for (const peer of rows) {
    if (peer.side !== 'peer') continue;
    const measure = familyOf(peer);
    let ours: BenchRow | null = null;
    if (peer.vs !== undefined) {
      ours = byTask.get(peer.vs) ?? null;
    } else {
      const same = rows.filter((r) => r.side === 'ours' && familyOf(r) === measure && r.messageBytes === peer.messageBytes);
      if (same.length === 1) ours = same[0];
    }
    if (ours !== null) used.add(ours);
    const suiteRatio = typeof peer.ratio === 'number' ? peer.ratio : null;
    const figures = computed(ours, peer);
    comparisons.push({ measure, peer, ours, ratio: suiteRatio ?? figures, figures, suiteRatio, goal: peer.goal ?? null });
    for (const more of peer.also ?? []) {
      const o = byTask.get(more.vs) ?? null;
      if (o !== null) used.add(o);
      comparisons.push({ measure, peer, ours: o, ratio: more.ratio, figures: computed(o, peer), suiteRatio: more.ratio, goal: more.goal ?? null });
    }
  }
  return { comparisons, unpaired: rows.filter((r) => r.side === 'ours' && !used.has(r)) };
}

/**
 * Whether a ratio is consistent with the two figures it compares: above 1 exactly when ours
 * does more operations per second (a ratio near 1 from per-round medians may differ slightly
 * from the ratio of the medians: `tolerance` allows that).
 *
 * @param c - a comparison with both rows
 * @param tolerance - how far from 1 a disagreement is still accepted
 */
export function directionAgrees(c: Comparison, tolerance = 0.05): boolean {
  if (c.ours === null || c.ratio === null || c.peer.opsPerSec === 0) return true;
  const figures = c.ours.opsPerSec / c.peer.opsPerSec;
  if (Math.abs(c.ratio - 1) <= tolerance || Math.abs(figures - 1) <= tolerance) return true;
  return c.ratio > 1 === figures > 1;
}
