#!/usr/bin/env node
/**
 * Entry point of the `lightbeam` command: parses the arguments, runs the subcommand, and turns
 * every failure into one line on stderr and a non-zero exit code.
 */
import { CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE, oneLine } from './common/cli-error.js';
import { createProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  let current = '';
  program.hook('preAction', (_root, action) => {
    current = ` ${action.name()}`;
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its one-line message (or the help, for --help / no command).
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    process.stderr.write(`lightbeam${current}: ${oneLine(err)}\n`);
    return err instanceof CliError ? err.exitCode : EXIT_FAILURE;
  }
}

// On success, let Node exit by itself: zeromq.js then terminates its context, which lets libzmq
// deliver what `send` queued (bounded by the socket's linger). process.exit() would drop it.
// On failure nothing queued matters, and exiting at once keeps a stuck peer from holding us.
main(process.argv).then(
  (code) => {
    if (code === 0) process.exitCode = 0;
    else process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`lightbeam: ${oneLine(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
