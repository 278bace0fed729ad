/**
 * The RPC server's API types: handlers, their context, options and counters (the implementation
 * is in server.ts).
 */
import type { RpcReplyBell } from './reply-bell.js';
import type { LbmMeta } from '../protocol/lbm-meta.js';

/** What a handler learns about its call besides the request. */
export interface RpcContext {
  /** The caller's correlation id. */
  readonly callId: number;
  /** The called name. */
  readonly method: string;
  /** `performance.now()` after which the caller no longer waits; `Infinity` for none. */
  readonly deadline: number;
  /** Aborted when the caller cancels, the deadline passes, or the server closes. */
  readonly signal: AbortSignal;
}

/**
 * A handler: gets the request (its `send` bulks carry `data` where the bytes are readable here:
 * in-place views of XFER data, live views of EXPOSE data over shared memory) and returns the
 * reply meta (nothing for an empty reply). The request's bytes stay valid until the returned
 * promise settles and the reply is sent. A throw or rejection reaches the caller as
 * `ERR_LBM_RPC_HANDLER` with the error's message.
 */
export type RpcHandler<Req extends LbmMeta = LbmMeta> = (request: Req, ctx: RpcContext) => Promise<LbmMeta | void> | LbmMeta | void;

/** Options of {@link RpcServer.handle}. */
export interface RpcHandleOptions<Req extends LbmMeta> {
  /**
   * Makes the meta a request decodes into (a subclass declaring the request's custom fields).
   * @defaultValue `() => new LbmMeta()`
   */
  create?: () => Req;
}

/** Options of {@link RpcServer}. */
export interface RpcServerOptions {
  /**
   * Handlers running at once; further requests wait in the queue.
   * @defaultValue 64
   */
  maxConcurrent?: number;
  /**
   * Requests waiting for a free slot; beyond it a request is answered `OVERLOADED` at once.
   * @defaultValue 1024
   */
  maxQueued?: number;
  /**
   * Longest wait for room to send one reply; a reply that does not fit is dropped (counted).
   * @defaultValue 1000
   */
  replyTimeoutMs?: number;
  /**
   * Reply clients kept connected (one per caller address). Beyond it the least recently used is
   * taken out and closed once the replies already queued on it have been handed over (each send
   * waits at most `replyTimeoutMs`), so eviction loses no reply.
   * @defaultValue 64
   */
  maxReplyClients?: number;
  /**
   * Transport options of the reply clients. Over ZeroMQ `batch` defaults to `false` (a batched
   * reply would wait for the end of the event-loop turn); give `batch` to change it.
   */
  replyClientOptions?: Record<string, unknown>;
  /**
   * Decides whether the server may send to a request's `replyTo` (ZeroMQ: the server connects to
   * that URL). Requests it refuses are dropped and counted in `stats.replyToRefused`. Given, it
   * replaces the default policy (and `replyHosts`) entirely.
   * @defaultValue over ZeroMQ: tcp replies only to loopback, the server's own bind host and
   *   `replyHosts`; ipc or inproc replies only to requests that came over that same protocol.
   *   Over shared memory: every channel.
   */
  acceptReplyTo?: (replyTo: string) => boolean;
  /**
   * ZeroMQ, default policy only: tcp hosts (names or IP addresses, compared as written in
   * `replyTo`) replies may go to besides loopback and the server's own bind host; `'*'` admits
   * every tcp host. ZeroMQ does not tell the server which host a request came from, so callers
   * on other hosts must be listed (or the server protected by CURVE and `'*'`).
   * @defaultValue []
   */
  replyHosts?: readonly string[];
  /**
   * Over a transport that answers synchronously (shared memory): microseconds the receive loop
   * polls for the next request before it parks, once per wake-up.
   * @defaultValue 20
   */
  spinUs?: number;
  /**
   * Over shared memory, in a worker whose loop does nothing but serve: while no handler is in
   * progress, block the thread up to this many ms at a time waiting for a request
   * (`waitMetadataSync`, the fastest wake-up), giving the event loop a turn between blocks.
   * Timers and messages of the thread wait up to this long. 0 never blocks (the main thread).
   * @defaultValue 0
   */
  blockWhenIdleMs?: number;
  /**
   * The doorbell of the one caller this server answers in another thread (a pool worker's
   * caller): rung once per burst of replies (every request drained and answered), so a caller
   * with many calls in flight is woken once per burst instead of at the first reply. Its caller
   * passes the same bell's buffer as `RpcClientOptions.replyBell`.
   */
  replyBell?: RpcReplyBell;
}

/** Where {@link RpcServer.listen} binds. */
export interface RpcListenOptions extends RpcServerOptions {
  /** ZeroMQ protocol, default `tcp`. */
  protocol?: string;
  /** ZeroMQ port (0: ephemeral), default 8192. */
  port?: number;
  /** Transport options of the request server. */
  serverOptions?: Record<string, unknown>;
}

/** Counters of an {@link RpcServer}. */
export interface RpcServerStats {
  /** Requests whose handler ran to completion (successfully or not). */
  handled: number;
  /** Handlers that threw or rejected. */
  failed: number;
  /**
   * Messages dropped unanswered because nothing could be answered: the envelope could not be
   * decoded (no call id), the message is not a request or cancel (a stray reply), or a request
   * has an empty `replyTo`.
   */
  malformed: number;
  /** Requests dropped because the reply policy (`acceptReplyTo`, `replyHosts`) refused their `replyTo`. */
  replyToRefused: number;
  /** Requests dropped because the same caller already has a call with that id in progress. */
  duplicates: number;
  /** Requests answered `BAD_REQUEST` or `NO_METHOD`. */
  refused: number;
  /** Requests answered `OVERLOADED`. */
  overloaded: number;
  /** Queued requests dropped because their deadline passed before a slot freed. */
  expired: number;
  /** Calls the caller canceled. */
  canceled: number;
  /**
   * Replies that could not be sent: no room within `replyTimeoutMs`, a reply address that could
   * not be connected, a reply connection reset, or the server closing meanwhile. (An evicted
   * reply client is closed only after its replies were handed over, so eviction drops none.)
   */
  repliesDropped: number;
}
