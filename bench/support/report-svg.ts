/**
 * The chart side of the benchmark report: one chart per family of measures (rows of one
 * `measure`), drawn by Vega-Lite and rendered to SVG by Vega in Node (no browser, no canvas).
 * Grouped bars, ours and each peer side by side at each size, on a log axis of operations per
 * second in the family's unit; each series has its own colour and its own marker. Bars, not
 * lines: a line between two sizes would claim a curve nobody measured, and a line between
 * different tasks means nothing. Rates, not bytes/s: a descriptor-only hand-off moves no bytes.
 */
import { View, parse } from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { familyOf } from './report-compare.js';
import type { BenchRow } from './report-format.js';
import { formatSize } from './report-markdown.js';

/** Twelve colours no two of which are easily confused (no two greens, no two oranges). */
export const SERIES_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#000000', '#bcbd22', '#7f7f7f', '#0b3d91'];
/**
 * Twelve filled markers, one per series: Vega's eight filled shapes, then a star, a hexagon, an X
 * and a pentagon as SVG paths (Vega's `stroke`, `arrow` and `wedge` are too thin to tell apart).
 */
export const SERIES_SHAPES = [
  'circle',
  'square',
  'triangle-up',
  'diamond',
  'cross',
  'triangle-down',
  'triangle-left',
  'triangle-right',
  'M0,-1L0.24,-0.33L0.95,-0.31L0.38,0.12L0.59,0.81L0,0.4L-0.59,0.81L-0.38,0.12L-0.95,-0.31L-0.24,-0.33Z',
  'M-1,0L-0.5,-0.87L0.5,-0.87L1,0L0.5,0.87L-0.5,0.87Z',
  'M-1,-0.6L-0.6,-1L0,-0.4L0.6,-1L1,-0.6L0.4,0L1,0.6L0.6,1L0,0.4L-0.6,1L-1,0.6L-0.4,0Z',
  'M0,-1L0.95,-0.31L0.59,0.81L-0.59,0.81L-0.95,-0.31Z',
];

/**
 * The families of `rows`, in first-seen order, each with its rows (zero rates left out: log axis).
 *
 * @param rows - one suite's rows
 */
export function families(rows: readonly BenchRow[]): Array<{ measure: string; rows: BenchRow[] }> {
  const out = new Map<string, BenchRow[]>();
  for (const r of rows) {
    if (!(r.opsPerSec > 0)) continue;
    const f = familyOf(r);
    const list = out.get(f) ?? [];
    list.push(r);
    out.set(f, list);
  }
  return [...out].map(([measure, rs]) => ({ measure, rows: rs }));
}

/**
 * The Vega-Lite spec of one family's chart (exported so tests and other tools can inspect it).
 *
 * @param suite - the suite, for the title
 * @param measure - the family
 * @param rows - its rows (one per implementation and size; a repeated point is drawn once)
 */
export function familySpec(suite: string, measure: string, rows: readonly BenchRow[]): TopLevelSpec {
  const seen = new Set<string>();
  const values = rows
    .filter((r) => r.opsPerSec > 0)
    .filter((r) => {
      const k = `${r.impl}@${r.messageBytes}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((r) => ({ series: `${r.impl} (${r.side})`, side: r.side, size: formatSize(r.messageBytes), bytes: r.messageBytes, rate: r.opsPerSec }));
  // Ours first in the legend and in each group, then the peers; colours and shapes in that order.
  const series = [...new Set(values.sort((a, b) => (a.side === b.side ? 0 : a.side === 'ours' ? -1 : 1)).map((v) => v.series))];
  const sizes = [...new Set([...values].sort((a, b) => a.bytes - b.bytes).map((v) => v.size))];
  const unit = rows.find((r) => r.unit !== undefined)?.unit ?? 'operations';
  const colour = { field: 'series', type: 'nominal' as const, title: 'implementation', scale: { domain: series, range: SERIES_COLOURS.slice(0, series.length) }, legend: { labelLimit: 0 } };
  const shape = { field: 'series', type: 'nominal' as const, title: 'implementation', scale: { domain: series, range: SERIES_SHAPES.slice(0, series.length) } };
  const x = { field: 'size', type: 'ordinal' as const, title: 'message size', sort: sizes, axis: { labelAngle: 0 } };
  // A log axis has no zero: the bars rise from a floor one decade under the lowest figure, and the
  // domain is given explicitly (Vega-Lite would otherwise try to include zero for bars).
  const rates = values.map((v) => v.rate);
  const floor = 10 ** Math.floor(Math.log10(Math.min(...rates)) - 0.5);
  const ceil = 10 ** Math.ceil(Math.log10(Math.max(...rates)) + 0.05);
  const y = { field: 'rate', type: 'quantitative' as const, scale: { type: 'log' as const, domain: [floor, ceil] }, title: `${unit} per second (log scale)`, axis: { format: '~s' } };
  const xOffset = { field: 'series', type: 'nominal' as const, sort: series };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: measure === suite ? suite : `${suite}: ${measure}`, subtitle: `${unit}/s, higher is better; medians` },
    width: { step: Math.max(14, Math.min(40, Math.floor(480 / Math.max(1, series.length * sizes.length)))) },
    height: 300,
    background: 'white',
    data: { values },
    encoding: { x, xOffset, y },
    layer: [
      { mark: { type: 'bar', opacity: 0.85 }, encoding: { color: colour, y2: { datum: floor } } },
      { mark: { type: 'point', filled: true, size: 110, stroke: 'white', strokeWidth: 0.8 }, encoding: { color: colour, shape } },
    ],
  };
}

/**
 * Renders one family's chart to an SVG document.
 *
 * @param suite - the suite name
 * @param measure - the family
 * @param rows - its rows
 * @returns the SVG text
 */
export async function renderFamilySvg(suite: string, measure: string, rows: readonly BenchRow[]): Promise<string> {
  const vegaSpec = compile(familySpec(suite, measure, rows)).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
