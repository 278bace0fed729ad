/**
 * Option parsers shared by the subcommands.
 */
import { UsageError } from '../cli-error.js';
import type { HostPort } from '../host-port.js';
import { parseHostPort } from '../host-port.js';

/**
 * Parses a `host:port` option.
 *
 * @param name - the option (`--to`), for the message
 * @param text - the value as typed
 * @throws UsageError naming the option and the value
 */
export function parseHostPortOption(name: string, text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}
