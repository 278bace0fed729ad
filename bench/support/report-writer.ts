/**
 * Gathers result files into `report.md` plus one `<suite>.svg` per suite. Used by
 * `lightbeam bench` (loaded at run time through tsx) and usable on its own.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateBenchResult } from './report-format.js';
import type { SuiteOutcome } from './report-markdown.js';
import { renderMarkdown } from './report-markdown.js';
import { renderThroughputSvg } from './report-svg.js';

/** File name of the markdown report. */
export const REPORT_MARKDOWN = 'report.md';

/**
 * Reads a suite's result file.
 *
 * @param path - the JSON file
 * @returns the outcome: its result, or a note saying why there is none (missing, invalid)
 */
export async function readSuiteResult(suite: string, path: string, exitCode: number | null): Promise<SuiteOutcome> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { suite, result: null, exitCode, note: 'no result file' };
  }
  try {
    return { suite, result: validateBenchResult(JSON.parse(text), path), exitCode };
  } catch (err) {
    return { suite, result: null, exitCode, note: `invalid result file: ${(err as Error).message}` };
  }
}

/**
 * Writes `report.md` and one SVG chart per suite with rows into `outDir`.
 *
 * @param outcomes - one per suite
 * @param outDir - existing folder
 * @returns the paths written
 */
export async function writeReport(outcomes: readonly SuiteOutcome[], outDir: string): Promise<{ markdown: string; charts: string[] }> {
  const charts: string[] = [];
  const withCharts: SuiteOutcome[] = [];
  for (const o of outcomes) {
    if (o.result === null || !o.result.rows.some((r) => r.messageBytes > 0 && r.bytesPerSec > 0)) {
      withCharts.push(o);
      continue;
    }
    const name = `${o.suite.replace(/[^A-Za-z0-9._-]/g, '_')}.svg`;
    const path = join(outDir, name);
    await writeFile(path, await renderThroughputSvg(o.suite, o.result.rows));
    charts.push(path);
    withCharts.push({ ...o, chart: name });
  }
  const markdown = join(outDir, REPORT_MARKDOWN);
  await writeFile(markdown, renderMarkdown(withCharts));
  return { markdown, charts };
}
