/**
 * The errors a command ends with: each prints as one line on stderr and sets the exit code.
 */
import { constants as bufferConstants } from 'node:buffer';

/** Exit code for a failed operation (unreachable peer, port in use, hash mismatch, ...). */
export const EXIT_FAILURE = 1;
/** Exit code for bad arguments or options. */
export const EXIT_USAGE = 2;

/** An error that ends the command with a one-line message and an exit code. */
export class CliError extends Error {
  /** Process exit code. */
  readonly exitCode: number;

  /**
   * @param message - one line, no trailing period needed
   * @param exitCode - {@link EXIT_FAILURE} or {@link EXIT_USAGE}
   */
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A bad argument or option: exit code {@link EXIT_USAGE}. */
export class UsageError extends CliError {
  /** @param message - names the argument and the value */
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** Largest delay a Node timer takes (a longer one fires at once): the bound of every `*-ms` option. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Largest buffer Node allocates: the bound of every option sizing a message or a piece. */
export const MAX_BUFFER_BYTES = bufferConstants.MAX_LENGTH;
/** Largest TCP port. */
export const MAX_PORT = 65535;

/**
 * Parses a non-negative integer option.
 *
 * @param name - the option, for the message (`--count`)
 * @param text - the value as typed
 * @param min - smallest accepted value
 * @param max - largest accepted value (digits beyond it, even past 2^53, are refused naming it)
 * @throws UsageError naming the option, the value and the bound it breaks
 */
export function parseIntOption(name: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const digits = /^\d+$/.test(text);
  const n = digits ? Number(text) : NaN;
  if (digits && n > max) throw new UsageError(`${name} must be at most ${max}, got ${JSON.stringify(text)}`);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

/** Collapses any error to one line (messages of libraries sometimes carry newlines). */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}
