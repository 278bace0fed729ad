/**
 * The RPC server: receives requests on one Lightbeam server endpoint, runs the handler
 * registered under each request's method (at most `maxConcurrent` at once, the rest queued up to
 * `maxQueued`), and sends each reply to the request's `replyTo` (see reply-path.ts).
 * Whatever arrives, malformed or hostile, is counted and dropped or answered; nothing a peer
 * sends can throw out of the receive loop.
 */
import { isXfer } from '../protocol/bulk.js';
import { LbmMeta } from '../protocol/lbm-meta.js';
import { EAGAIN, ESHUTDOWN, LBM_OK } from '../protocol/return-codes.js';
import { receiveLoop } from './receive-loop.js';
import { EMPTY_REPLY, NO_BULKS, errorText, fillReply, nonNegative, positive } from './reply-build.js';
import { RPC_KIND_CANCEL, RPC_KIND_REQUEST, RpcEnvelope, RpcStatus } from './envelope.js';
import { CallTable } from './call-table.js';
import { ServerCall } from './server-call.js';
import type { RpcReplyBell } from './reply-bell.js';
import { ReplyClients } from './reply-clients.js';
import { rpcClientOptions } from './reply-path.js';
import { defaultReplyPolicy } from './reply-policy.js';
import type { Server } from '../protocol/server.js';
import type { RpcContext, RpcHandler, RpcHandleOptions, RpcListenOptions, RpcServerOptions, RpcServerStats } from './server-types.js';
import type { Transport } from '../protocol/transport-factory.js';
import { TransportFactory } from '../protocol/transport-factory.js';

/** Serves named handlers over one Lightbeam server endpoint. */
export class RpcServer {
  /** Counters since construction. */
  readonly stats: RpcServerStats = {
    handled: 0,
    failed: 0,
    malformed: 0,
    replyToRefused: 0,
    duplicates: 0,
    refused: 0,
    overloaded: 0,
    expired: 0,
    canceled: 0,
    repliesDropped: 0,
  };
  private readonly handlers = new Map<string, { fn: RpcHandler<LbmMeta>; create: () => LbmMeta }>();
  private readonly calls = new CallTable<ServerCall>();
  private readonly queue: ServerCall[] = [];
  private readonly replies: ReplyClients;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly replyTimeoutMs: number;
  private readonly spinUs: number;
  private readonly blockWhenIdleMs: number;
  private readonly acceptReplyTo: (replyTo: string) => boolean;
  private active = 0;
  private closing: Promise<void> | null = null;
  private readonly loopDone: Promise<void>;
  private readonly resolveBody = (env: RpcEnvelope): LbmMeta => this.handlers.get(env.method)?.create() ?? new LbmMeta();
  /** The reply envelope of the synchronous path, reused: `sendNow` reads it during the call only. */
  private readonly replyOut = new RpcEnvelope();
  /** The caller's reply doorbell (see `RpcServerOptions.replyBell`), or null. */
  private readonly bell: RpcReplyBell | null;
  /** True while the receive loop hands over a message: replies sent then ring once, after the drain. */
  private delivering = false;
  /** A reply went out since the bell last rang. */
  private unrung = false;

  /**
   * Starts serving: the receive loop runs until {@link RpcServer.close}.
   *
   * @param server - a bound server endpoint (the RPC server owns it and closes it)
   * @param transport - its transport (replies go over the same one)
   * @param options - limits
   */
  constructor(
    readonly server: Server,
    readonly transport: Transport,
    options: RpcServerOptions = {},
  ) {
    this.maxConcurrent = positive('maxConcurrent', options.maxConcurrent ?? 64);
    this.maxQueued = nonNegative('maxQueued', options.maxQueued ?? 1024);
    this.replyTimeoutMs = nonNegative('replyTimeoutMs', options.replyTimeoutMs ?? 1000);
    this.acceptReplyTo = options.acceptReplyTo ?? defaultReplyPolicy(transport, server, options.replyHosts);
    this.spinUs = nonNegative('spinUs', options.spinUs ?? 20);
    this.blockWhenIdleMs = nonNegative('blockWhenIdleMs', options.blockWhenIdleMs ?? 0);
    this.bell = options.replyBell ?? null;
    this.replies = new ReplyClients(transport, positive('maxReplyClients', options.maxReplyClients ?? 64), rpcClientOptions(transport, options.replyClientOptions));
    this.loopDone = this.loop();
  }

  /**
   * Binds a server endpoint through `TransportFactory` and serves on it.
   *
   * @param transport - `Transport.kShm` (addr: channel name) or `Transport.kZeroMq` (addr: host)
   * @param addr - channel or host
   * @param options - protocol, port, server options and limits
   */
  static async listen(transport: Transport, addr: string, options: RpcListenOptions = {}): Promise<RpcServer> {
    const server = await TransportFactory.getServer(addr, transport, options.protocol, options.port, options.serverOptions);
    return new RpcServer(server, transport, options);
  }

