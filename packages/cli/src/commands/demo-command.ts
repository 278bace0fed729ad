/**
 * `lightbeam demo [--count N] [--size BYTES] [--workers N] [--remote host:port] [--hog]`.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { MAX_TIMER_MS, UsageError, parseIntOption } from '../common/cli-error.js';
import { runDemo } from '../demo/demo.js';
import { MAX_DEMO_SIZE } from '../demo/payload.js';
import { createProgress } from '../common/progress.js';
import { startCpuHog } from '../common/cpu-hog.js';
import { parseHostPortOption } from './options.js';
import type { SubcommandModule } from './subcommand.js';

interface DemoOpts {
  count: string;
  size: string;
  workers: string;
  remote?: string;
  timeoutMs: string;
  corruptEvery: string;
  progress: boolean;
  runs: string;
  act: string;
  localScale: string;
  hog: boolean;
}

/** Largest `--runs`. */
export const MAX_DEMO_RUNS = 99;

/** Largest `--count`. */
export const MAX_DEMO_COUNT = 10_000_000;
/** Largest `--workers`. */
export const MAX_DEMO_WORKERS = 64;

/**
 * Parses a byte size: `65536`, `64k`, `64KiB`, `1m`, `1MiB`.
 *
 * @throws UsageError naming the option and the value
 */
export function parseSizeOption(name: string, text: string, min: number, max: number): number {
  const m = /^(\d+)\s*(k|kib|kb|m|mib|mb)?$/i.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]) * (m[2] === undefined ? 1 : m[2].toLowerCase().startsWith('k') ? 1024 : 1 << 20);
  if (!Number.isSafeInteger(n) || n < min || n > max || n % 4 !== 0) {
    throw new UsageError(`${name} must be a multiple of 4 bytes from ${min} to ${max} (suffixes k, m), got ${JSON.stringify(text)}`);
  }
  return n;
}

/** The `demo` subcommand. */
export const demoCommand: SubcommandModule = {
  name: 'demo',
  register(program: Command): void {
    program
      .command('demo')
      .summary('Lightbeam against postMessage, in one process and across hosts, with a verdict per act')
      .description(
        'The main demo, in two acts, each path run --runs times (median and range printed), each act closed by one ' +
          'sentence naming the faster path, its median ratio and the range of the per-run ratios.\n\n' +
          'Act 1, one process: a producer hands payloads to worker threads that transform them in place and pass them ' +
          'to a consumer: over Transport.kShm (BULK_EXPOSE descriptors, blocks moved on, received in place: no copy) ' +
          'against the same pipeline over postMessage (clone, and transfer), on a stream of 256 B records, at 4 KiB and ' +
          '1 MiB, through a row of stages (one thread each) at 1 KiB, plus fan-outs where every worker reads the same ' +
          '1 MiB or 8 MiB payload. The consumer verifies every ' +
          'message; ties (within 10%) are named with their reason.\n\n' +
          'Act 2, across hosts: a producer fills payloads in shared memory; a piscina pool transforms them in place over ' +
          'Transport.kShm; the results cross the bridge over TCP to a second process standing in for a remote host, ' +
          'which verifies every checksum. The same workload then runs over postMessage and a raw zeromq.js PUSH. ' +
          'Exits 1 on any mismatch or lost message.\n\n' +
          'Across two hosts: on the far host run "lightbeam demo-remote --listen 0.0.0.0:9700" (it uses ports 9700-9702), ' +
          'then here "lightbeam demo --remote <far-host>:9700". Latencies then include the clock skew between the hosts.',
      )
      .option('--count <n>', 'act 2: messages per path and run', '2000')
      .option('--size <bytes>', 'act 2: payload bytes per message (multiple of 4; suffixes k, m)', '64k')
      .option('--workers <n>', 'worker threads', '2')
      .option('--runs <n>', 'runs of every path (median and range are printed)', '5')
      .option('--act <which>', 'run act 1 (one process), act 2 (across hosts) or both: 1, 2 or both', 'both')
      .option('--local-scale <factor>', "multiplies act 1's message counts", '1')
      .option('--remote <host:port>', 'a running "lightbeam demo-remote", host:port or tcp://host:port (default: start one here on 127.0.0.1)')
      .option('--timeout-ms <ms>', 'longest wait for any single step', '20000')
      .option('--hog', 'run every path beside one busy-looping process, as on a busy machine', false)
      .addOption(new Option('--corrupt-every <n>', 'damage every n-th payload after its checksum (fault injection)').default('0').hideHelp())
      .option('--no-progress', 'print plain lines even on a terminal')
      .action(async (opts: DemoOpts) => {
        const count = parseIntOption('--count', opts.count, 1);
        if (count > MAX_DEMO_COUNT) throw new UsageError(`--count must be at most ${MAX_DEMO_COUNT}, got ${count}`);
        const size = parseSizeOption('--size', opts.size, 4, MAX_DEMO_SIZE);
        const workers = parseIntOption('--workers', opts.workers, 1);
        if (workers > MAX_DEMO_WORKERS) throw new UsageError(`--workers must be at most ${MAX_DEMO_WORKERS}, got ${workers}`);
        const remote = opts.remote === undefined ? null : parseHostPortOption('--remote', opts.remote);
        const timeoutMs = parseIntOption('--timeout-ms', opts.timeoutMs, 1, MAX_TIMER_MS);
        const corruptEvery = parseIntOption('--corrupt-every', opts.corruptEvery, 0);
        const runs = parseIntOption('--runs', opts.runs, 1);
        if (runs > MAX_DEMO_RUNS) throw new UsageError(`--runs must be at most ${MAX_DEMO_RUNS}, got ${runs}`);
        const acts = ({ '1': 'local', '2': 'remote', both: 'both' } as const)[opts.act as '1' | '2' | 'both'];
        if (acts === undefined) throw new UsageError(`--act must be 1, 2 or both, got ${JSON.stringify(opts.act)}`);
        const localScale = Number(opts.localScale);
        if (!(localScale > 0 && localScale <= 100)) throw new UsageError(`--local-scale must be a number above 0 and at most 100, got ${JSON.stringify(opts.localScale)}`);
        // Ctrl-C: exit through process.exit so the 'exit' handlers kill the remote child.
        const onSigint = (): void => {
          process.stderr.write('lightbeam demo: interrupted\n');
          process.exit(130);
        };
        process.once('SIGINT', onSigint);
        process.once('SIGTERM', onSigint);
        // Started before any path runs, so every path and its peers meet the same load.
        const hog = opts.hog ? await startCpuHog() : null;
        if (hog !== null) process.stdout.write(`lightbeam demo: one busy-looping process beside every path (--hog, pid ${hog.pid})\n`);
        try {
          const bar = opts.progress && process.stdout.isTTY === true;
          const progress = createProgress({ bytes: false, enabled: opts.progress });
          await runDemo({ count, size, workers, remote, timeoutMs, corruptEvery, progress, progressLinesMs: bar ? 0 : 1000, runs, acts, localScale });
        } finally {
          await hog?.stop();
          process.removeListener('SIGINT', onSigint);
          process.removeListener('SIGTERM', onSigint);
        }
      });
  },
};
