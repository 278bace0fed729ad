/**
 * `lightbeam bench [--out <dir>] [--suite <name>]`.
 */
import type { Command } from 'commander';
import { MAX_TIMER_MS, parseIntOption } from '../common/cli-error.js';
import { runBench } from '../bench/bench-runner.js';
import { createProgress } from '../common/progress.js';
import type { SubcommandModule } from './subcommand.js';

interface BenchOpts {
  out: string;
  suite: string[];
  root: string;
  suiteTimeoutMs: string;
  progress: boolean;
  quick: boolean;
}

/** The `bench` subcommand. */
export const benchCommand: SubcommandModule = {
  name: 'bench',
  register(program: Command): void {
    program
      .command('bench')
      .summary('run the benchmark suites and write a markdown table and SVG charts')
      .description(
        'Run the benchmark suites under bench/ (each in its own process, as "npx tsx bench/<suite>.bench.ts"), then write report.md and one ' +
          'SVG chart per family of measures (grouped bars of ours against each peer at each size, log axis) into the output folder. Suites ' +
          'emit their results in the format of bench/support/report-format.ts; a suite that writes none is listed as such.',
      )
      .option('--out <dir>', 'folder for result files, logs, report.md and charts', 'bench/results')
      .option('--suite <name>', 'run only this suite (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--root <dir>', 'the repository checkout holding bench/', '.')
      .option('--suite-timeout-ms <ms>', 'stop a suite that runs longer than this', '600000')
      .option('--quick', 'fewer rounds and messages in every suite (one to two minutes in all on 2 cores): a first look, not figures to quote')
      .option('--no-progress', 'print plain lines even on a terminal')
      .action(async (opts: BenchOpts) => {
        const suiteTimeoutMs = parseIntOption('--suite-timeout-ms', opts.suiteTimeoutMs, 1, MAX_TIMER_MS);
        const progress = createProgress({ bytes: false, enabled: opts.progress });
        const r = await runBench({ root: opts.root, outDir: opts.out, suites: opts.suite, suiteTimeoutMs, progress, quick: opts.quick === true });
        progress.log(`wrote ${r.markdown}${r.charts.length > 0 ? ` and ${r.charts.length} chart(s): ${r.charts.join(', ')}` : ' (no chart: no suite wrote results)'}`);
        if (r.suites.some((s) => s.exitCode !== 0)) process.exitCode = 1;
      });
  },
};
