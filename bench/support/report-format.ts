/**
 * The benchmark result file: what every `bench/<topic>.bench.ts` writes so `lightbeam bench`
 * can gather the suites into one markdown table and SVG charts.
 *
 * ## How a suite emits it
 *
 * ```ts
 * import { writeBenchResult } from './support/report-format.js';
 * // after bench.run():
 * await writeBenchResult('zmq', [
 *   { task: 'send transport=zmq size=64KiB', side: 'ours', impl: 'lightbeam zmq', messageBytes: 65536, opsPerSec, bytesPerSec },
 *   { task: 'raw zeromq.js size=64KiB', side: 'peer', impl: 'zeromq.js raw', messageBytes: 65536, opsPerSec, bytesPerSec, ratio: ours / peer },
 * ]);
 * ```
 *
 * The file lands in `$LIGHTBEAM_BENCH_OUT/<suite>.json` (`lightbeam bench` sets the variable),
 * else in `bench/results/<suite>.json`. A suite that writes nothing is still run and listed as
 * "no result file" in the report.
 *
 * ## The JSON (format `lightbeam-bench/1`)
 *
 * | field | type | meaning |
 * |---|---|---|
 * | `format` | `"lightbeam-bench/1"` | this layout |
 * | `suite` | string | the topic, as in `bench/<suite>.bench.ts` |
 * | `createdAt` | string | ISO 8601 time of the run |
 * | `environment` | object | `node`, `platform`, `arch`, `cpus` of the machine |
 * | `rows` | array | one per task, see {@link BenchRow} |
 *
 * Each row: `suite`, `task` (tinybench name, carrying its parameters), `side` (`"ours"` or
 * `"peer"`), `impl` (the series name in the chart: `"lightbeam shm"`, `"postMessage copy"`),
 * `messageBytes` (the payload of one operation), `opsPerSec`, `bytesPerSec`, and on peer rows
 * `ratio`: ours divided by this peer at the same size and workload (above 1: ours is better);
 * `null` or absent when the suite did not compute it.
 *
 * Optional, so that the report can say exactly what is compared with what:
 *
 * | field | on | meaning |
 * |---|---|---|
 * | `measure` | any row | the family of measures the row belongs to (`round trip 64 B main<->worker`): one chart and one group of the report's table per family; rows of one family measure the same task at different sizes or by different implementations |
 * | `unit` | any row | what one operation is (`messages`, `round trips`, `alloc+free pairs`); figures are shown as that unit per second |
 * | `vs` | peer rows | the `task` of the ours row that `ratio` compares this peer with |
 * | `goal` | peer rows | the ratio the project aims for (ours better above 1): the report says whether it is met |
 * | `also` | peer rows | further comparisons of this peer, each `{ vs, ratio, goal? }` |
 *
 * Without `measure`, a row's family is its suite; without `vs`, the ours row of the same family
 * and size when there is exactly one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** The format tag of {@link BenchResultFile}. */
export const BENCH_FORMAT = 'lightbeam-bench/1';
/** Environment variable naming the folder result files go to. */
export const BENCH_OUT_ENV = 'LIGHTBEAM_BENCH_OUT';
/** Folder result files go to when {@link BENCH_OUT_ENV} is not set (git-ignored). */
export const DEFAULT_BENCH_OUT = 'bench/results';

/** Which side of the comparison a row measures. */
export type BenchSide = 'ours' | 'peer';

/** One measured task. */
export interface BenchRow {
  /** The suite, as in `bench/<suite>.bench.ts`. */
  suite: string;
  /** The tinybench task name, carrying its parameters. */
  task: string;
  /** `ours` for this library, `peer` for what it is compared with. */
  side: BenchSide;
  /** Series name: the implementation measured (`lightbeam zmq`, `zeromq.js raw`, ...). */
  impl: string;
  /** Bytes of payload one operation moves. */
  messageBytes: number;
  /** Operations per second. */
  opsPerSec: number;
  /** Payload bytes per second (`opsPerSec * messageBytes` unless the suite knows better). */
  bytesPerSec: number;
  /** Peer rows: ours / this peer at the same size; above 1 means ours is better. */
  ratio?: number | null;
  /** The family of measures this row belongs to (one chart per family); the suite when absent. */
  measure?: string;
  /** What one operation is (`messages`, `round trips`); figures are shown per second of it. */
  unit?: string;
  /** Peer rows: the `task` of the ours row that `ratio` compares with. */
  vs?: string;
  /** Peer rows: the ratio aimed for (above 1 = ours better); the report says whether it is met. */
  goal?: number | null;
  /** Peer rows: further comparisons with other ours rows. */
  also?: BenchComparison[];
}

