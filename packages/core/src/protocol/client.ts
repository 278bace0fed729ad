/**
 * The abstract client: validation, encoding and ordering of `send`, written once for every
 * transport (the contract in docs/porting.md).
 */
import type { Bulk, ExposeSource } from './bulk.js';
import { BULK_FLAGS_MASK, BULK_XFER, expose, isXfer } from './bulk.js';
import type { FullPtr, Pointer } from './pointer.js';
import { getPointerResolver, isNullPointer } from './pointer.js';
import type { LbmMeta } from './lbm-meta.js';
import { LightbeamError } from './lightbeam-error.js';
import type { OutgoingMessage } from './message.js';
import { encodeMeta } from '../archive/meta-codec.js';
import { EAGAIN, ESHUTDOWN } from './return-codes.js';
import type { WaitOptions, WaitSpec } from './wait.js';
import { toWaitSpec } from './wait.js';

/**
 * Options of `send`. Without `timeoutMs` a send that cannot be queued at once resolves `EAGAIN`
 * (as the C++ `ZMQ_DONTWAIT` send does); with it, the send waits up to that long for room.
 */
export type SendOptions = WaitOptions;

const NO_WAIT: WaitSpec = Object.freeze({ deadline: 0, signal: undefined });

/** The sending side of a transport (`hshm::lbm::Client`). */
export abstract class Client {
  private closing: Promise<void> | null = null;
  private tail: Promise<unknown> | null = null;
  private pending = 0;
  /** Aborted when `close()` starts; transports end their waits on it. */
  protected readonly closeController = new AbortController();

  /**
   * Builds a bulk descriptor (no copy, no registration).
   *
   * @param data - a `Uint8Array`, `Pointer` or `FullPtr`
   * @param size - bytes, at most the view's length
   * @param flags - `BULK_EXPOSE`, `BULK_XFER` or both
   */
  expose(data: ExposeSource, size: number, flags: number): Bulk {
    return expose(data, size, flags);
  }

  /**
   * Builds a BULK_XFER descriptor that moves its bytes instead of copying them (see
   * {@link Bulk.move}): after a successful send they are no longer the caller's.
   *
   * @param data - the start of a block from `MemoryManager.allocate`, as a `Pointer` or `FullPtr`;
   *   over ZeroMQ also a `Uint8Array` over a plain `ArrayBuffer`, which `send` detaches and hands
   *   to zeromq.js without a copy
   * @param size - bytes to send, at most the block's size
   */
  exposeMove(data: Pointer | FullPtr | Uint8Array, size: number): Bulk {
    const b = expose(data, size, BULK_XFER);
    b.move = true;
    return b;
  }

  /**
   * Sends `meta`: its whole metadata, then the data of each XFER bulk of `meta.send` in order.
   * Concurrent calls are queued in call order.
   *
   * @param meta - the message
   * @param opts - `timeoutMs` to wait for room instead of resolving `EAGAIN`; `signal` to abort
   * @returns `0` once queued (not delivered), `EAGAIN` when it cannot be queued, `ETIMEDOUT`,
   *   `ECANCELED`, `ESHUTDOWN` after close, or another errno
   * @throws LightbeamError `ERR_LBM_UNKNOWN_FLAGS` for flag bits outside EXPOSE|XFER, and
   *   `ERR_LBM_INVALID_ARGUMENT` for an XFER bulk without enough data (rejected before anything is sent)
   */
  send(meta: LbmMeta, opts?: SendOptions): Promise<number> {
    let out: Prepared;
    try {
      if (this.writesMetaDirectly && this.pending === 0 && this.closing === null) {
        // Idle, and the transport writes the meta itself: no encoding, no message object. Only a
        // send that must wait for room goes the general way below.
        validate(meta);
        let rc = this.transmitMeta(meta);
        // Full, and the caller will wait: a transport may spin briefly for room first, still
        // without encoding anything or making a promise of its own.
        if (rc === EAGAIN && opts !== undefined) rc = this.transmitMetaSoon(meta);
        if (rc !== EAGAIN || opts === undefined) return Promise.resolve(rc);
      }
      out = prepare(meta, !this.movesBlocks, this.movesPlainBuffers);
    } catch (err) {
      return Promise.reject(err);
    }
    const sent = this.sendRaw(out, opts);
    // A transport that cannot move sent a copy of each moved block (made by prepare): the
    // blocks are freed once the send succeeded, as a move would have given them away.
    return out.moved ? sent.then((rc) => (rc === 0 ? freeMoved(out.bulks, rc) : rc)) : sent;
  }

