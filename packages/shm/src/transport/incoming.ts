/**
 * A message received over shared memory, as the core `Server` consumes it: descriptors, custom
 * fields and staged data read in place, EXPOSE bulks resolved to live views of the sender's
 * bytes. Objects are pooled by their server and refilled message after message, so a steady
 * stream of same-shaped messages allocates nothing.
 */
import type { ArchiveLimits, Bulk, FullPtr, IncomingMessage, LbmMeta, Pointer } from '@lightbeam/core';
import { NULL_POINTER, decodeCustomFields, decodeMeta, hasCustomFields, makePointer } from '@lightbeam/core';
import { ENTRY_MOVED, ENTRY_NONE, ENTRY_SHARED, ENTRY_STAGED, ENVELOPE_ENTRY_BYTES, ENVELOPE_HEADER_BYTES, EnvelopeView, FORM_FRAME, entryFlags, entryKind, entryPointer, entrySize, entryStagedAt } from '../ring/envelope.js';
import type { ShmMemory } from './transport-memory.js';

/** Where a meta keeps the `Bulk` objects the transport filled last time, to fill them again. */
const RECEIVED = Symbol('lightbeam.shm.received');
type WithReceived = LbmMeta & { [RECEIVED]?: { send: Bulk[]; recv: Bulk[] } };

const EMPTY = new Uint8Array(0);

/** What a pooled message reports to its server. */
export interface IncomingOwner {
  /** The message was released: stop tracking it, and pool it if it may be reused. */
  released(msg: ShmIncoming): void;
}

/** One received envelope; `release()` frees its block or returns it to its server's pool. */
export class ShmIncoming implements IncomingMessage {
  /** The validated envelope header. */
  readonly env = new EnvelopeView();
  /** Bytes holding the envelope: a region (block messages) or {@link ShmIncoming.copy}. */
  u8: Uint8Array = EMPTY;
  /** Data view of {@link ShmIncoming.u8}. */
  dv: DataView;
  /** The slab block holding the envelope, or `null` for an inline copy. */
  block: Pointer | null = null;
  /** This message's own buffer for inline envelopes (allocated once, reused). */
  readonly copy: Uint8Array;
  /** Data view of {@link ShmIncoming.copy}. */
  readonly copyDv: DataView;
  /** False from `release()` until the server refills it. */
  live = false;
  /** Staged views by entry index, reused while the same bytes are asked for again. */
  private readonly views: Uint8Array[] = [];
  /** What each cached view was cut from, and where: the bytes, the offset, the size. */
  private readonly viewSrc: Uint8Array[] = [];
  private readonly viewAt: number[] = [];
  private readonly viewSize: number[] = [];
  /** This message's place in its server's list of outstanding messages (-1: not listed). */
  listed = -1;
  /** Moved entries whose block the receiver took (by entry index); release frees the others. */
  private readonly taken: boolean[] = [];

  /**
   * @param memory - the thread's memory, to resolve shared entries and free blocks
   * @param owner - told of every release
   * @param inlineBytes - size of the inline copy buffer (the ring's payload bytes)
   */
  constructor(
    private readonly memory: ShmMemory,
    private readonly owner: IncomingOwner,
    inlineBytes: number,
  ) {
    this.copy = new Uint8Array(inlineBytes);
    this.copyDv = new DataView(this.copy.buffer);
    this.dv = this.copyDv;
  }

  /** Makes this the message whose envelope `env` was just parsed from `u8` (and `block`). */
  refill(u8: Uint8Array, dv: DataView, block: Pointer | null): void {
    this.u8 = u8;
    this.dv = dv;
    this.block = block;
    if (this.env.movedCount > 0) this.taken.fill(false);
    this.live = true;
  }

  /**
   * Moves this message to `u8`, which now holds a copy of its envelope `delta` bytes from where
   * it was parsed (its slot was copied out before being given back).
   */
  rebase(u8: Uint8Array, dv: DataView, delta: number): void {
    this.u8 = u8;
    this.dv = dv;
    this.env.at += delta;
    this.env.metaAt += delta;
  }

  get dataCount(): number {
    return this.env.dataCount;
  }

