/**
 * The one error class, for the places where an error object is the right tool (construction,
 * bind, close, programming errors). Each subclass situation has a stable `code` string; the
 * transport's errno, when there is one, is kept in `errno` and the underlying error in `cause`.
 */

/** Every `LightbeamError.code`, each with its one-line meaning (mirrored in docs/errors.md). */
export const ERROR_CODES = {
  /** An argument has the wrong type or value (names the argument and the value). */
  ERR_LBM_INVALID_ARGUMENT: 'an argument has the wrong type or value',
  /** A bulk carries flag bits outside BULK_EXPOSE | BULK_XFER on send. */
  ERR_LBM_UNKNOWN_FLAGS: 'a bulk carries unknown flag bits',
  /** The requested transport's package has not been imported. */
  ERR_LBM_TRANSPORT_NOT_LOADED: 'the transport package is not loaded',
  /** The transport's native part is missing on this host (e.g. libfabric or the `@lightbeam/fabric` addon). */
  ERR_LBM_TRANSPORT_UNAVAILABLE: "the transport's native part is not available on this host",
  /** A server could not bind its address (URL and reason in the message). */
  ERR_LBM_BIND: 'a server could not bind its address',
  /** A client could not connect or resolve its peer. */
  ERR_LBM_CONNECT: 'a client could not connect',
  /** The endpoint is closed. */
  ERR_LBM_CLOSED: 'the endpoint is closed',
  /** The shared-memory allocator is out of memory. */
  ERR_LBM_NOMEM: 'the allocator is out of memory',
  /** A pointer was freed twice. */
  ERR_LBM_DOUBLE_FREE: 'a block was freed twice',
  /** A pointer belongs to no known region, or is not a block start. */
  ERR_LBM_BAD_POINTER: 'a pointer belongs to no known region or is not a block start',
  /** A shared structure failed its integrity check. */
  ERR_LBM_CORRUPT: 'a shared structure failed its integrity check',
  /** Shared memory was laid out by another build of the library (its layout version differs). */
  ERR_LBM_LAYOUT_MISMATCH: 'shared memory was laid out by a build with another layout version',
  /** A ZeroMQ peer speaks no Lightbeam protocol version this release speaks (the message names both). */
  ERR_LBM_PROTOCOL_VERSION: 'the peer speaks no common Lightbeam protocol version',
  /** An RPC call's deadline passed before its reply arrived (`errno` ETIMEDOUT). */
  ERR_LBM_RPC_TIMEOUT: 'the call timed out before its reply arrived',
  /** An RPC call was aborted through its `AbortSignal` (`errno` ECANCELED). */
  ERR_LBM_RPC_CANCELED: 'the call was canceled',
  /** The RPC handler threw or rejected; the message carries its text. */
  ERR_LBM_RPC_HANDLER: 'the remote handler failed',
  /** No handler is registered under the called name. */
  ERR_LBM_RPC_NO_METHOD: 'no handler is registered under that name',
  /** The RPC server's queue was full and it refused the call. */
  ERR_LBM_RPC_OVERLOADED: 'the server is overloaded and refused the call',
  /** The RPC server could not decode the request's fields or receive its bulks. */
  ERR_LBM_RPC_BAD_REQUEST: 'the server could not decode the request',
  /** The reply could not be decoded into the caller's reply meta. */
  ERR_LBM_RPC_BAD_REPLY: 'the reply could not be decoded',
  /** The request could not be sent (`errno` holds the transport's code). */
  ERR_LBM_RPC_SEND: 'the request could not be sent',
  /** The RPC server closed before it answered the call. */
  ERR_LBM_RPC_SHUTDOWN: 'the server shut down before answering',
  /** The worker (or peer) running the call went away (`errno` ECONNRESET). */
  ERR_LBM_RPC_PEER_LOST: 'the peer running the call went away',
  /** A worker pool's queue is at its bound (backpressure: wait for `ready()`). */
  ERR_LBM_RPC_QUEUE_FULL: 'the pool queue is full',
} as const;

/** A stable error code string; see {@link ERROR_CODES}. */
export type LightbeamErrorCode = keyof typeof ERROR_CODES;

/** Options for {@link LightbeamError}. */
export interface LightbeamErrorOptions {
  /** The transport's errno, if any. */
  errno?: number;
  /** The underlying error. */
  cause?: unknown;
}

/** Base error of the library: `code` is stable, `errno` optional, `cause` the original error. */
export class LightbeamError extends Error {
  /** Stable machine-readable code. */
  readonly code: LightbeamErrorCode;
  /** The errno behind the error, when one exists. */
  readonly errno: number | undefined;

  /**
   * @param code - stable code from {@link ERROR_CODES}
   * @param message - human-readable description naming the argument, value, URL or reason
   * @param options - errno and cause
   */
  constructor(code: LightbeamErrorCode, message: string, options: LightbeamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LightbeamError';
    this.code = code;
    this.errno = options.errno;
  }
}
