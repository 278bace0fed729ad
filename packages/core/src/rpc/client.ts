/**
 * The RPC client: sends requests through one Lightbeam client and receives every reply on a
 * server endpoint it owns (see reply-path.ts), matching each reply to its call by id. Any
 * number of calls may be in flight; each settles exactly once: with its reply, or with a
 * `LightbeamError` (handler failure, timeout, cancel, close, lost peer).
 */
import type { Bulk } from '../protocol/bulk.js';
import { isXfer } from '../protocol/bulk.js';
import type { Client } from '../protocol/client.js';
import { LbmMeta } from '../protocol/lbm-meta.js';
import { LightbeamError } from '../protocol/lightbeam-error.js';
import { NULL_POINTER } from '../protocol/pointer.js';
import { EAGAIN, ECANCELED, ESHUTDOWN, ETIMEDOUT, LBM_OK } from '../protocol/return-codes.js';
import { Deadlines } from './deadlines.js';
import { receiveLoop } from './receive-loop.js';
import { RPC_KIND_CANCEL, RPC_KIND_REPLY, RPC_KIND_REQUEST, RPC_MAX_BUDGET_MS, RpcEnvelope, RpcStatus } from './envelope.js';
import { callError, statusError } from './errors.js';
import type { RpcReplyBell } from './reply-bell.js';
import type { ReplyEndpointOptions } from './reply-path.js';
import { bindReplyEndpoint, rpcClientOptions } from './reply-path.js';
import type { Server } from '../protocol/server.js';
import type { Transport } from '../protocol/transport-factory.js';
import { TransportFactory } from '../protocol/transport-factory.js';

/** Options of one call. */
export interface RpcCallOptions<R extends LbmMeta = LbmMeta> {
  /**
   * Longest wait for the reply; the call then rejects `ERR_LBM_RPC_TIMEOUT`. The time left is
   * carried to the server, which drops the call once it passed.
   * @defaultValue the client's `defaultTimeoutMs`
   */
  timeoutMs?: number;
  /** Aborting rejects the call with `ERR_LBM_RPC_CANCELED` and tells the server to stop it. */
  signal?: AbortSignal;
  /**
   * Makes the meta the reply decodes into (a subclass declaring the reply's custom fields).
   * @defaultValue `() => new LbmMeta()`
   */
  reply?: () => R;
}

/** Options of an {@link RpcClient}. */
export interface RpcClientOptions {
  /**
   * Timeout of calls that give none; `Infinity` waits forever (a dead server then leaves the
   * call pending until close).
   * @defaultValue 30000
   */
  defaultTimeoutMs?: number;
  /**
   * Over a transport that answers synchronously (shared memory): microseconds the reply loop
   * polls for a reply before it parks, once per wake-up.
   * @defaultValue 20
   */
  spinUs?: number;
  /**
   * Over shared memory, with a server in another thread that rings this bell
   * (`RpcServerOptions.replyBell` over the same buffer): wait for replies on it instead of on the
   * reply endpoint, so a burst of replies wakes this thread once (a worker pool does this).
   */
  replyBell?: RpcReplyBell;
  /**
   * Called as each call settles (`true`: with its reply), before the reactions of its promise
   * run: a pool frees the call's place with it, with no second promise per call.
   */
  onSettled?: (ok: boolean) => void;
}

/** Where {@link RpcClient.connect} sends and listens. */
export interface RpcConnectOptions extends RpcClientOptions, ReplyEndpointOptions {
  /** ZeroMQ protocol of the requests, default `tcp`. */
  protocol?: string;
  /** ZeroMQ port of the RPC server, default 8192. */
  port?: number;
  /**
   * Transport options of the request client. Over ZeroMQ `batch` defaults to `false` (a batched
   * request would wait for the end of the event-loop turn); give `batch` to change it.
   */
  clientOptions?: Record<string, unknown>;
  /**
   * The address to advertise in `replyTo` instead of the reply endpoint's own (for a reply path
   * the server reaches another way, such as a bridged channel).
   */
  advertise?: string;
}