  /**
   * The metadata frame. For a descriptor-form envelope it is built on demand, cereal-compatible,
   * for forwarders (`waitRaw`); receivers never ask for it.
   */
  get meta(): Uint8Array {
    const env = this.env;
    if (env.form === FORM_FRAME) return this.u8.subarray(env.metaAt, env.metaAt + env.metaBytes);
    const ns = env.sendCount;
    const nr = env.recvCount;
    const frame = new Uint8Array(16 + 12 * (ns + nr) + env.metaBytes);
    const out = new DataView(frame.buffer);
    let p = 0;
    out.setUint32(p, ns, true);
    p += 8;
    for (let i = 0; i < ns; i++, p += 12) writeDescriptor(out, p, entrySize(this.dv, env, i), entryFlags(this.dv, env, i));
    out.setUint32(p, nr, true);
    p += 8;
    for (let i = 0; i < nr; i++, p += 12) {
      const r = env.recvAt(i);
      writeDescriptor(out, p, this.dv.getFloat64(r, true), this.dv.getUint32(r + 8, true));
    }
    frame.set(this.u8.subarray(env.metaAt, env.metaAt + env.metaBytes), p);
    return frame;
  }

  decodeInto(meta: LbmMeta, limits: ArchiveLimits): number {
    const env = this.env;
    const dv = this.dv;
    if (env.form === FORM_FRAME) {
      const rc = decodeMeta(this.meta, meta, limits);
      if (rc === 0) {
        const send = meta.send;
        for (let i = 0; i < send.length; i++) send[i].data = i < env.sendCount && entrySize(dv, env, i) === send[i].size ? this.dataOf(i, null) : null;
      }
      return rc;
    }
    const ns = env.sendCount;
    const nr = env.recvCount;
    if (ns > limits.maxBulks || nr > limits.maxBulks || env.largestSize > limits.maxBulkSize) return -1;
    // Custom fields first: a malformed field must leave send and recv untouched.
    if (hasCustomFields(meta) && decodeCustomFields(this.u8, env.metaAt, env.metaAt + env.metaBytes, meta, limits) !== 0) return -1;
    const m = meta as WithReceived;
    const own = (m[RECEIVED] ??= { send: [], recv: [] });
    const send = Array.isArray(meta.send) ? meta.send : (meta.send = []);
    // pop, not `length =`: V8 drops the backing store when a length is set to 0, and the
    // caller's next push would allocate a new one.
    while (send.length > ns) send.pop();
    for (let i = 0, e = env.at + ENVELOPE_HEADER_BYTES; i < ns; i++, e += ENVELOPE_ENTRY_BYTES) {
      const b = (own.send[i] ??= { data: null, size: 0, flags: 0 });
      const size = dv.getFloat64(e + 24, true);
      b.size = size;
      b.flags = dv.getUint32(e + 12, true);
      // The common staged entry read here, from the entry already at hand; the others by dataOf.
      if (dv.getUint32(e, true) === ENTRY_STAGED) {
        const view = this.stagedView(i, env.at + dv.getFloat64(e + 16, true), size);
        const prev = b.data;
        b.data = prev !== null && prev.ptr === view ? prev : this.stagedFull(view);
      } else {
        b.data = this.dataOf(i, b.data);
      }
      send[i] = b;
    }
    const recv = Array.isArray(meta.recv) ? meta.recv : (meta.recv = []);
    while (recv.length > nr) recv.pop();
    for (let i = 0; i < nr; i++) {
      const r = env.recvAt(i);
      const b = (own.recv[i] ??= { data: null, size: 0, flags: 0 });
      b.size = dv.getFloat64(r, true);
      b.flags = dv.getUint32(r + 8, true);
      b.data = null;
      recv[i] = b;
    }
    return 0;
  }

