/**
 * `lightbeam send --to <host:port> <files or folders...>`.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { MAX_BUFFER_BYTES, MAX_PORT, MAX_TIMER_MS, parseIntOption } from '../common/cli-error.js';
import { parseClientCurve } from '../common/curve-options.js';
import { parseHostPortOption } from './options.js';
import { createProgress, formatBytes } from '../common/progress.js';
import { sendFiles } from '../files/send-files.js';
import type { SendSummary } from '../files/send-files.js';
import { DEFAULT_MESSAGE_BYTES } from '../files/send-plan.js';
import type { SubcommandModule } from './subcommand.js';

interface SendOpts {
  to: string;
  timeoutMs: string;
  messageBytes: string;
  progress: boolean;
  confirm: boolean;
  replyPort?: string;
  curveServerKey?: string;
  curvePublicKey?: string;
  curveSecretKey?: string;
}

/** The `send` subcommand. */
export const sendCommand: SubcommandModule = {
  name: 'send',
  register(program: Command): void {
    program
      .command('send')
      .summary('send files and folders to a "lightbeam recv"')
      .description(
        'Send files and folders to a "lightbeam recv" over the ZeroMQ transport. Folders are sent with their tree ' +
          '(as scp -r); symbolic links are skipped. Each file travels with its size and SHA-256, which the receiver verifies ' +
          'and confirms back on its reply port (the data port + 1); send exits 0 only once every file is confirmed.',
      )
      .argument('<paths...>', 'files and folders to send')
      .requiredOption('--to <host:port>', 'the receiver, host:port or tcp://host:port, e.g. 10.0.0.2:9000')
      .option('--timeout-ms <ms>', 'how long to wait for the receiver (reachability, queue room, each confirmation)', '30000')
      .option('--message-bytes <n>', 'data carried by one message; larger files are split', String(DEFAULT_MESSAGE_BYTES))
      .option('--reply-port <port>', "the receiver's reply port (default: the data port + 1)")
      .option('--no-confirm', 'do not wait for confirmations (a receiver that cannot confirm); exit once the data is queued')
      .option('--curve-server-key <z85>', "CURVE: the receiver's public key (encrypts and authenticates both ports)")
      .option('--curve-public-key <z85>', "CURVE: this sender's public key (what the receiver's --curve-allow names)")
      .option('--curve-secret-key <z85>', "CURVE: this sender's secret key")
      .option('--no-progress', 'print plain lines even on a terminal')
      .action(async (paths: string[], opts: SendOpts) => {
        const to = parseHostPortOption('--to', opts.to);
        const timeoutMs = parseIntOption('--timeout-ms', opts.timeoutMs, 1, MAX_TIMER_MS);
        const maxMessageBytes = parseIntOption('--message-bytes', opts.messageBytes, 1, MAX_BUFFER_BYTES);
        const replyPort = opts.replyPort === undefined ? undefined : parseIntOption('--reply-port', opts.replyPort, 1, MAX_PORT);
        const curve = parseClientCurve(opts);
        const progress = createProgress({ bytes: true, enabled: opts.progress });
        let where = 'starting';
        const onPhase = (phase: string, queued: number, files: number): void => {
          where = files === 0 ? phase : `${phase}, ${queued} of ${files} files queued`;
        };
        // Without this, a signal ends the process silently (exit 130 from the shell, no line).
        const onSignal = (sig: NodeJS.Signals): void => {
          progress.stop();
          process.stderr.write(
            `lightbeam send: stopped by ${sig} while ${where}; the receiver removes what arrived in part once the transfer is silent for its --idle-ms\n`,
          );
          // Nothing left to save: what is queued is abandoned, and the receiver expires the transfer.
          process.exit(128 + (os.constants.signals[sig] ?? 0));
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let s: SendSummary;
        try {
          s = await sendFiles({ host: to.host, port: to.port, paths, timeoutMs, maxMessageBytes, progress, confirm: opts.confirm, replyPort, curve, onPhase });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        const how = s.confirmed ? 'every SHA-256 confirmed by the receiver' : 'not confirmed (--no-confirm)';
        progress.log(`sent ${s.files} files (${formatBytes(s.bytes)}) in ${s.messages} messages to ${opts.to}, transfer ${s.transferId}, ${how}`);
      });
  },
};
