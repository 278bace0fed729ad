/**
 * Gathers result files into `report.md` plus one `<suite>-<family>.svg` per family of measures. Used by
 * `lightbeam bench` (loaded at run time through tsx) and usable on its own.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateBenchResult } from './report-format.js';
import type { SuiteOutcome } from './report-markdown.js';
import { renderMarkdown } from './report-markdown.js';
import { families, renderFamilySvg } from './report-svg.js';

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

/** A file-name-safe form of a family's name: `round trip 64 B` -> `round-trip-64-b`. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'all';
}

/**
 * Writes `report.md` and one SVG chart per family of measures of each suite with rows into `outDir`.
 *
 * @param outcomes - one per suite
 * @param outDir - existing folder
 * @returns the paths written
 */
export async function writeReport(outcomes: readonly SuiteOutcome[], outDir: string): Promise<{ markdown: string; charts: string[] }> {
  const charts: string[] = [];
  const withCharts: SuiteOutcome[] = [];
  for (const o of outcomes) {
    if (o.result === null) {
      withCharts.push(o);
      continue;
    }
    const drawn: Array<{ measure: string; file: string }> = [];
    const suite = o.suite.replace(/[^A-Za-z0-9._-]/g, '_');
    const fams = families(o.result.rows);
    for (const f of fams) {
      // A suite with one family keeps the plain `<suite>.svg` name.
      const file = fams.length === 1 && f.measure === o.suite ? `${suite}.svg` : `${suite}-${slug(f.measure)}.svg`;
      const path = join(outDir, file);
      await writeFile(path, await renderFamilySvg(o.suite, f.measure, f.rows));
      charts.push(path);
      drawn.push({ measure: f.measure, file });
    }
    withCharts.push({ ...o, charts: drawn });
  }
  const markdown = join(outDir, REPORT_MARKDOWN);
  await writeFile(markdown, renderMarkdown(withCharts));
  return { markdown, charts };
}
