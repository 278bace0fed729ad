/**
 * Endpoint URLs and zeromq.js error translation, shared by the client and the server.
 */
import { EAGAIN, ESHUTDOWN, LightbeamError } from '@lightbeam/core';

/** Protocols the ZeroMQ transport speaks. */
export const ZMQ_PROTOCOLS = ['tcp', 'ipc', 'inproc'] as const;

/** One of {@link ZMQ_PROTOCOLS}. */
export type ZeroMqProtocol = (typeof ZMQ_PROTOCOLS)[number];

/**
 * Builds the ZeroMQ URL. tcp is `tcp://addr:port` as in C++ (port 0 binds an ephemeral port);
 * ipc and inproc name an endpoint by `addr` alone (`ipc:///tmp/x`, `inproc://x`) and ignore the
 * port, since a path or a name already identifies them.
 *
 * @param addr - host, ipc path or inproc name
 * @param protocol - `tcp`, `ipc` or `inproc`
 * @param port - TCP port, 0 for an ephemeral one (bind only)
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for an unknown protocol, empty address or bad port
 */
export function zmqUrl(addr: string, protocol: string, port: number): string {
  if (!(ZMQ_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `protocol must be one of ${ZMQ_PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`);
  }
  if (typeof addr !== 'string' || addr.length === 0) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `addr must be a non-empty string, got ${JSON.stringify(addr)}`);
  }
  if (protocol !== 'tcp') return `${protocol}://${addr}`;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `port must be an integer in [0, 65535], got ${port}`);
  }
  // A bare IPv6 address needs brackets in a ZeroMQ tcp URL.
  const host = addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr;
  return `tcp://${host}:${port === 0 ? '*' : port}`;
}

/** The numeric errno carried by a zeromq.js error, if any. */
export function zmqErrno(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}

/** The symbolic code (`EADDRINUSE`, ...) carried by a zeromq.js error, if any. */
export function zmqCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Turns a zeromq.js send/receive rejection into a return code: `EAGAIN` stays, a closed socket
 * or terminated context is `ESHUTDOWN`, any other errno is passed through.
 *
 * @param err - the rejection
 * @param closed - whether our endpoint is closing
 */
export function errnoOf(err: unknown, closed: boolean): number {
  const code = zmqCode(err);
  if (code === 'EAGAIN') return EAGAIN;
  if (closed || code === 'ETERM' || code === 'ENOTSOCK' || code === 'EBADF') return ESHUTDOWN;
  const n = zmqErrno(err);
  return n !== undefined && n > 0 ? n : ESHUTDOWN;
}

/**
 * Wraps a bind failure: the message names the URL and the reason; `errno` and `cause` are kept.
 *
 * @param url - the URL that failed
 * @param err - zeromq.js's error
 */
export function bindError(url: string, err: unknown): LightbeamError {
  const reason = err instanceof Error ? err.message : String(err);
  const code = zmqCode(err);
  return new LightbeamError('ERR_LBM_BIND', `cannot bind ${url}: ${reason}${code !== undefined && !reason.includes(code) ? ` (${code})` : ''}`, {
    errno: zmqErrno(err),
    cause: err,
  });
}

/**
 * Wraps a connect failure (bad URL, unsupported protocol): names the URL and the reason.
 *
 * @param url - the URL that failed
 * @param err - zeromq.js's error
 */
export function connectError(url: string, err: unknown): LightbeamError {
  const reason = err instanceof Error ? err.message : String(err);
  return new LightbeamError('ERR_LBM_CONNECT', `cannot connect to ${url}: ${reason}`, { errno: zmqErrno(err), cause: err });
}
