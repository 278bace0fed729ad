/**
 * The abstract server: the two-phase receive rules (see docs/porting.md), written once for
 * every transport. A transport only supplies messages (`receive`) and closes (`shutdown`).
 */
import type { Bulk, ExposeSource } from './bulk.js';
import { expose, isXfer } from './bulk.js';
import type { ArchiveLimits } from '../archive/archive-limits.js';
import { resolveLimits } from '../archive/archive-limits.js';
import { LbmMeta } from './lbm-meta.js';
import type { IncomingMessage } from './message.js';
import { decodeMeta } from '../archive/meta-codec.js';
import type { FullPtr } from './pointer.js';
import { fillRecvBulks } from './recv-bulks.js';
import { EAGAIN, ECANCELED, EOPNOTSUPP, ESHUTDOWN, LBM_MALFORMED, LBM_OK } from './return-codes.js';
import type { WaitOptions, WaitSpec } from './wait.js';
import { raceWait, toWaitSpec } from './wait.js';
import type { ServerCounters, ServerOptions } from './server-types.js';

/** Where the message behind a decoded meta waits for `recvBulks`. */
const PENDING = Symbol('lightbeam.pending');
/** A message whose bytes `recv` bulks of the meta view in place, held until released. */
const HELD = Symbol('lightbeam.held');
type WithPending = LbmMeta & { [PENDING]?: IncomingMessage; [HELD]?: IncomingMessage };

const NO_WAIT: WaitSpec = Object.freeze({ deadline: 0, signal: undefined });

/** The receiving side of a transport (`hshm::lbm::Server`). */
export abstract class Server {
  /** Decoding limits in force. */
  readonly limits: ArchiveLimits;
  /** Counters since construction. */
  readonly counters: ServerCounters = { received: 0, malformed: 0, mismatched: 0 };
  /** Aborted when `close()` starts; transports end their waits on it. */
  protected readonly closeController = new AbortController();
  private readonly address: string;
  private closing: Promise<void> | null = null;
  private receiving = false;
  /** `waitRaw` calls between entry and exit; 0 means the queue is idle. */
  private waiters = 0;
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param address - what `getAddress()` returns: the bind address given at construction
   * @param options - decoding limits
   */
  protected constructor(address: string, options: ServerOptions = {}) {
    this.address = address;
    this.limits = resolveLimits(options.limits);
  }

  /**
   * Builds a receive-side bulk descriptor (no copy, no registration).
   *
   * @param data - a `Uint8Array`, `Pointer` or `FullPtr`
   * @param size - bytes, at most the view's length
   * @param flags - copy them from the matching `send` bulk
   */
  expose(data: ExposeSource, size: number, flags: number): Bulk {
    return expose(data, size, flags);
  }

