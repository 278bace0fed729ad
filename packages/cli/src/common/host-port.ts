/**
 * Parsing of the addresses the subcommands take: `host:port` or the same as a ZeroMQ URL,
 * `tcp://host:port`. Both forms are accepted everywhere (`send --to`, `recv --listen`,
 * `demo --remote`, `demo-remote --listen`, `bridge --listen/--peer`), so an address copied from
 * one command's output or help works in any other.
 */

/** A parsed `host:port`. */
export interface HostPort {
  /** Host name or IP address (IPv6 without its brackets). */
  host: string;
  /** TCP port, 1 to 65535 (0 only where {@link HostPortParseOptions.allowPortZero} allows it). */
  port: number;
}

/** Options of {@link parseHostPort}. */
export interface HostPortParseOptions {
  /**
   * Host used when the text starts with `:`.
   * @defaultValue `'127.0.0.1'`
   */
  defaultHost?: string;
  /**
   * Accept port 0 (ephemeral ports, for an address to bind).
   * @defaultValue false
   */
  allowPortZero?: boolean;
}

/** The only URL scheme these addresses may carry: the data path is ZeroMQ over TCP. */
const TCP_SCHEME = /^tcp:\/\//i;
/** Any other `scheme://`, refused with a message naming it. */
const OTHER_SCHEME = /^([A-Za-z][\w+.-]*):\/\//;

/**
 * Parses `host:port`, `[v6addr]:port` or `:port` (host defaults to `defaultHost`), each
 * optionally written as a ZeroMQ URL (`tcp://host:port`).
 *
 * @param text - the argument as typed
 * @param opts - default host, and whether port 0 is accepted
 * @throws Error with a one-line message naming the bad text
 */
export function parseHostPort(text: string, opts: HostPortParseOptions = {}): HostPort {
  const other = TCP_SCHEME.test(text) ? null : OTHER_SCHEME.exec(text);
  if (other !== null) throw new Error(`expected host:port or tcp://host:port, got ${JSON.stringify(text)} (${other[1]}:// is not supported here)`);
  const bare = text.replace(TCP_SCHEME, '');
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]*)):(\d{1,5})$/.exec(bare);
  if (m === null) throw new Error(`expected host:port or tcp://host:port, got ${JSON.stringify(text)}`);
  const host = m[1] ?? (m[2] === '' ? (opts.defaultHost ?? '127.0.0.1') : m[2]);
  const port = Number(m[3]);
  const min = opts.allowPortZero === true ? 0 : 1;
  if (port < min || port > 65535) throw new Error(`port must be in ${min}..65535, got ${m[3]} in ${JSON.stringify(text)}`);
  return { host, port };
}

/** Formats a host and port back to `host:port` (brackets around IPv6). */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/**
 * The ZeroMQ URL for an address typed as `host:port` (`tcp://host:port`); a text that already
 * names a scheme (`tcp://`, `ipc://`, `inproc://`) is returned unchanged, for the transport to
 * check. Port 0 is kept (the bridge binds an ephemeral port for it).
 *
 * @param text - the argument as typed
 * @throws Error with a one-line message naming the bad text
 */
export function toZmqUrl(text: string): string {
  if (OTHER_SCHEME.test(text)) return text;
  return `tcp://${formatHostPort(parseHostPort(text, { allowPortZero: true }))}`;
}