  /**
   * Registers (or replaces) the handler of `name`.
   *
   * @param name - the method name callers use (at most 256 UTF-8 bytes)
   * @param handler - runs once per request
   * @param options - `create` for a request meta with custom fields
   */
  handle<Req extends LbmMeta = LbmMeta>(name: string, handler: RpcHandler<Req>, options: RpcHandleOptions<Req> = {}): this {
    if (typeof name !== 'string' || name === '') throw new TypeError(`handle name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (typeof handler !== 'function') throw new TypeError(`handle ${name}: handler must be a function`);
    const create = options.create ?? ((): LbmMeta => new LbmMeta());
    this.handlers.set(name, { fn: handler as RpcHandler<LbmMeta>, create });
    return this;
  }

  /** Handlers running now. */
  get running(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Stops receiving, aborts running handlers, answers every call not yet answered with
   * `SHUTDOWN` (best effort, bounded by `replyTimeoutMs`) and closes the endpoints. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.server.close();
    await this.loopDone;
    const pending = this.calls.values();
    this.queue.length = 0;
    for (const c of pending) {
      c.canceled = true;
      c.abort(new Error('the server closed'));
    }
    await Promise.all(pending.map((c) => this.finish(c, null, RpcStatus.SHUTDOWN, 'the server closed')));
    await this.replies.close();
  }

  private loop(): Promise<void> {
    return receiveLoop(this.server, {
      // A fresh envelope per request: it stays with its call until the reply is sent.
      make: () => new RpcEnvelope(this.resolveBody),
      onMessage: (env) => {
        this.delivering = true;
        try {
          this.dispatch(env);
        } catch {
          this.stats.malformed++;
          this.server.release(env);
        } finally {
          this.delivering = false;
        }
      },
      drained: () => {
        if (this.unrung) {
          this.unrung = false;
          (this.bell as RpcReplyBell).ring();
        }
      },
      onMalformed: () => void this.stats.malformed++,
      stopped: () => this.closing !== null,
      spinUs: this.spinUs,
      blockMs: this.blockWhenIdleMs,
      idle: () => this.active === 0 && this.calls.size === 0,
    });
  }

  private dispatch(env: RpcEnvelope): void {
    if (env.kind === RPC_KIND_CANCEL) {
      this.server.release(env);
      this.cancel(env.replyTo, env.callId);
      return;
    }
    if (env.kind !== RPC_KIND_REQUEST || env.replyTo === '') {
      // Nobody to answer: nothing more to do.
      this.stats.malformed++;
      this.server.release(env);
      return;
    }
    if (!this.acceptReplyTo(env.replyTo)) {
      // An address the reply policy refuses: not even a refusal is sent there.
      this.stats.replyToRefused++;
      this.server.release(env);
      return;
    }
    const now = performance.now();
    const call = new ServerCall(env, env.budgetMs === 0 ? Infinity : now + env.budgetMs);
    if (!this.calls.add(env.replyTo, env.callId, call)) {
      // A duplicate id from the same caller: answering twice would confuse it; drop this one.
      this.stats.duplicates++;
      this.server.release(env);
      return;
    }
    if (env.bodyMalformed) {
      this.stats.refused++;
      void this.finish(call, null, RpcStatus.BAD_REQUEST, `request fields of ${JSON.stringify(env.method)} could not be decoded: ${errorText(env.bodyError)}`);
      return;
    }
    if (!this.handlers.has(env.method)) {
      this.stats.refused++;
      void this.finish(call, null, RpcStatus.NO_METHOD, `no handler for ${JSON.stringify(env.method)}`);
      return;
    }
    if (!this.receiveBulks(env)) {
      this.stats.refused++;
      void this.finish(call, null, RpcStatus.BAD_REQUEST, `request bulks of ${JSON.stringify(env.method)} could not be received`);
      return;
    }
    if (this.active < this.maxConcurrent) this.run(call);
    else if (this.queue.length < this.maxQueued) this.queue.push(call);
    else {
      this.stats.overloaded++;
      void this.finish(call, null, RpcStatus.OVERLOADED, `server busy: ${this.active} running, ${this.queue.length} queued`);
    }
  }

  /** Receives the request's XFER data in place, and shows every readable bulk through `send[i].data`. */
  private receiveBulks(env: RpcEnvelope): boolean {
    const send = env.send;
    for (let i = 0; i < send.length; i++) {
      const b = send[i] as (typeof send)[number];
      if (isXfer(b.flags)) env.recv.push({ data: null, size: b.size, flags: b.flags });
    }
    if (this.server.recvBulksNow(env) !== LBM_OK) return false;
    let k = 0;
    for (let i = 0; i < send.length; i++) {
      const b = send[i] as (typeof send)[number];
      if (isXfer(b.flags)) b.data = (env.recv[k++] as (typeof send)[number]).data;
    }
    const body = env.body as LbmMeta;
    body.send = env.send;
    body.recv = env.recv;
    return true;
  }

  private cancel(replyTo: string, id: number): void {
    const call = this.calls.get(replyTo, id);
    if (call === undefined) return;
    this.stats.canceled++;
    const at = this.queue.indexOf(call);
    if (at >= 0) this.queue.splice(at, 1);
    call.canceled = true;
    call.abort(new Error('the caller canceled the call'));
    // The caller has stopped listening: no reply, just free the request.
    void this.finish(call, null, -1, '');
  }

  private run(call: ServerCall): void {
    this.active++;
    const { env } = call;
    const entry = this.handlers.get(env.method) as { fn: RpcHandler<LbmMeta> };
    let result: Promise<LbmMeta | void> | LbmMeta | void;
    try {
      // The call is the handler's context: no context object, no closures per call.
      result = entry.fn(env.body as LbmMeta, call);
    } catch (err) {
      this.failed(call, err);
      return;
    }
    if (result instanceof Promise || (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function')) {
      // Only a handler still running after it returned can see its deadline pass.
      call.armDeadline();
      Promise.resolve(result).then(
        (reply) => this.answer(call, reply ?? EMPTY_REPLY, RpcStatus.OK, ''),
        (err: unknown) => this.failed(call, err),
      );
    } else {
      // A synchronous handler's reply goes out now, without a promise in front of the send.
      this.answer(call, (result as LbmMeta | undefined) ?? EMPTY_REPLY, RpcStatus.OK, '');
    }
  }

  /**
   * A handler settled: its reply goes out and its slot frees. The slot frees when the handler
   * settles, not when its reply is sent: a caller whose reply endpoint is gone must not hold a
   * slot for up to replyTimeoutMs.
   */
  private answer(call: ServerCall, reply: LbmMeta | null, status: number, text: string): void {
    this.finish(call, reply, status, text)?.catch(() => undefined);
    call.disarm();
    this.stats.handled++;
    this.active--;
    this.pump();
  }

  private failed(call: ServerCall, err: unknown): void {
    this.stats.failed++;
    this.answer(call, null, RpcStatus.HANDLER_FAILED, errorText(err));
  }

  private pump(): void {
    while (this.active < this.maxConcurrent && this.queue.length > 0 && this.closing === null) {
      const call = this.queue.shift() as ServerCall;
      if (call.deadline <= performance.now()) {
        // The caller stopped waiting while this sat in the queue: running it would be wasted work.
        this.stats.expired++;
        void this.finish(call, null, -1, '');
        continue;
      }
      this.run(call);
    }
  }

  /**
   * Answers a call once: sends the reply (or the failure `status`; `-1` sends nothing), then
   * releases the request's message. Over a transport that sends synchronously (shared memory)
   * the reply goes out here, with no promise, no envelope made and nothing left to settle
   * (`undefined`); a reply that must wait for room, or that breaks a send rule, takes the
   * general path (a promise).
   */
  private finish(call: ServerCall, reply: LbmMeta | null, status: number, text: string): Promise<void> | undefined {
    if (call.answered) return undefined;
    const { env } = call;
    if (status >= 0 && !call.expired && call.deadline > performance.now()) {
      const out = this.replyOut;
      fillReply(out, env, reply, status, text);
      let rc: number;
      try {
        rc = this.replies.sendNow(env.replyTo, out);
      } catch {
        rc = EAGAIN;
      } finally {
        // Nothing of the reply is kept: let its body and bulks go.
        out.body = null;
        out.send = NO_BULKS;
        out.recv = NO_BULKS;
      }
      if (rc === EAGAIN) return this.finishAsync(call, reply, status, text);
      if (rc !== LBM_OK) this.stats.repliesDropped++;
      else this.replied();
    }
    call.answered = true;
    this.calls.delete(env.replyTo, env.callId);
    this.server.release(env);
    return undefined;
  }

  /** {@link RpcServer.finish} for a reply that may wait for room or must report a send-rule failure. */
  private async finishAsync(call: ServerCall, reply: LbmMeta | null, status: number, text: string): Promise<void> {
    if (call.answered) return;
    call.answered = true;
    const { env } = call;
    try {
      if (status >= 0 && !call.expired && call.deadline > performance.now()) {
        const rc = await this.sendReply(env, reply, status, text);
        if (rc !== LBM_OK) this.stats.repliesDropped++;
        else this.replied();
      }
    } finally {
      this.calls.delete(env.replyTo, env.callId);
      this.server.release(env);
    }
  }

  /**
   * A reply went out: the bell rings after the receive loop's drain when the reply was sent from
   * it, at once otherwise (a handler that settled later: no drain follows it soon).
   */
  private replied(): void {
    if (this.bell === null) return;
    if (this.delivering) this.unrung = true;
    else this.bell.ring();
  }

  private async sendReply(req: RpcEnvelope, reply: LbmMeta | null, status: number, text: string): Promise<number> {
    const out = new RpcEnvelope();
    fillReply(out, req, reply, status, text);
    try {
      return await this.replies.send(req.replyTo, out, this.replyTimeoutMs);
    } catch (err) {
      // The handler's reply broke a send rule (bad flags, missing data): the caller learns why.
      if (status !== RpcStatus.OK) return ESHUTDOWN;
      this.stats.failed++;
      return this.sendReply(req, null, RpcStatus.HANDLER_FAILED, `the reply could not be sent: ${errorText(err)}`);
    }
  }
}