/** Counters of an {@link RpcClient}. */
export interface RpcClientStats {
  /** Replies matched to a waiting call. */
  replies: number;
  /** Replies for no waiting call (late after a timeout or cancel, duplicated, or forged). */
  unmatched: number;
  /** Messages on the reply endpoint that could not be decoded. */
  malformed: number;
}

interface Pending {
  method: string;
  create: () => LbmMeta;
  resolve: (m: LbmMeta) => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const makeMeta = (): LbmMeta => new LbmMeta();
const NO_BULKS: Bulk[] = [];
/** A copy of a received descriptor the transport will not touch again (the bytes are shared). */
const ownBulk = (b: Bulk): Bulk => ({ data: b.data === null ? null : { ptr: b.data.ptr, shm: b.data.shm }, size: b.size, flags: b.flags });

/** Calls named handlers of an {@link RpcServer} and resolves their replies. */
export class RpcClient {
  /** Counters since construction. */
  readonly stats: RpcClientStats = { replies: 0, unmatched: 0, malformed: 0 };
  private readonly pending = new Map<number, Pending>();
  private readonly defaultTimeoutMs: number;
  private readonly spinUs: number;
  private nextId = 1;
  private readonly deadlines = new Deadlines(
    (id) => {
      const p = this.pending.get(id);
      if (p !== undefined) this.settle(id, callError(p.method, ETIMEDOUT, 'waiting for the reply'));
    },
    () => this.pending.size,
    (id) => this.pending.has(id),
  );
  private readonly resolveBody = (env: RpcEnvelope): LbmMeta => (env.kind === RPC_KIND_REPLY && env.status === RpcStatus.OK ? (this.pending.get(env.callId)?.create() ?? new LbmMeta()) : new LbmMeta());
  /** The reply envelope, reused by every receive. */
  private readonly incoming = new RpcEnvelope(this.resolveBody);
  /** The request envelope, reused: `send` reads it during the call only. */
  private readonly out = new RpcEnvelope();
  private closing: Promise<void> | null = null;
  private readonly loopDone: Promise<void>;
  /** The request client sends synchronously (`sendNow` does the whole send): shared memory. */
  private readonly sendsNow: boolean;
  private readonly bell: RpcReplyBell | null;
  private readonly onSettled: ((ok: boolean) => void) | undefined;

  /**
   * Starts listening for replies.
   *
   * @param requests - a client connected to the RPC server (owned: closed by `close()`)
   * @param replies - this client's own reply endpoint (owned)
   * @param replyTo - the reply endpoint's address as the server must use it
   * @param options - default timeout
   */
  constructor(
    readonly requests: Client,
    readonly replies: Server,
    readonly replyTo: string,
    options: RpcClientOptions = {},
  ) {
    const t = options.defaultTimeoutMs ?? 30_000;
    if (!(t > 0)) throw new RangeError(`RpcClient defaultTimeoutMs must be a positive number, got ${t}`);
    this.defaultTimeoutMs = t;
    this.spinUs = options.spinUs ?? 20;
    if (!(this.spinUs >= 0)) throw new RangeError(`RpcClient spinUs must be a non-negative number, got ${this.spinUs}`);
    // A protected getter of Client, read without widening Client's public surface.
    this.sendsNow = Reflect.get(requests, 'writesMetaDirectly') === true;
    this.bell = options.replyBell ?? null;
    this.onSettled = options.onSettled;
    this.loopDone = this.loop();
  }

  /**
   * Connects to an RPC server through `TransportFactory` and binds a reply endpoint.
   *
   * @param transport - `Transport.kShm` (addr: the server's channel) or `Transport.kZeroMq` (addr: host)
   * @param addr - channel or host of the RPC server
   * @param options - protocol, port, reply endpoint, default timeout
   */
  static async connect(transport: Transport, addr: string, options: RpcConnectOptions = {}): Promise<RpcClient> {
    const { server, replyTo } = await bindReplyEndpoint(transport, options.protocol, options);
    let requests: Client;
    try {
      requests = await TransportFactory.getClient(addr, transport, options.protocol, options.port, rpcClientOptions(transport, options.clientOptions));
    } catch (err) {
      await server.close();
      throw err;
    }
    return new RpcClient(requests, server, options.advertise ?? replyTo, options);
  }

