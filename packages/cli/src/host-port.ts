/**
 * Parsing of the `host:port` arguments of `lightbeam send --to` and `lightbeam recv --listen`.
 */

/** A parsed `host:port`. */
export interface HostPort {
  /** Host name or IP address (IPv6 without its brackets). */
  host: string;
  /** TCP port, 1 to 65535. */
  port: number;
}

/**
 * Parses `host:port`, `[v6addr]:port` or `:port` (host defaults to `defaultHost`).
 *
 * @param text - the argument as typed
 * @param defaultHost - host used when the text starts with `:`
 * @throws Error with a one-line message naming the bad text
 */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): HostPort {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(text);
  if (m === null) throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  const host = m[1] ?? (m[2] === '' ? defaultHost : m[2]);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`port must be in 1..65535, got ${m[3]} in ${JSON.stringify(text)}`);
  return { host, port };
}

/** Formats a host and port back to `host:port` (brackets around IPv6). */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
