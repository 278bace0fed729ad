/**
 * The `lightbeam` program: the root command and the list of subcommand modules.
 */
import { Command } from 'commander';
import { benchCommand } from './commands/bench-command.js';
import { bridgeCommand } from './commands/bridge-command.js';
import { demoCommand } from './commands/demo-command.js';
import { demoRemoteCommand } from './commands/demo-remote-command.js';
import { recvCommand } from './commands/recv-command.js';
import { sendCommand } from './commands/send-command.js';
import type { SubcommandModule } from './commands/subcommand.js';

/**
 * Every subcommand, in `--help` order.
 *
 * REGISTRATION POINT: a new subcommand is one module implementing `SubcommandModule` in
 * `commands/`, added to this list.
 */
export const SUBCOMMANDS: readonly SubcommandModule[] = [demoCommand, demoRemoteCommand, sendCommand, recvCommand, bridgeCommand, benchCommand];

/** The package version, shown by `--version`. */
export const VERSION = '0.1.0';

/**
 * Builds the program with every subcommand. Errors from Commander (unknown option, missing
 * argument) throw `CommanderError` instead of exiting, so `main` decides the exit code.
 *
 * @param modules - the subcommands (default {@link SUBCOMMANDS})
 */
export function createProgram(modules: readonly SubcommandModule[] = SUBCOMMANDS): Command {
  const program = new Command('lightbeam')
    .description('Lightbeam two-phase bulk messaging: run the demo, move files between hosts, bridge shared memory across hosts, run the benchmarks')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`lightbeam: ${commanderLine(str)}`) })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nAddresses are host:port or tcp://host:port in every command. Exit codes: 0 success, 1 a failed operation, ' +
        '2 bad arguments; errors are one line on stderr.\nRun "lightbeam <command> --help" for the options of a command.',
    );
  for (const m of modules) m.register(program);
  for (const c of program.commands) {
    // Errors of a subcommand name it: `lightbeam recv: required option ...`.
    c.configureOutput({ outputError: (str, write) => write(`lightbeam ${c.name()}: ${commanderLine(str)}`) });
  }
  return program;
}

/**
 * Commander's error as one line: without its `error: ` prefix, and with the suggestion it puts
 * on a second line ("(Did you mean send?)") joined to the first, since every error is one line.
 */
function commanderLine(str: string): string {
  return `${str.replace(/^error: /, '').replace(/\s*\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)').trimEnd()}\n`;
}
