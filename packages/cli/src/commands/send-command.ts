/**
 * `lightbeam send --to <host:port> <files or folders...>`.
 */
import type { Command } from 'commander';
import { parseIntOption } from '../cli-error.js';
import { parseHostPortOption } from './options.js';
import { createProgress, formatBytes } from '../progress.js';
import { sendFiles } from '../send-files.js';
import { DEFAULT_MESSAGE_BYTES } from '../send-plan.js';
import type { SubcommandModule } from './subcommand.js';

interface SendOpts {
  to: string;
  timeoutMs: string;
  messageBytes: string;
  progress: boolean;
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
          '(as scp -r); symbolic links are skipped. Each file travels with its size and SHA-256, which the receiver verifies.',
      )
      .argument('<paths...>', 'files and folders to send')
      .requiredOption('--to <host:port>', 'the receiver, e.g. 10.0.0.2:9000')
      .option('--timeout-ms <ms>', 'how long to wait for the receiver (reachability, queue room, final delivery)', '30000')
      .option('--message-bytes <n>', 'data carried by one message; larger files are split', String(DEFAULT_MESSAGE_BYTES))
      .option('--no-progress', 'print plain lines even on a terminal')
      .action(async (paths: string[], opts: SendOpts) => {
        const to = parseHostPortOption('--to', opts.to);
        const timeoutMs = parseIntOption('--timeout-ms', opts.timeoutMs, 1);
        const maxMessageBytes = parseIntOption('--message-bytes', opts.messageBytes, 1);
        const progress = createProgress({ bytes: true, enabled: opts.progress });
        const s = await sendFiles({ host: to.host, port: to.port, paths, timeoutMs, maxMessageBytes, progress });
        progress.log(`sent ${s.files} files (${formatBytes(s.bytes)}) in ${s.messages} messages to ${opts.to}, transfer ${s.transferId}`);
      });
  },
};
