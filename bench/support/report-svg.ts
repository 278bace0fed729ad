/**
 * The chart side of the benchmark report: throughput against message size, one line per
 * implementation (ours solid, peers dashed), drawn by Vega-Lite and rendered to SVG by Vega in
 * Node (no browser, no canvas).
 */
import { View, parse } from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { BenchRow } from './report-format.js';

/**
 * The Vega-Lite spec of one suite's chart (exported so tests and other tools can inspect it).
 *
 * @param suite - the suite, for the title
 * @param rows - its rows; rows with a zero size or rate are left out (log scales)
 */
export function throughputSpec(suite: string, rows: readonly BenchRow[]): TopLevelSpec {
  const values = rows
    .filter((r) => r.messageBytes > 0 && r.bytesPerSec > 0)
    .map((r) => ({ impl: r.impl, side: r.side, messageBytes: r.messageBytes, bytesPerSec: r.bytesPerSec, task: r.task }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${suite}: throughput against message size`, subtitle: 'ours solid, peers dashed; log scales' },
    width: 560,
    height: 320,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'messageBytes', type: 'quantitative', scale: { type: 'log' }, title: 'message size (bytes)' },
      y: { field: 'bytesPerSec', type: 'quantitative', scale: { type: 'log' }, title: 'throughput (bytes/s)', axis: { format: '~s' } },
      color: { field: 'impl', type: 'nominal', title: 'implementation', legend: { labelLimit: 0 } },
      strokeDash: { field: 'side', type: 'nominal', title: 'side', scale: { domain: ['ours', 'peer'], range: [[1, 0], [6, 4]] } },
      detail: { field: 'impl', type: 'nominal' },
    },
  };
}

/**
 * Renders one suite's chart to an SVG document.
 *
 * @param suite - the suite name
 * @param rows - its rows
 * @returns the SVG text
 */
export async function renderThroughputSvg(suite: string, rows: readonly BenchRow[]): Promise<string> {
  const vegaSpec = compile(throughputSpec(suite, rows)).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