/** One more comparison of a peer row with an ours row (see {@link BenchRow.also}). */
export interface BenchComparison {
  /** The `task` of the ours row. */
  vs: string;
  /** Ours / this peer (above 1 = ours better). */
  ratio: number;
  /** The ratio aimed for, if any. */
  goal?: number | null;
}

/** The content of one result file. */
export interface BenchResultFile {
  /** Always {@link BENCH_FORMAT}. */
  format: typeof BENCH_FORMAT;
  /** The suite. */
  suite: string;
  /** ISO 8601 time of the run. */
  createdAt: string;
  /** The machine. */
  environment: { node: string; platform: string; arch: string; cpus: number };
  /** The measurements. */
  rows: BenchRow[];
}

/** A row as a suite hands it to {@link writeBenchResult}: `suite` is filled in. */
export type BenchRowInput = Omit<BenchRow, 'suite'>;

/**
 * Builds a result file's content.
 *
 * @param suite - the suite name
 * @param rows - the measurements
 */
export function makeBenchResult(suite: string, rows: readonly BenchRowInput[]): BenchResultFile {
  const file: BenchResultFile = {
    format: BENCH_FORMAT,
    suite,
    createdAt: new Date().toISOString(),
    environment: { node: process.version, platform: process.platform, arch: process.arch, cpus: cpus().length },
    rows: rows.map((r) => ({ suite, ...r })),
  };
  return validateBenchResult(file, `suite ${suite}`);
}

/**
 * Writes a suite's result file to `$LIGHTBEAM_BENCH_OUT/<suite>.json` (or `bench/results/`).
 *
 * @param suite - the suite name
 * @param rows - the measurements
 * @returns the path written
 */
export async function writeBenchResult(suite: string, rows: readonly BenchRowInput[]): Promise<string> {
  const dir = process.env[BENCH_OUT_ENV] ?? DEFAULT_BENCH_OUT;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${suite}.json`);
  await writeFile(path, `${JSON.stringify(makeBenchResult(suite, rows), null, 2)}\n`);
  return path;
}

/**
 * Checks that `value` is a valid result file and returns it typed.
 *
 * @param value - parsed JSON
 * @param where - names the source in errors (a path)
 * @throws Error naming the source, the field and what is wrong
 */
export function validateBenchResult(value: unknown, where: string): BenchResultFile {
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) fail('not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.format !== BENCH_FORMAT) fail(`format must be ${JSON.stringify(BENCH_FORMAT)}, got ${JSON.stringify(v.format)}`);
  if (typeof v.suite !== 'string' || v.suite === '') fail('suite must be a non-empty string');
  if (typeof v.createdAt !== 'string') fail('createdAt must be a string');
  if (!Array.isArray(v.rows)) fail('rows must be an array');
  (v.rows as unknown[]).forEach((r, i) => {
    const row = r as Record<string, unknown>;
    const at = `rows[${i}]`;
    if (typeof row !== 'object' || row === null) fail(`${at} is not an object`);
    for (const k of ['suite', 'task', 'impl']) if (typeof row[k] !== 'string' || row[k] === '') fail(`${at}.${k} must be a non-empty string`);
    if (row.side !== 'ours' && row.side !== 'peer') fail(`${at}.side must be "ours" or "peer", got ${JSON.stringify(row.side)}`);
    for (const k of ['messageBytes', 'opsPerSec', 'bytesPerSec']) {
      if (typeof row[k] !== 'number' || !Number.isFinite(row[k]) || (row[k] as number) < 0) fail(`${at}.${k} must be a finite number >= 0`);
    }
    if (row.ratio !== undefined && row.ratio !== null && (typeof row.ratio !== 'number' || !Number.isFinite(row.ratio))) fail(`${at}.ratio must be a number or null`);
    if (row.goal !== undefined && row.goal !== null && (typeof row.goal !== 'number' || !(row.goal > 0))) fail(`${at}.goal must be a number above 0 or null`);
    for (const k of ['measure', 'unit', 'vs']) if (row[k] !== undefined && (typeof row[k] !== 'string' || row[k] === '')) fail(`${at}.${k} must be a non-empty string when present`);
    if (row.also !== undefined) {
      if (!Array.isArray(row.also)) fail(`${at}.also must be an array`);
      (row.also as unknown[]).forEach((c, j) => {
        const x = c as Record<string, unknown>;
        if (typeof x !== 'object' || x === null || typeof x.vs !== 'string' || typeof x.ratio !== 'number' || !Number.isFinite(x.ratio)) fail(`${at}.also[${j}] must be { vs: string, ratio: number, goal? }`);
      });
    }
  });
  if (typeof v.environment !== 'object' || v.environment === null) fail('environment must be an object');
  return v as unknown as BenchResultFile;
}
