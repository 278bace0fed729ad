/**
 * `lightbeam bench`: runs the suites under `bench/` as child processes (what `npx tsx
 * bench/<suite>.bench.ts` runs), each writing its result file (see `bench/support/report-format.ts`),
 * then writes the markdown report and the SVG charts with `bench/support/report-writer.ts`.
 *
 * The suites, their support code and what they need (tinybench, Vega, tsx) belong to a checkout
 * of the repository, not to the installed package: tsx is taken from the checkout (`--root`),
 * which has it among its devDependencies, so the installed command does not carry tsx and esbuild
 * for a command that cannot run without a checkout anyway.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CliError, UsageError } from '../common/cli-error.js';
import type { Progress } from '../common/progress.js';

/** Suffix of a suite file in `bench/`. */
export const SUITE_SUFFIX = '.bench.ts';
/** Environment variable telling a suite where to write its result file (as in report-format.ts). */
export const BENCH_OUT_ENV = 'LIGHTBEAM_BENCH_OUT';

/**
 * What `--quick` passes to each suite: fewer rounds and messages (each suite documents these
 * variables in its header comment), so that all the suites run in well under 3 minutes on a
 * 2-core machine. Figures from one round carry no range: quick runs are for a first look.
 * Suites not listed get one round.
 */
export const QUICK_ENV: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  alloc: { LBM_BENCH_ROUNDS: '3' },
  archive: { LBM_BENCH_ROUNDS: '3' },
  zmq: { LBM_BENCH_ROUNDS: '3' },
  shm: { LBM_BENCH_ROUNDS: '1' },
  bridge: { BRIDGE_BENCH_ROUNDS: '1', BRIDGE_BENCH_COUNT: '200', BRIDGE_BENCH_SMALL_COUNT: '4000', BRIDGE_BENCH_RTT: '300' },
  rpc: { LBM_BENCH_ROUNDS: '2', LBM_BENCH_RPC_RTT: '500', LBM_BENCH_RPC_TPUT: '5000' },
  fabric: { LBM_BENCH_ROUNDS: '2' },
};
/** What `--quick` passes to a suite {@link QUICK_ENV} does not list. */
export const QUICK_ENV_DEFAULT: Readonly<Record<string, string>> = { LBM_BENCH_ROUNDS: '1' };

/** What `bench/support/report-writer.ts` offers (it is loaded at run time, from the checkout). */
interface ReportWriterModule {
  readSuiteResult(suite: string, path: string, exitCode: number | null): Promise<ReportOutcome>;
  writeReport(outcomes: readonly ReportOutcome[], outDir: string): Promise<{ markdown: string; charts: string[] }>;
}

/** What the CLI uses of `tsx/esm/api` (tsx is the checkout's, found at run time). */
interface TsxEsmApi {
  tsImport(specifier: string, parentURL: string): Promise<unknown>;
}

/** The part of a suite outcome the CLI looks at. */
interface ReportOutcome {
  suite: string;
  result: { rows: unknown[] } | null;
  exitCode: number | null;
  note?: string;
}

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  /** The checkout: the folder holding `bench/`. */
  root: string;
  /** Where result files, logs, the report and the charts go. */
  outDir: string;
  /** Run only these suites (names as in `bench/<name>.bench.ts`); all when empty. */
  suites: readonly string[];
  /** Longest run of one suite before it is stopped. */
  suiteTimeoutMs: number;
  /** Progress and per-suite lines. */
  progress: Progress;
  /**
   * Shrink every suite's rounds and counts ({@link QUICK_ENV}).
   * @defaultValue false
   */
  quick?: boolean;
}

/** What {@link runBench} produced. */
export interface BenchReport {
  /** Path of the markdown report. */
  markdown: string;
  /** Paths of the SVG charts. */
  charts: string[];
  /** Per suite: exit code and whether it wrote a valid result file. */
  suites: Array<{
    /** The suite's name (`bench/<suite>.bench.ts`). */
    suite: string;
    /** Its exit code, or `null` when it was stopped. */
    exitCode: number | null;
    /** Result rows it wrote. */
    rows: number;
    /** Why it has no rows, or how it ended. */
    note?: string;
  }>;
}

/**
 * Lists the suites in `<root>/bench`.
 *
 * @param root - the checkout
 * @throws CliError when there is no `bench/` folder
 */
export async function listSuites(root: string): Promise<string[]> {
  const dir = join(root, 'bench');
  const names = await readdir(dir).catch(() => {
    throw new CliError(
      `no bench/ folder in ${root}: the suites are part of a Lightbeam repository checkout, not of the installed command ` +
        '(run "lightbeam bench" from the root of a checkout after "pnpm install" there, or pass --root <checkout>)',
    );
  });
  return names.filter((n) => n.endsWith(SUITE_SUFFIX)).map((n) => n.slice(0, -SUITE_SUFFIX.length)).sort();
}

/**
 * Runs the suites and writes the report.
 *
 * @param opts - checkout, output folder, suites, progress
 * @throws UsageError for an unknown suite; CliError when the report writer cannot be loaded
 */