  /** The bind address given at construction. */
  getAddress(): string {
    return this.address;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Receives one message's metadata without waiting. On success the contents of `meta.send` and
   * `meta.recv` are replaced with the vectors from the wire and the custom fields are filled;
   * push your own `recv` entries, then call `recvBulks(meta)`. A transport may refill the same
   * arrays and reuse the `Bulk` objects it filled last time (shared memory does, so a receive
   * loop allocates nothing): copy what you keep beyond the next receive into `meta`. A receive
   * into `meta` first releases what `meta` still holds of its previous message.
   *
   * Over shared memory, `meta.send[i].data` is filled too: for a BULK_EXPOSE bulk in the slab, a
   * live `FullPtr` to the sender's bytes (zero copy, owned by the application); for a BULK_XFER
   * bulk, a read-only view of the staged (or moved) bytes, valid until the message is released
   * (`recvBulks`, {@link Server.release}, the next receive into `meta`, close). Over ZeroMQ it
   * stays `null`.
   *
   * @returns `0`, `EAGAIN` when no message is ready (or another caller is waiting for one),
   *   `-1` when the metadata cannot be decoded (the rest of that message is dropped),
   *   `ESHUTDOWN` after close, `ENOBUFS` when the server holds its bound of unreleased messages
   *   (shared memory), or another errno
   */
  recvMetadata(meta: LbmMeta): Promise<number> {
    if (this.closing !== null) return Promise.resolve(ESHUTDOWN);
    // Someone is already receiving: any ready message is theirs, so there is none for us.
    if (this.receiving) return Promise.resolve(EAGAIN);
    this.releaseHeld(meta);
    this.receiving = true;
    let got: IncomingMessage | number | Promise<IncomingMessage | number>;
    try {
      got = this.receive(NO_WAIT);
    } catch (err) {
      this.receiving = false;
      return Promise.reject(err);
    }
    if (got instanceof Promise) {
      return got.then(
        (g) => {
          this.receiving = false;
          if (typeof g === 'number') return g;
          // Another caller may have received into the same meta while this one waited.
          this.releaseHeld(meta);
          return this.accept(g, meta);
        },
        (err: unknown) => {
          this.receiving = false;
          throw err;
        },
      );
    }
    // A transport that answered synchronously (shared memory): no await, no extra tick.
    this.receiving = false;
    try {
      return Promise.resolve(typeof got === 'number' ? got : this.accept(got, meta));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Receives one message's metadata synchronously, for hot loops that drain a server without a
   * promise per message. Results as {@link Server.recvMetadata}, except that `EAGAIN` also means
   * this transport cannot answer synchronously (ZeroMQ: use `recvMetadata` or `waitMetadata`).
   * Pair it with {@link Server.recvBulksNow}.
   *
   * @param meta - the object to fill
   * @returns `0`, `EAGAIN`, `-1` or `ESHUTDOWN`
   */
  recvMetadataNow(meta: LbmMeta): number {
    if (this.closing !== null) return ESHUTDOWN;
    if (this.receiving || !this.receivesSynchronously) return EAGAIN;
    this.releaseHeld(meta);
    const got = this.receive(NO_WAIT) as IncomingMessage | number;
    return typeof got === 'number' ? got : this.accept(got, meta);
  }

  /**
   * Waits for one message's metadata by blocking the calling thread (`Atomics.wait`), for worker
   * threads whose loop does nothing but receive: the fastest wake-up there is, with no event-loop
   * turn per message. Timers and I/O of this thread do not run while it blocks.
   *
   * @param meta - the object to fill, as for {@link Server.recvMetadata}
   * @param timeoutMs - longest wait (default: no limit)
   * @returns `0`, `-1`, `ETIMEDOUT`, `ESHUTDOWN`, `ECONNRESET` (channel taken over), `EAGAIN`
   *   when another caller is receiving (or the message needs a region this thread learns only
   *   when its event loop runs: let it run, then call again), or `EOPNOTSUPP` on a transport
   *   that cannot block (ZeroMQ: use `waitMetadata`)
   */
  waitMetadataSync(meta: LbmMeta, timeoutMs = Infinity): number {
    if (this.closing !== null) return ESHUTDOWN;
    if (!(timeoutMs >= 0)) throw new RangeError(`waitMetadataSync timeoutMs must be a non-negative number, got ${timeoutMs}`);
    if (this.receiving || this.waiters !== 0) return EAGAIN;
    this.releaseHeld(meta);
    this.receiving = true;
    let got: IncomingMessage | number;
    try {
      got = this.receiveBlocking(timeoutMs);
    } finally {
      this.receiving = false;
    }
    return typeof got === 'number' ? got : this.accept(got, meta);
  }

  /**
   * Supplies a message that is ready now, or `EAGAIN`, synchronously; only called when
   * {@link Server.receivesSynchronously} is true. A transport may wait briefly without yielding
   * (spin) before it answers `EAGAIN`. The default is `receive` without waiting.
   */
  protected receiveSoon(): IncomingMessage | number {
    return this.receive(NO_WAIT) as IncomingMessage | number;
  }

  /**
   * Supplies the next message, blocking the thread up to `timeoutMs`; transports that cannot
   * block keep this default.
   *
   * @param _timeoutMs - longest wait
   * @returns the message, `ETIMEDOUT`, `ESHUTDOWN`, another errno, or `EOPNOTSUPP`
   */
  protected receiveBlocking(_timeoutMs: number): IncomingMessage | number {
    return EOPNOTSUPP;
  }

  /**
   * True when `receive` with a no-wait spec always answers synchronously (shared memory), which
   * {@link Server.recvMetadataNow} relies on.
   */
  protected get receivesSynchronously(): boolean {
    return false;
  }

  /**
   * Waits for one message's metadata; concurrent waiters are served in call order.
   *
   * @param meta - the object to fill, as for {@link Server.recvMetadata}
   * @param opts - `timeoutMs` (resolves `ETIMEDOUT`) and `signal` (resolves `ECANCELED`)
   * @returns `0`, `-1`, `ETIMEDOUT`, `ECANCELED`, `ESHUTDOWN`, or another errno
   */
  waitMetadata(meta: LbmMeta, opts?: WaitOptions): Promise<number> {
    if (this.closing === null && this.waiters === 0 && !this.receiving && this.receivesSynchronously) {
      // Nobody is waiting and the transport answers at once: a message already there is taken
      // without the queue's promises (a busy pipeline's common case).
      const t = opts?.timeoutMs;
      if (t !== undefined && !(t >= 0)) return Promise.reject(new RangeError(`timeoutMs must be a non-negative number, got ${t}`));
      if (opts?.signal?.aborted === true) return Promise.resolve(ECANCELED);
      this.releaseHeld(meta);
      this.receiving = true;
      let got: IncomingMessage | number;
      try {
        got = this.receiveSoon();
      } catch (err) {
        return Promise.reject(err);
      } finally {
        this.receiving = false;
      }
      if (typeof got !== 'number') return Promise.resolve(this.accept(got, meta));
      if (got !== EAGAIN) return Promise.resolve(got);
    }
    return this.waitMetadataQueued(meta, opts);
  }

  private async waitMetadataQueued(meta: LbmMeta, opts?: WaitOptions): Promise<number> {
    this.releaseHeld(meta);
    const got = await this.waitRaw(opts);
    if (typeof got === 'number') return got;
    // Another caller may have received into the same meta while this one waited.
    this.releaseHeld(meta);
    return this.accept(got, meta);
  }

  /**
   * {@link Server.waitRaw} without waiting and without a promise, for forwarders that drain a
   * transport receiving synchronously (shared memory): every message ready in one wake-up, each
   * taken by a plain call. The caller must call `release()` on the message.
   *
   * @returns the message ready now; `EAGAIN` when none is, when another caller is receiving, or
   *   when this transport cannot answer synchronously (ZeroMQ: use `waitRaw`); `ESHUTDOWN` after
   *   close; `-1` for an envelope that could not be read (dropped), or another errno
   */
  recvRawNow(): IncomingMessage | number {
    if (this.closing !== null) return ESHUTDOWN;
    if (this.receiving || this.waiters !== 0 || !this.receivesSynchronously) return EAGAIN;
    return this.receive(NO_WAIT) as IncomingMessage | number;
  }

  /**
   * Waits for the next message and returns it undecoded, for bridges and proxies that forward
   * frames verbatim (custom fields included). The caller must call `release()` on it.
   * Concurrent waiters (of this and `waitMetadata`) are served in call order.
   *
   * @param opts - `timeoutMs` (resolves `ETIMEDOUT`) and `signal` (resolves `ECANCELED`)
   * @returns the message, or `ETIMEDOUT`, `ECANCELED`, `ESHUTDOWN`, `-1` or another errno
   */
  async waitRaw(opts?: WaitOptions): Promise<IncomingMessage | number> {
    const spec = toWaitSpec(opts);
    if (this.closing !== null) return ESHUTDOWN;
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    this.waiters++;
    try {
      if (this.waiters === 1 && !this.receiving) {
        // Nobody is ahead of us (every earlier waiter has finished), so it is our turn now: skip
        // the race for a turn (its promise, listeners and timer); receive() itself honours the
        // deadline, the signal and close. Later callers queue behind us.
        this.queue = mine;
        if (spec.signal?.aborted) return ECANCELED;
      } else {
        const prev = this.queue;
        this.queue = prev.then(() => mine);
        const turn = await raceWait(prev.then(() => LBM_OK), spec, this.closeController.signal);
        if (turn !== LBM_OK) return turn;
        if (this.closing !== null) return ESHUTDOWN;
      }
      this.receiving = true;
      try {
        return await this.receive(spec);
      } finally {
        this.receiving = false;
      }
    } finally {
      this.waiters--;
      done();
    }
  }

  /**
   * Receives the data of the message behind `meta` into the XFER entries of `meta.recv`, in
   * order; other entries are skipped. A smaller buffer gets the first `size` bytes, a larger one
   * keeps its tail. With no XFER entries it resolves `0` and drops the message's data.
   *
   * An XFER entry without a buffer (`data: null`) receives in place instead of by copy: its
   * `data` becomes a view of the first `size` bytes as the transport received them (over shared
   * memory the staged copy, over ZeroMQ the frame). Such views stay valid until
   * {@link Server.release}, the next receive into `meta`, or the server's close.
   *
   * @returns `0`, or `-1` when the XFER entries do not match the message's data frames (or no
   *   message is pending); the rest of that message is then dropped, so the next arrives intact
   */
  async recvBulks(meta: LbmMeta): Promise<number> {
    return this.recvBulksNow(meta);
  }

  /**
   * The synchronous core of {@link Server.recvBulks}, for callers that avoid a promise.
   *
   * @param meta - a meta filled by `recvMetadata` or `waitMetadata`
   */
  recvBulksNow(meta: LbmMeta): number {
    const m = meta as WithPending;
    const msg = m[PENDING];
    const recv = meta.recv;
    let wanted = 0;
    let inPlace = 0;
    for (let i = 0; i < recv.length; i++) {
      const b = recv[i];
      if (!isXfer(b.flags)) continue;
      wanted++;
      if (b.data === null || b.data === undefined) inPlace++;
    }
    if (msg === undefined) return wanted === 0 ? LBM_OK : LBM_MALFORMED;
    m[PENDING] = undefined;
    if (wanted === 0) {
      msg.release();
      return LBM_OK;
    }
    if (wanted !== msg.dataCount) {
      msg.release();
      this.counters.mismatched++;
      return LBM_MALFORMED;
    }
    try {
      fillRecvBulks(recv, msg);
    } finally {
      if (inPlace === 0) msg.release();
      else m[HELD] = msg;
    }
    return LBM_OK;
  }

  /**
   * Takes ownership of a block the sender moved (`exposeMove`): the block of `meta.send[index]`
   * is detached from the message, so releasing the message no longer frees it; free it with the
   * memory manager or move it on with another send. Call it after `recvMetadata` and before
   * the message is released (`recvBulks` without in-place entries releases it).
   *
   * @param meta - a meta filled by this server
   * @param index - index into `meta.send`
   * @returns the block (`ptr` over its `size` bytes, `shm` its pointer), or `null` when that bulk
   *   was not moved, was taken already, or the message was released
   */
  take(meta: LbmMeta, index: number): FullPtr | null {
    const m = meta as WithPending;
    const msg = m[PENDING] ?? m[HELD];
    return msg?.take?.(index) ?? null;
  }

  /**
   * Releases what `meta` holds of its last message: the data not yet received and the bytes its
   * in-place `recv` views show (those views are invalid afterwards). The next receive into
   * `meta` does this too; call it to free shared memory early. Idempotent.
   *
   * @param meta - a meta filled by this server
   */
  release(meta: LbmMeta): void {
    const m = meta as WithPending;
    const pending = m[PENDING];
    const held = m[HELD];
    if (pending !== undefined) {
      m[PENDING] = undefined;
      pending.release();
    }
    if (held !== undefined) {
      m[HELD] = undefined;
      held.release();
    }
  }

  /**
   * Iterates over incoming messages, each decoded into a fresh meta from `create`; ends when the
   * server closes or `signal` aborts. Messages whose metadata cannot be decoded are skipped
   * (counted in `counters.malformed`). Call `recvBulks` on each before asking for the next one
   * if you want its data.
   *
   * @param create - makes the meta to decode into
   * @param opts - `signal` to stop iterating
   */
  async *messages<M extends LbmMeta>(create: () => M, opts: { signal?: AbortSignal } = {}): AsyncGenerator<M, void, undefined> {
    let last: M | null = null;
    for (;;) {
      // The caller has had the previous message; what it did not take of it is freed now.
      if (last !== null) this.release(last);
      const meta = create();
      const rc = await this.waitMetadata(meta, { signal: opts.signal });
      if (rc === LBM_OK) yield (last = meta);
      else if (rc === ESHUTDOWN || rc === ECANCELED) return;
      else if (rc !== LBM_MALFORMED) throw new Error(`waitMetadata failed with ${rc}`);
    }
  }

  /** Iterates with plain `LbmMeta`s; see {@link Server.messages}. */
  [Symbol.asyncIterator](): AsyncGenerator<LbmMeta, void, undefined> {
    return this.messages(() => new LbmMeta());
  }

  /** Closes the server; idempotent. Pending and future waits resolve `ESHUTDOWN`. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closeController.abort();
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /**
   * Supplies the next message. Never called concurrently on one server. With
   * `spec.deadline === 0` it must not wait: `EAGAIN` when nothing is ready. Otherwise it waits
   * until the deadline (`ETIMEDOUT`), `spec.signal` (`ECANCELED`) or close (`ESHUTDOWN`).
   */
  protected abstract receive(spec: WaitSpec): IncomingMessage | number | Promise<IncomingMessage | number>;

  /** Releases the transport's resources; called once by `close()`. */
  protected abstract shutdown(): Promise<void>;

  /**
   * A receive into `meta` starts: the caller never asked for the previous message's data, or is
   * done with its in-place views. Drop it, do not leak it (and free its room before receiving).
   */
  private releaseHeld(meta: LbmMeta): void {
    const m = meta as WithPending;
    if (m[PENDING] !== undefined || m[HELD] !== undefined) this.release(meta);
  }

  /** Decodes `msg` into `meta`, which holds nothing of an earlier message (callers release it first). */
  private accept(msg: IncomingMessage, meta: LbmMeta): number {
    const m = meta as WithPending;
    const rc = msg.decodeInto !== undefined ? msg.decodeInto(meta, this.limits) : decodeMeta(msg.meta, meta, this.limits);
    if (rc !== LBM_OK) {
      msg.release();
      this.counters.malformed++;
      return rc;
    }
    this.counters.received++;
    if (msg.dataCount === 0) msg.release();
    else m[PENDING] = msg;
    return LBM_OK;
  }
}
