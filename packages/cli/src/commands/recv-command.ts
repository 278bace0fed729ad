/**
 * `lightbeam recv --listen <host:port> --out <dir> [--count N] [--timeout-ms T]`.
 */
import type { Command } from 'commander';
import { MAX_BUFFER_BYTES, MAX_PORT, MAX_TIMER_MS, parseIntOption } from '../common/cli-error.js';
import { parseServerCurve } from '../common/curve-options.js';
import { DEFAULT_MAX_OPEN_FILES, DEFAULT_MAX_TRANSFERS, DEFAULT_RECV_MESSAGE_BYTES, DEFAULT_TRANSFER_IDLE_MS } from '../files/receiver-limits.js';
import { createProgress } from '../common/progress.js';
import { receiveFiles } from '../files/recv-files.js';
import { parseHostPortOption } from './options.js';
import type { SubcommandModule } from './subcommand.js';

interface RecvOpts {
  listen: string;
  out: string;
  count?: string;
  timeoutMs?: string;
  maxMessageBytes: string;
  maxOpenFiles: string;
  maxTransfers: string;
  idleMs: string;
  replyPort?: string;
  curveSecretKey?: string;
  curvePublicKey?: string;
  curveAllow?: string[];
  json: boolean;
  force?: boolean;
  progress: boolean;
}

/** The `recv` subcommand. */
export const recvCommand: SubcommandModule = {
  name: 'recv',
  register(program: Command): void {
    program
      .command('recv')
      .summary('receive files sent by "lightbeam send" into a folder')
      .description(
        'Receive files sent by "lightbeam send" into a folder. Every SHA-256 is verified before a file gets its name; ' +
          'names that would land outside the folder (absolute, "..", NUL bytes, symbolic links), and names of files ' +
          'already there (unless --force), are refused and the receiver keeps running. Exits 1 if anything was refused or failed, or if --timeout-ms passed before --count transfers.',
      )
      .requiredOption('--listen <host:port>', 'address to bind, host:port or tcp://host:port, e.g. 0.0.0.0:9000')
      .requiredOption('--out <dir>', 'output folder (created if missing)')
      .option('--count <n>', 'exit after this many transfers (one per "lightbeam send" run)')
      .option('--timeout-ms <ms>', 'give up after this long without a message')
      .option(
        '--max-message-bytes <n>',
        'refuse messages carrying more data than this; a larger single frame is dropped by ZeroMQ before it is read',
        String(DEFAULT_RECV_MESSAGE_BYTES),
      )
      .option('--max-open-files <n>', 'files written at once over every transfer; at the bound the transfer silent the longest is abandoned', String(DEFAULT_MAX_OPEN_FILES))
      .option('--max-transfers <n>', 'transfers in progress at once; a new one abandons the transfer silent the longest', String(DEFAULT_MAX_TRANSFERS))
      .option('--idle-ms <ms>', 'abandon a transfer (closing and removing its partial files) after this long without a message', String(DEFAULT_TRANSFER_IDLE_MS))
      .option('--reply-port <port>', 'port on which senders are told what was verified (default: the --listen port + 1)')
      .option('--curve-secret-key <z85>', 'CURVE: this receiver\'s secret key (encrypts and authenticates both ports)')
      .option('--curve-public-key <z85>', 'CURVE: this receiver\'s public key (senders give it as --curve-server-key)')
      // No default list: Commander would print "(default: [])" in the help.
      .option('--curve-allow <z85,...>', 'CURVE: admit only these sender public keys (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .option('--force', 'replace files already in the output folder (without it each such file is refused and kept)')
      .option('--json', 'print JSON lines only on stdout (listening, then one per finished transfer); the per-file lines go to stderr')
      .option('--no-progress', 'print plain lines even on a terminal')
      .action(async (opts: RecvOpts) => {
        const listen = parseHostPortOption('--listen', opts.listen);
        const count = opts.count === undefined ? undefined : parseIntOption('--count', opts.count, 1);
        const timeoutMs = opts.timeoutMs === undefined ? undefined : parseIntOption('--timeout-ms', opts.timeoutMs, 1, MAX_TIMER_MS);
        const limits = {
          maxMessageBytes: parseIntOption('--max-message-bytes', opts.maxMessageBytes, 1, MAX_BUFFER_BYTES),
          maxOpenFiles: parseIntOption('--max-open-files', opts.maxOpenFiles, 1),
          maxTransfers: parseIntOption('--max-transfers', opts.maxTransfers, 1),
          idleMs: parseIntOption('--idle-ms', opts.idleMs, 1, MAX_TIMER_MS),
        };
        const replyPort = opts.replyPort === undefined ? undefined : parseIntOption('--reply-port', opts.replyPort, 1, MAX_PORT);
        const curve = parseServerCurve(opts);
        // With --json, stdout carries JSON lines only: the per-file lines are for people, on stderr.
        const progress = createProgress({ bytes: true, enabled: opts.progress && !opts.json, out: opts.json ? process.stderr : process.stdout });
        const ok = await receiveFiles({ host: listen.host, port: listen.port, outDir: opts.out, count, timeoutMs, ...limits, replyPort, curve, json: opts.json, force: opts.force === true, progress });
        if (!ok) process.exitCode = 1;
      });
  },
};
