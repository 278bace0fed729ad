/**
 * The shape of a `lightbeam` subcommand module. Each module adds one command to the program;
 * `program.ts` lists them.
 */
import type { Command } from 'commander';

/** One subcommand: `register` adds it (options, help, action) to the program. */
export interface SubcommandModule {
  /** The subcommand's name, as typed after `lightbeam`. */
  readonly name: string;
  /**
   * Adds the subcommand to `program`.
   * @param program - the root command
   */
  register(program: Command): void;
}