export async function runBench(opts: RunBenchOptions): Promise<BenchReport> {
  const root = resolve(opts.root);
  const all = await listSuites(root);
  for (const s of opts.suites) {
    if (!all.includes(s)) throw new UsageError(`unknown suite ${JSON.stringify(s)}; suites in ${join(root, 'bench')}: ${all.join(', ') || '(none)'}`);
  }
  const suites = opts.suites.length > 0 ? [...opts.suites] : all;
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const writer = await loadReportWriter(root);
  const { progress } = opts;
  const outcomes: ReportOutcome[] = [];
  progress.start(suites.length, 'suites');
  for (let i = 0; i < suites.length; i++) {
    const suite = suites[i];
    const resultPath = join(outDir, `${suite}.json`);
    // A stale result from an earlier run must not pass for this run's.
    await rm(resultPath, { force: true });
    const logPath = join(outDir, `${suite}.log`);
    progress.log(`running ${suite} (output in ${logPath})`);
    const env = opts.quick === true ? (QUICK_ENV[suite] ?? QUICK_ENV_DEFAULT) : {};
    const t0 = performance.now();
    const exitCode = await runSuite(root, suite, outDir, logPath, opts.suiteTimeoutMs, env);
    const outcome = await writer.readSuiteResult(suite, resultPath, exitCode);
    outcomes.push(outcome);
    const rows = outcome.result?.rows.length ?? 0;
    progress.log(`${suite}: exit ${exitCode ?? 'timeout'}, ${outcome.result !== null ? `${rows} rows` : (outcome.note ?? 'no result file')}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    progress.update(i + 1);
  }
  progress.stop();
  const written = await writer.writeReport(outcomes, outDir);
  return {
    ...written,
    suites: outcomes.map((o) => ({ suite: o.suite, exitCode: o.exitCode, rows: o.result?.rows.length ?? 0, ...(o.note !== undefined ? { note: o.note } : {}) })),
  };
}

/**
 * Finds an entry point of tsx, as `import` would (its ESM file): in the checkout first (its
 * devDependencies), then wherever Node finds it from this package (a checkout running its own
 * built CLI).
 *
 * @throws CliError saying where tsx was looked for
 */
function resolveTsx(root: string, entry: './cli' | './esm/api'): string {
  for (const from of [join(root, 'package.json'), fileURLToPath(import.meta.url)]) {
    let pkgPath: string;
    try {
      pkgPath = createRequire(from).resolve('tsx/package.json');
    } catch {
      continue; // not there: try the next place
    }
    const target = importTarget((JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> }).exports?.[entry]);
    if (target !== null) return join(dirname(pkgPath), target);
  }
  throw new CliError(
    `no tsx in ${root} (nor beside this lightbeam): the suites run with the checkout's own devDependencies; run "pnpm install" in the checkout first`,
  );
}

/** The file an `exports` entry gives `import` (a path, or `{ import: { default } }` and the like). */
function importTarget(e: unknown): string | null {
  if (typeof e === 'string') return e;
  if (e === null || typeof e !== 'object') return null;
  const o = e as Record<string, unknown>;
  return importTarget(o.import ?? o.default ?? null);
}

async function loadReportWriter(root: string): Promise<ReportWriterModule> {
  const path = join(root, 'bench', 'support', 'report-writer.ts');
  await stat(path).catch(() => {
    throw new CliError(`missing ${path}: the report writer lives in the repository's bench/support/`);
  });
  const { tsImport } = (await import(pathToFileURL(resolveTsx(root, './esm/api')).href)) as TsxEsmApi;
  return (await tsImport(pathToFileURL(path).href, import.meta.url)) as ReportWriterModule;
}

/**
 * Kills every process of a suite's process group (the suite and whatever it started: peers,
 * `fi_pingpong`, workers). Gone already is fine.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the whole group has exited.
  }
}

/** How long a suite's group has to end on SIGTERM before it is killed. */
const TERM_GRACE_MS = 2000;

/**
 * Ends a suite's process group gently: SIGTERM first, so tsx and the suite can remove what they
 * keep in the temporary folder (tsx's ipc pipe), then SIGKILL for whatever is left after a grace.
 */
function terminateGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // ESRCH: the whole group has exited.
  }
  setTimeout(() => killGroup(pid), TERM_GRACE_MS).unref();
}

/**
 * Runs one suite; resolves its exit code, or `null` when it ran past the timeout and was killed.
 *
 * The suite leads a process group of its own, and once it exits that group is killed: a child it
 * left behind (a peer that outlived a throw) would otherwise hold the log pipe open, and the
 * runner, waiting for the pipe to close, would wait for the suite timeout.
 *
 * @throws CliError with exit code 128 + signal when SIGINT or SIGTERM stops the run (the suite's
 * group is ended first, SIGTERM then SIGKILL: it no longer hears the terminal)
 */
function runSuite(root: string, suite: string, outDir: string, logPath: string, timeoutMs: number, extraEnv: Readonly<Record<string, string>>): Promise<number | null> {
  return new Promise((resolveRun, reject) => {
    const log = createWriteStream(logPath);
    let tsxCli: string;
    try {
      tsxCli = resolveTsx(root, './cli');
    } catch (err) {
      reject(err);
      return;
    }
    const child = spawn(process.execPath, [tsxCli, join('bench', `${suite}${SUITE_SUFFIX}`)], {
      cwd: root,
      env: { ...process.env, ...extraEnv, [BENCH_OUT_ENV]: outDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    let timedOut = false;
    let stoppedBy: NodeJS.Signals | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      terminateGroup(child.pid);
    }, timeoutMs);
    const onSignal = (sig: NodeJS.Signals): void => {
      stoppedBy = sig;
      terminateGroup(child.pid);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const settle = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    child.once('error', (err) => {
      settle();
      log.end();
      reject(new CliError(`cannot start tsx for suite ${suite}: ${err.message}`));
    });
    // The suite itself is done: what it started goes with it, which also closes the pipes.
    child.once('exit', () => killGroup(child.pid));
    child.once('close', (code) => {
      settle();
      log.end(() => {
        if (stoppedBy !== null) {
          const n = stoppedBy === 'SIGINT' ? 2 : 15;
          reject(new CliError(`stopped by ${stoppedBy} while suite ${suite} ran (its processes were ended)`, 128 + n));
        } else {
          resolveRun(timedOut ? null : (code ?? 1));
        }
      });
    });
  });
}