  /**
   * The bytes of send entry `i` as this thread reads them, reusing `prev` when it already shows
   * exactly those bytes; `null` when they stayed on the sender's side or do not check out.
   */
  private dataOf(i: number, prev: FullPtr | null): FullPtr | null {
    // The entry table comes from the sender, but shared memory is writable by every thread:
    // trust only what checks out against the entry and the region bounds.
    const dv = this.dv;
    const env = this.env;
    const kind = entryKind(dv, env, i);
    if (kind === ENTRY_NONE) return null;
    const size = entrySize(dv, env, i);
    if (kind === ENTRY_STAGED) {
      const view = this.stagedView(i, entryStagedAt(dv, env, i), size);
      if (prev !== null && prev.ptr === view) return prev;
      return this.stagedFull(view);
    }
    if (kind !== ENTRY_SHARED && kind !== ENTRY_MOVED) return null;
    const e = env.entryAt(i);
    const major = dv.getInt32(e + 4, true);
    const minor = dv.getInt32(e + 8, true);
    const off = dv.getFloat64(e + 16, true);
    if (prev !== null && prev.shm.off === off && prev.ptr.byteLength === size && prev.shm.allocId.major === major && prev.shm.allocId.minor === minor) return prev;
    return this.memory.resolve(makePointer(major, minor, off), size);
  }

  /** `view` (staged bytes of this message) with its pointer: into the envelope's block, or null for an inline copy. */
  private stagedFull(view: Uint8Array): FullPtr {
    const block = this.block;
    const shm = block === null ? NULL_POINTER : makePointer(block.allocId.major, block.allocId.minor, block.off + (view.byteOffset - this.u8.byteOffset - this.env.at));
    return { ptr: view, shm };
  }

  /** A view of `size` bytes at `at` of this message's bytes, cached per entry. */
  private stagedView(i: number, at: number, size: number): Uint8Array {
    const u8 = this.u8;
    // Compared by what the view was made from, not by its getters (which cost more than this).
    if (this.viewSrc[i] === u8 && this.viewAt[i] === at && this.viewSize[i] === size) return this.views[i];
    const fresh = u8.subarray(at, at + size);
    if (i < 8) {
      this.views[i] = fresh;
      this.viewSrc[i] = u8;
      this.viewAt[i] = at;
      this.viewSize[i] = size;
    }
    return fresh;
  }

  data(i: number): Uint8Array {
    const env = this.env;
    // Parse recorded which send entry each data entry is; another thread may have rewritten a
    // block envelope since it was validated, so stay in bounds and re-check the kind.
    if (i < 0 || i >= env.dataCount) return EMPTY;
    const k = env.dataEntries[i] as number;
    const dv = this.dv;
    const e = env.entryAt(k);
    const kind = dv.getUint32(e, true);
    if (kind === ENTRY_MOVED) return this.dataOf(k, null)?.ptr ?? EMPTY;
    if (kind !== ENTRY_STAGED) return EMPTY;
    const size = dv.getFloat64(e + 24, true);
    const at = env.at + dv.getFloat64(e + 16, true);
    if (!(at >= 0 && at + size <= this.u8.byteLength)) return EMPTY;
    return this.stagedView(k, at, size);
  }

  /**
   * Detaches the moved block of send entry `index` (see `IncomingMessage.take`).
   *
   * @param index - index into the send vector
   */
  take(index: number): FullPtr | null {
    const env = this.env;
    if (!this.live || !Number.isInteger(index) || index < 0 || index >= env.sendCount || this.taken[index] === true) return null;
    if (entryKind(this.dv, env, index) !== ENTRY_MOVED) return null;
    const full = this.dataOf(index, null);
    if (full !== null) this.taken[index] = true;
    return full;
  }

  release(): void {
    if (!this.live) return;
    this.live = false;
    const block = this.block;
    this.block = null;
    try {
      if (this.env.movedCount > 0) this.freeMoved();
      if (block !== null) this.memory.free(block);
    } finally {
      this.owner.released(this);
    }
  }

  /** Frees the moved blocks nobody took: the message owned them. */
  private freeMoved(): void {
    const env = this.env;
    for (let i = 0; i < env.sendCount; i++) {
      if (this.taken[i] === true || entryKind(this.dv, env, i) !== ENTRY_MOVED) continue;
      try {
        this.memory.free(entryPointer(this.dv, env, i));
      } catch {
        // A corrupted entry names no live block; the allocator refused it without harm.
      }
    }
  }
}

function writeDescriptor(out: DataView, p: number, size: number, flags: number): void {
  const lo = size >>> 0;
  out.setUint32(p, lo, true);
  out.setUint32(p + 4, (size - lo) / 0x1_0000_0000, true);
  out.setUint32(p + 8, flags, true);
}
