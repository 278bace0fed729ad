/**
 * Option parsers shared by the subcommands.
 */
import { UsageError } from '../common/cli-error.js';
import type { HostPort, HostPortParseOptions } from '../common/host-port.js';
import { parseHostPort, toZmqUrl } from '../common/host-port.js';

/**
 * Parses a `host:port` (or `tcp://host:port`) option.
 *
 * @param name - the option (`--to`), for the message
 * @param text - the value as typed
 * @param opts - default host, and whether port 0 is accepted
 * @throws UsageError naming the option and the value
 */
export function parseHostPortOption(name: string, text: string, opts: HostPortParseOptions = {}): HostPort {
  try {
    return parseHostPort(text, opts);
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}

/**
 * Parses an address option of `bridge` into a ZeroMQ URL: `host:port` becomes `tcp://host:port`,
 * a URL is kept for the transport to check.
 *
 * @param name - the option (`--peer`), for the message
 * @param text - the value as typed, or undefined when the option was not given
 * @throws UsageError naming the option and the value
 */
export function zmqUrlOption(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return toZmqUrl(text);
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}