  /**
   * Sends `meta` synchronously, for hot loops that should not pay a promise per message. It never
   * waits: `0` when the message was queued, `EAGAIN` when it could not be queued at once, when
   * earlier sends are still in flight, or when this transport cannot send synchronously (ZeroMQ:
   * use {@link Client.send}); `ESHUTDOWN` after close. Over shared memory it does exactly what
   * `send(meta)` does and allocates nothing.
   *
   * @param meta - the message
   * @throws LightbeamError for the same programming errors as {@link Client.send}
   */
  sendNow(meta: LbmMeta): number {
    if (this.writesMetaDirectly) {
      validate(meta);
      if (this.closing !== null) return ESHUTDOWN;
      if (this.pending !== 0) return EAGAIN;
      return this.transmitMeta(meta);
    }
    const out = prepare(meta, !this.movesBlocks, this.movesPlainBuffers);
    const rc = this.sendRawNow(out);
    return out.moved && rc === 0 ? freeMoved(out.bulks, rc) : rc;
  }

  /**
   * True when the transport implements {@link Client.transmitMeta}: it writes a validated meta
   * without the archive frame (shared memory).
   */
  protected get writesMetaDirectly(): boolean {
    return false;
  }

  /**
   * True when the transport hands moved bulks ({@link Bulk.move}) over itself (shared memory);
   * otherwise the client sends a copy of each moved block and frees the block after the send.
   */
  protected get movesBlocks(): boolean {
    return false;
  }

  /**
   * True when the transport accepts a moved bulk whose bytes are not in shared memory (a plain
   * `Uint8Array`) and gives it away itself (ZeroMQ); otherwise such a move is a programming error.
   */
  protected get movesPlainBuffers(): boolean {
    return false;
  }

  /**
   * Moves one validated meta at once, without waiting: `0`, `EAGAIN` when it cannot be queued
   * now, or another code. Only called when {@link Client.writesMetaDirectly} is true, never
   * concurrently with `transmit`.
   *
   * @param _meta - the message, validated; read during the call only
   */
  protected transmitMeta(_meta: LbmMeta): number {
    return EAGAIN;
  }

  /**
   * {@link Client.transmitMeta} again after it found no room, for a send that may wait: a
   * transport may retry for a short while (spinning) before the send falls back to its general,
   * parking path. The default does not retry.
   *
   * @param _meta - the message, validated; read during the call only
   */
  protected transmitMetaSoon(_meta: LbmMeta): number {
    return EAGAIN;
  }

  /**
   * True when `transmit` with a no-wait spec always answers synchronously (shared memory), which
   * {@link Client.sendNow} relies on.
   */
  protected get transmitsSynchronously(): boolean {
    return false;
  }

  /**
   * Sends an already-encoded message verbatim, for bridges and proxies that forward frames
   * (custom fields included) without decoding them. `msg.bulks` must describe `msg.meta`'s send
   * vector and `msg.xfer` hold one frame per XFER bulk; nothing is validated.
   *
   * @param msg - metadata frame, XFER data frames, send bulks
   * @param opts - as for {@link Client.send}
   * @returns as for {@link Client.send}
   */
  sendRaw(msg: OutgoingMessage, opts?: SendOptions): Promise<number> {
    let spec: WaitSpec;
    try {
      spec = opts === undefined ? NO_WAIT : toWaitSpec(opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closing !== null) return Promise.resolve(ESHUTDOWN);
    // Idle fast path: nothing ahead of us, so no chaining is needed; a transmit that finished
    // synchronously (the common case over shared memory) has nothing left to order later sends after.
    if (this.pending === 0) {
      let rc: Promise<number> | number;
      try {
        rc = this.transmit(msg, spec);
      } catch (err) {
        return Promise.reject(err);
      }
      return typeof rc === 'number' ? Promise.resolve(rc) : this.track(rc);
    }
    const prev = this.tail as Promise<unknown>;
    return this.track(prev.then(() => (this.closing !== null ? ESHUTDOWN : this.transmit(msg, spec))));
  }

  /**
   * {@link Client.sendRaw} without waiting and without a promise, for forwarders on transports
   * that transmit synchronously (shared memory): `0` when queued, `EAGAIN` when it could not be
   * queued at once, when earlier sends are still in flight, or when this transport cannot send
   * synchronously; `ESHUTDOWN` after close.
   *
   * @param msg - as for {@link Client.sendRaw}
   */
  sendRawNow(msg: OutgoingMessage): number {
    if (this.closing !== null) return ESHUTDOWN;
    if (this.pending !== 0 || !this.transmitsSynchronously) return EAGAIN;
    return this.transmit(msg, NO_WAIT) as number;
  }

  /** Closes the client; idempotent, every call resolves when the first close finished. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closeController.abort();
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Moves one validated, encoded message. Never called concurrently on one client.
   *
   * @param msg - metadata frame, XFER data, and all bulks
   * @param spec - `deadline` 0 means do not wait for room
   * @returns a return code
   */
  protected abstract transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number;

  /** Releases the transport's resources; called once by `close()`. */
  protected abstract shutdown(): Promise<void>;

  private track(p: Promise<number> | number): Promise<number> {
    const promise = Promise.resolve(p);
    this.pending++;
    const done = promise.finally(() => {
      this.pending--;
    });
    this.tail = done.catch(() => undefined);
    return promise;
  }
}

/**
 * Checks `meta` the way {@link prepare} does, without building anything.
 *
 * @throws LightbeamError for an unknown flag bit, a bad size, or an XFER bulk without enough data
 */
function validate(meta: LbmMeta): void {
  const bulks = meta.send;
  if (!Array.isArray(bulks)) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'send meta.send must be an array of Bulk');
  for (let i = 0; i < bulks.length; i++) {
    const b = bulks[i];
    checkSize(b, i, 'send');
    checkFlags(b, i);
    if (isXfer(b.flags)) xferView(b, i);
    else if (b.move === true) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `send bulk #${i} moves its bytes but is not BULK_XFER`);
  }
  const recv = meta.recv;
  for (let i = 0; i < recv.length; i++) checkSize(recv[i], i, 'recv');
}

