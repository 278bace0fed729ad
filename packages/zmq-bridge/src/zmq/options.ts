/**
 * Options of the ZeroMQ transport, as typed objects. Each socket option names its libzmq
 * counterpart; both ends apply the same defaults so a benchmark or a test compares like with like.
 */
import type { ServerOptions } from '@lightbeam/core';
import type { Context } from 'zeromq';

/** Socket options shared by clients and servers. */
export interface ZeroMqSocketOptions {
  /**
   * The zeromq.js context. Both ends of an `inproc` endpoint must share one; the default is
   * zeromq.js's process-wide context, so endpoints made in one thread already share it.
   * @defaultValue zeromq.js `context`
   */
  context?: Context;
  /**
   * `ZMQ_LINGER`: how long queued messages may keep the socket (and process exit) alive after
   * `close()`, in ms. zeromq.js defaults to -1 (forever), which is how the C++ destructor hangs;
   * a finite value bounds it. It does not keep a worker thread alive: a worker that ends with
   * messages still queued loses them (see "Who owns what" in the package README).
   * @defaultValue 1000
   */
  linger?: number;
  /**
   * `ZMQ_SNDHWM` (client) / `ZMQ_RCVHWM` (server): messages queued per peer before `send`
   * resolves `EAGAIN` (or waits, with `timeoutMs`).
   * @defaultValue 1000
   */
  highWaterMark?: number;
  /**
   * `ZMQ_MAXMSGSIZE` on the receiving side: a peer sending a larger message (any single frame)
   * is disconnected before the message is handed over. -1 means no limit.
   * @defaultValue -1
   */
  maxMessageSize?: number;
  /**
   * `ZMQ_RECONNECT_IVL` in ms (client): how soon a client retries a lost or refused connection.
   * @defaultValue 100
   */
  reconnectInterval?: number;
}

/** CURVE keys of a server: its own key pair (Z85 strings from zeromq.js `curveKeyPair()`). */
export interface ZeroMqServerCurve {
  /** `ZMQ_CURVE_SECRETKEY`: the server's secret key. */
  secretKey: string;
  /** `ZMQ_CURVE_PUBLICKEY`: the server's public key (optional; libzmq derives nothing from it on a server). */
  publicKey?: string;
  /**
   * The Z85 public keys of the clients allowed to connect. Without it any client that knows the
   * server's public key is admitted; with it a ZAP handler (`ZMQ_ZAP_DOMAIN`, see
   * `registerCurveAllowList`) refuses every other key during the handshake, before a message is
   * read. One ZAP handler serves a whole zeromq.js context: allow-lists in two threads sharing
   * the global context need servers created in one of them.
   */
  allowedClients?: readonly string[];
}

/** CURVE keys of a client: the server's public key and, optionally, the client's own pair. */
export interface ZeroMqClientCurve {
  /** `ZMQ_CURVE_SERVERKEY`: the public key of the server to talk to. */
  serverKey: string;
  /** `ZMQ_CURVE_PUBLICKEY` of the client; a fresh pair is made when both client keys are omitted. */
  publicKey?: string;
  /** `ZMQ_CURVE_SECRETKEY` of the client. */
  secretKey?: string;
}

/**
 * Batching (client side): small messages are packed into one ZeroMQ message. Only a
 * Lightbeam-for-TypeScript server reads batches; with `batch: 'auto'` (the default) a client
 * batches only once the server said so when asked, so C++ peers get plain messages.
 */
export interface ZeroMqBatchOptions {
  /**
   * Largest packed message (a batch) in bytes; a batch is sent when the next message would not
   * fit, or at the end of the current event-loop turn.
   * @defaultValue 131072
   */
  maxBatchBytes?: number;
  /**
   * Largest single message (metadata + data) that is batched; larger ones are sent as a plain
   * multipart message, after the batch in progress, so order is kept.
   * @defaultValue 16384
   */
  maxMessageBytes?: number;
}

/**
 * The negotiation endpoint beside a server's data endpoint (frame layout in docs/porting.md):
 * where a client asks what the server speaks before its first send.
 */
export interface ZeroMqNegotiationOptions {
  /**
   * tcp: the negotiation port. Client and server must agree on it.
   * @defaultValue the data port + 1000 (`NEGOTIATE_PORT_OFFSET`); ipc and inproc: the data name + `.lbmn`
   */
  port?: number;
  /**
   * Client: how long the first send waits for the answer before it treats the server as a plain
   * peer (the C++ server, an older release), in ms.
   * @defaultValue 500
   */
  timeoutMs?: number;
}