  /** Calls waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Calls `method` with `meta` as the request (its `send` bulks and custom fields travel) and
   * resolves the reply. The reply's XFER data is copied into buffers the caller owns
   * (`send[i].data` and `recv[i].data`); its EXPOSE bulks over shared memory are live views of
   * the server's memory, valid while the server keeps it.
   *
   * @param method - the handler's name
   * @param meta - the request; read during the call only
   * @param opts - timeout, signal, reply meta factory
   * @throws LightbeamError (rejects) `ERR_LBM_RPC_*` with the handler's or transport's reason,
   *   `ERR_LBM_CLOSED` after close, or a send-rule code (`ERR_LBM_UNKNOWN_FLAGS`, ...)
   */
  call<R extends LbmMeta = LbmMeta>(method: string, meta: LbmMeta, opts: RpcCallOptions<R> = {}): Promise<R> {
    if (this.closing !== null) return this.refuse(new LightbeamError('ERR_LBM_CLOSED', `rpc ${method}: the client is closed`));
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    if (!(timeoutMs >= 0)) return this.refuse(new RangeError(`call timeoutMs must be a non-negative number, got ${timeoutMs}`));
    const signal = opts.signal;
    if (signal?.aborted === true) return this.refuse(callError(method, ECANCELED, 'before sending'));
    const id = this.nextId++;
    const env = this.out;
    env.kind = RPC_KIND_REQUEST;
    env.callId = id;
    env.method = method;
    // At least 1 ms: 0 on the wire means "no deadline".
    env.budgetMs = timeoutMs === Infinity ? 0 : Math.min(RPC_MAX_BUDGET_MS, Math.max(1, Math.ceil(timeoutMs)));
    env.replyTo = this.replyTo;
    env.body = meta;
    env.send = meta.send;
    env.recv = meta.recv;
    const promise = new Promise<R>((resolve, reject) => {
      const p: Pending = { method, create: opts.reply ?? makeMeta, resolve: resolve as (m: LbmMeta) => void, reject, signal, onAbort: undefined };
      if (timeoutMs !== Infinity) this.deadlines.add(id, timeoutMs);
      if (signal !== undefined) {
        p.onAbort = () => {
          if (this.settle(id, callError(method, ECANCELED, 'waiting for the reply'))) this.sendCancel(id);
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
    });
    let sent: Promise<number> | null = null;
    try {
      // A transport that sends synchronously (shared memory) queues the request here with no
      // promise, no options object and no continuation; only a full ring takes the waiting send.
      const rc = this.sendsNow ? this.requests.sendNow(env) : EAGAIN;
      if (rc === EAGAIN) sent = this.requests.send(env, { timeoutMs: timeoutMs === Infinity ? undefined : timeoutMs, signal });
      else if (rc !== LBM_OK) this.settle(id, callError(method, rc, 'sending the request'));
    } catch (err) {
      sent = Promise.reject(err);
    } finally {
      // Nothing of the request is kept: let its body and bulks go.
      env.body = null;
      env.send = NO_BULKS;
      env.recv = NO_BULKS;
    }
    sent?.then(
      (rc) => {
        if (rc !== LBM_OK) this.settle(id, callError(method, rc, 'sending the request'));
      },
      (err: unknown) => this.settle(id, err instanceof Error ? err : new Error(String(err))),
    );
    return promise;
  }

  /**
   * Rejects every call in flight with `error` (a pool does this when the worker serving them
   * dies); later replies to them are counted as unmatched.
   *
   * @param error - what the callers get
   */
  failPending(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, error);
  }

  /** Rejects the calls in flight with `ERR_LBM_CLOSED` and closes both endpoints. Idempotent. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.failPending(new LightbeamError('ERR_LBM_CLOSED', 'rpc: the client closed before the reply arrived', { errno: ESHUTDOWN }));
    this.deadlines.clear();
    await Promise.all([this.requests.close(), this.replies.close()]);
    // A loop waiting on the bell learns of the close only from the bell.
    this.bell?.interrupt();
    await this.loopDone;
  }

  /** Settles call `id` with `error`; false when it had settled already. */
  private settle(id: number, error: Error): boolean {
    const p = this.pending.get(id);
    if (p === undefined) return false;
    this.forget(id, p);
    this.rejectCall(p, error);
    return true;
  }

  /** A call refused before it was sent: it settles now (`onSettled` counts it too). */
  private refuse<R>(error: Error): Promise<R> {
    this.onSettled?.(false);
    return Promise.reject(error);
  }

  private rejectCall(p: Pending, error: Error): void {
    p.reject(error);
    this.onSettled?.(false);
  }

  private resolveCall(p: Pending, body: LbmMeta): void {
    p.resolve(body);
    this.onSettled?.(true);
  }

  private forget(id: number, p: Pending): void {
    this.pending.delete(id);
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
  }

  private sendCancel(id: number): void {
    if (this.closing !== null) return;
    const env = new RpcEnvelope();
    env.kind = RPC_KIND_CANCEL;
    env.callId = id;
    env.replyTo = this.replyTo;
    // Best effort: a cancel that finds no room is dropped; the deadline still bounds the work.
    this.requests.send(env).catch(() => undefined);
  }

  private loop(): Promise<void> {
    return receiveLoop(this.replies, {
      // One envelope for every reply: what the caller keeps is copied out of it.
      make: () => this.incoming,
      onMessage: (env) => {
        try {
          this.onReply(env);
        } finally {
          this.replies.release(env);
        }
      },
      onMalformed: () => void this.stats.malformed++,
      stopped: () => this.closing !== null,
      spinUs: this.spinUs,
      blockMs: 0,
      idle: () => false,
      bell: this.bell,
    });
  }

  private onReply(env: RpcEnvelope): void {
    const p = env.kind === RPC_KIND_REPLY ? this.pending.get(env.callId) : undefined;
    if (p === undefined) {
      this.stats.unmatched++;
      return;
    }
    this.forget(env.callId, p);
    this.stats.replies++;
    if (env.status !== RpcStatus.OK) {
      this.rejectCall(p, statusError(p.method, env.status, env.error));
      return;
    }
    const body = env.body as LbmMeta;
    if (env.bodyMalformed) {
      this.rejectCall(p, new LightbeamError('ERR_LBM_RPC_BAD_REPLY', `rpc ${p.method}: reply fields could not be decoded`, { cause: env.bodyError }));
      return;
    }
    // Receive XFER data in place, then copy it: the caller owns the reply, however long it keeps it.
    const send = env.send;
    for (let i = 0; i < send.length; i++) {
      const b = send[i] as (typeof send)[number];
      if (isXfer(b.flags)) env.recv.push({ data: null, size: b.size, flags: b.flags });
    }
    if (this.replies.recvBulksNow(env) !== LBM_OK) {
      this.rejectCall(p, new LightbeamError('ERR_LBM_RPC_BAD_REPLY', `rpc ${p.method}: reply bulks do not match its data`));
      return;
    }
    let k = 0;
    for (let i = 0; i < send.length; i++) {
      const b = send[i] as (typeof send)[number];
      if (!isXfer(b.flags)) continue;
      const r = env.recv[k++] as (typeof send)[number];
      const own = r.data === null ? new Uint8Array(0) : r.data.ptr.slice();
      r.data = { ptr: own, shm: NULL_POINTER };
      b.data = r.data;
    }
    // The transport may refill these arrays and Bulk objects at the next receive: the caller's
    // reply gets its own (an empty reply copies nothing).
    body.send = env.send.length === 0 ? [] : env.send.map(ownBulk);
    body.recv = env.recv.length === 0 ? [] : env.recv.map(ownBulk);
    this.resolveCall(p, body);
  }
}