function checkFlags(b: Bulk, i: number): void {
  const bad = b.flags & ~BULK_FLAGS_MASK;
  if (bad !== 0 || !Number.isInteger(b.flags)) {
    throw new LightbeamError('ERR_LBM_UNKNOWN_FLAGS', `send bulk #${i} has unknown flag bits 0x${(bad >>> 0).toString(16)}`);
  }
}

/** The bytes of XFER bulk `b` (its view, at least `size` long). */
function xferView(b: Bulk, i: number, plainMoves = false): Uint8Array {
  const view = b.data?.ptr;
  if (b.move === true && !plainMoves && (b.data === null || b.data === undefined || b.data.shm === undefined || isNullPointer(b.data.shm))) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `send bulk #${i} moves its bytes but they are not a shared-memory block`);
  }
  if (view === undefined || view.byteLength < b.size) {
    throw new LightbeamError(
      'ERR_LBM_INVALID_ARGUMENT',
      `send bulk #${i} is BULK_XFER with size ${b.size} but has ${view === undefined ? 'no data' : `${view.byteLength} bytes`}`,
    );
  }
  return view;
}

/** An encoded message, and whether it has moved bulks that the transport gets copies of. */
type Prepared = OutgoingMessage & { moved: boolean };

/** Frees the blocks of the moved bulks of a message sent by copy; passes `rc` through. */
function freeMoved(bulks: readonly Bulk[], rc: number): number {
  const r = getPointerResolver();
  for (const b of bulks) if (b.move === true && b.data !== null) r?.free?.(b.data.shm);
  return rc;
}

/**
 * Validates and encodes `meta`.
 *
 * @param copyMoved - copy the bytes of moved bulks (for a transport that does not move blocks;
 *   the caller frees the blocks after a successful send)
 * @param plainMoves - a moved bulk may be a plain view (the transport gives it away)
 */
function prepare(meta: LbmMeta, copyMoved = false, plainMoves = false): Prepared {
  const bulks = meta.send;
  if (!Array.isArray(bulks)) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'send meta.send must be an array of Bulk');
  const xfer: Uint8Array[] = [];
  let moved = false;
  for (let i = 0; i < bulks.length; i++) {
    const b = bulks[i];
    checkSize(b, i, 'send');
    checkFlags(b, i);
    if (!isXfer(b.flags)) {
      if (b.move === true) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `send bulk #${i} moves its bytes but is not BULK_XFER`);
      continue;
    }
    const view = xferView(b, i, plainMoves);
    const bytes = view.byteLength === b.size ? view : view.subarray(0, b.size);
    if (b.move === true) moved = true;
    xfer.push(b.move === true && copyMoved ? bytes.slice() : bytes);
  }
  for (let i = 0; i < meta.recv.length; i++) checkSize(meta.recv[i], i, 'recv');
  return { meta: encodeMeta(meta), xfer, bulks, moved: moved && copyMoved };
}

function checkSize(b: Bulk, i: number, vector: string): void {
  if (!Number.isSafeInteger(b.size) || b.size < 0) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `${vector} bulk #${i} has invalid size ${b.size}`);
  }
}
