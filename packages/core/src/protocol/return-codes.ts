/**
 * Integer return codes: the transport contract shared with the C++ implementation.
 *
 * `0` is success, `-1` is malformed metadata or a frame-count mismatch, and every other value
 * is a positive errno. The errno values are Linux's (as libzmq reports them); they are never
 * taken from the guide, whose ETERM value is wrong.
 */
import { constants } from 'node:os';

const errno = constants.errno;

/** Success. */
export const LBM_OK = 0;
/** Malformed metadata, or a frame-count mismatch in `recvBulks`. */
export const LBM_MALFORMED = -1;
/** Nothing ready (receive) or no room (send); try again. Linux errno 11. */
export const EAGAIN = errno.EAGAIN ?? 11;
/** A wait ran past its `timeoutMs`. Linux errno 110. */
export const ETIMEDOUT = errno.ETIMEDOUT ?? 110;
/** A wait was aborted through its `AbortSignal`. Linux errno 125. */
export const ECANCELED = errno.ECANCELED ?? 125;
/** The endpoint was closed before or while the call ran. Linux errno 108 (Node does not export it). */
export const ESHUTDOWN = 108;
/** Out of shared memory: the allocator could not satisfy a request. Linux errno 12. */
export const ENOMEM = errno.ENOMEM ?? 12;
/** A message or bulk exceeds a configured size limit. Linux errno 90. */
export const EMSGSIZE = errno.EMSGSIZE ?? 90;
/** The peer went away (thread exited, process died). Linux errno 104. */
export const ECONNRESET = errno.ECONNRESET ?? 104;
/** An argument was invalid for the operation. Linux errno 22. */
export const EINVAL = errno.EINVAL ?? 22;
/** Address already in use (bind). Linux errno 98. */
export const EADDRINUSE = errno.EADDRINUSE ?? 98;
/** A receiver holds as many unreleased messages as it may (shared memory's `maxUnreleased`). Linux errno 105. */
export const ENOBUFS = errno.ENOBUFS ?? 105;
/** The transport cannot do this (a blocking receive over ZeroMQ). Linux errno 95. */
export const EOPNOTSUPP = errno.EOPNOTSUPP ?? 95;
/**
 * libzmq's "context was terminated": `ZMQ_HAUSNUMERO (156384712) + 53`. The guide prints
 * 156384763, which is wrong.
 */
export const ETERM = 156384765;

const MESSAGES = new Map<number, string>([
  [LBM_OK, 'Success'],
  [LBM_MALFORMED, 'Malformed metadata or frame-count mismatch'],
  [ETERM, 'Context was terminated'],
  [ESHUTDOWN, 'ESHUTDOWN: Cannot send after transport endpoint shutdown'],
]);

/**
 * Describes a return code the way C's `strerror` does, for every code this library returns
 * (`0`, `-1`, any errno Node knows, libzmq's ETERM).
 *
 * @param code - a return code resolved by any Lightbeam call
 * @returns a one-line human-readable description
 */
export function strerror(code: number): string {
  const known = MESSAGES.get(code);
  if (known !== undefined) return known;
  for (const [name, value] of Object.entries(errno)) {
    if (value === code) return `${name}: ${ERRNO_TEXT[name] ?? 'system error'}`;
  }
  return `Unknown error ${code}`;
}

/** Texts for the errno values this library produces; others get their symbolic name only. */
const ERRNO_TEXT: Record<string, string> = {
  EAGAIN: 'Resource temporarily unavailable',
  ETIMEDOUT: 'Operation timed out',
  ECANCELED: 'Operation canceled',
  ESHUTDOWN: 'Cannot send after transport endpoint shutdown',
  ENOMEM: 'Cannot allocate memory',
  EMSGSIZE: 'Message too long',
  ECONNRESET: 'Connection reset by peer',
  EINVAL: 'Invalid argument',
  EADDRINUSE: 'Address already in use',
  EINTR: 'Interrupted system call',
  ENOTSOCK: 'Socket operation on non-socket',
  EHOSTUNREACH: 'No route to host',
  ECONNREFUSED: 'Connection refused',
  EPROTONOSUPPORT: 'Protocol not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOENT: 'No such file or directory',
};