/** Options of {@link ZeroMqClient}. */
export interface ZeroMqClientOptions extends ZeroMqSocketOptions {
  /** CURVE encryption and authentication; the server must use CURVE too. */
  curve?: ZeroMqClientCurve;
  /**
   * Packing of small messages. `'auto'`: batches only towards a server that said, when asked
   * before the first send, that it reads them (a Lightbeam-for-TypeScript server); a server that
   * does not answer (C++, an older release) gets plain messages. `true` or options: always, as
   * before negotiation existed (a C++ server misreads batches). `false`: never.
   * @defaultValue 'auto'
   */
  batch?: boolean | 'auto' | ZeroMqBatchOptions;
  /**
   * Ask the server what it speaks before the first send (protocol version, batch framing, size
   * limits); `false` never asks (plain wire, and `batch: 'auto'` does not batch).
   * @defaultValue true
   */
  negotiation?: boolean | ZeroMqNegotiationOptions;
  /**
   * Copy each XFER bulk before handing it to zeromq.js, so the sender may reuse its buffer as soon
   * as `send` resolved (C++ `Send` semantics). zeromq.js sends views over 128 bytes by reference
   * *after* `send` resolved: with `false` (zero copy) the bytes must stay unchanged until they left
   * the process, which the application cannot observe; choose it only for buffers never rewritten.
   * @defaultValue true
   */
  copyXfer?: boolean;
  /**
   * `ZMQ_IMMEDIATE`: queue messages only on connections whose ZeroMQ handshake completed, so
   * `send` waits (or resolves `EAGAIN`) while no server answers instead of queueing for one
   * that may never come. What was never queued cannot hold the process at exit, where
   * zeromq.js waits up to the linger for queued messages (and after 500 ms prints "Waiting for
   * queued ZeroMQ messages to be delivered").
   * @defaultValue false
   */
  immediate?: boolean;
  /**
   * Watch the connection through ZeroMQ's events (a monitor socket; tcp and ipc): the client's
   * `undelivered` counts messages queued while no server was connected, `waitForPeer()` waits
   * for one, and `close()` reports what it closed with still undelivered (`undelivered`, and a
   * `LBM_UNDELIVERED` process warning). The monitor keeps the process alive until `close()`.
   * @defaultValue false
   */
  watchPeer?: boolean;
}

/** Options of {@link ZeroMqServer}. */
export interface ZeroMqServerOptions extends ZeroMqSocketOptions, ServerOptions {
  /** CURVE encryption and authentication: the server's key pair. */
  curve?: ZeroMqServerCurve;
  /**
   * Unpack batches sent by batching clients. C++ peers can never produce the batch marker, so
   * this is safe to leave on.
   * @defaultValue true
   */
  acceptBatches?: boolean;
  /**
   * Bind a negotiation endpoint beside the data endpoint and answer clients' questions (what this
   * server reads, its size limits); `false` binds none, and clients treat the server as a plain
   * peer. When the endpoint cannot be bound the server still serves (warning `LBM_NO_NEGOTIATION`).
   * @defaultValue true
   */
  negotiation?: boolean | ZeroMqNegotiationOptions;
}

/** Default `ZMQ_LINGER` in ms. */
export const DEFAULT_LINGER_MS = 1000;
/** Default high-water mark (libzmq's own). */
export const DEFAULT_HIGH_WATER_MARK = 1000;
/** Default `ZMQ_RECONNECT_IVL` in ms (libzmq's own). */
export const DEFAULT_RECONNECT_INTERVAL_MS = 100;
/** Default {@link ZeroMqBatchOptions.maxBatchBytes}. */
export const DEFAULT_MAX_BATCH_BYTES = 128 * 1024;
/** Default {@link ZeroMqBatchOptions.maxMessageBytes}. */
export const DEFAULT_MAX_BATCHED_MESSAGE_BYTES = 16 * 1024;

/**
 * Checks an integer option and returns it or its default.
 *
 * @param name - option name, for the error
 * @param value - given value
 * @param dflt - default
 * @param min - smallest accepted value
 * @throws RangeError naming the option and the value
 */
export function intOption(name: string, value: number | undefined, dflt: number, min: number): number {
  if (value === undefined) return dflt;
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`option ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * Checks an optional TCP port option (1 to 65535).
 *
 * @param name - option name, for the error
 * @param value - given value
 * @throws RangeError naming the option and the value
 */
export function portOption(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new RangeError(`option ${name} must be an integer in [1, 65535], got ${value}`);
  return value;
}
