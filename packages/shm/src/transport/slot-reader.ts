/**
 * The receive path of the shared-memory server (server.ts): consumes the slot at the ring's head,
 * wraps its envelope in a pooled {@link ShmIncoming} (an inline copy, or the slab block it
 * names), and keeps the messages handed out and not released yet. Knows nothing of waiting.
 */
import type { IncomingMessage, Pointer } from '@lightbeam/core';
import { LBM_MALFORMED, makePointer } from '@lightbeam/core';
import { ENTRY_MOVED, ENTRY_NONE, ENTRY_SHARED, ENVELOPE_ENTRY_BYTES, ENVELOPE_HEADER_BYTES, EnvelopeView, FORM_DESCRIPTORS, entryKind } from '../ring/envelope.js';
import { RING_HEADER_BYTES } from '../ring/ring.js';
import type { Ring } from '../ring/ring.js';
import { SLOT_PREFIX_BYTES, TAG_BLOCK, TAG_INLINE, TAG_VOID, slotCharge } from './channels.js';
import type { IncomingOwner } from './incoming.js';
import { ShmIncoming } from './incoming.js';
import { POOL_LIMIT, REGION_PENDING, SKIPPED } from './server-options.js';
import type { ShmMemory } from './transport-memory.js';

/** Takes messages out of one ring's slots; one per server. */
export class SlotReader {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** A view per ring slot of its last message's length, so copying a slot out allocates nothing in a steady stream. */
  private readonly slotViews: Uint8Array[] = [];
  /** Released messages ready for reuse. */
  private readonly pool: ShmIncoming[] = [];
  /**
   * Messages handed out and not released yet, which close releases; each knows its index
   * (`listed`), so removal is a swap with the last, with no hashing per message.
   */
  readonly outstanding: ShmIncoming[] = [];
  /** Told by each message when it is released: stop tracking it, keep it for reuse. */
  private readonly owner: IncomingOwner = {
    released: (msg) => {
      const list = this.outstanding;
      const i = msg.listed;
      const last = list.pop() as ShmIncoming;
      if (last !== msg) {
        list[i] = last;
        last.listed = i;
      }
      msg.listed = -1;
      // A message read in its slot gives the slot back now that its reader is done with it.
      if (msg === this.inSlot) this.consumeInSlot();
      if (this.pool.length < POOL_LIMIT) this.pool.push(msg);
    },
  };

  constructor(
    private readonly memory: ShmMemory,
    private readonly ring: Ring,
  ) {
    this.u8 = new Uint8Array(ring.buffer);
    this.dv = new DataView(ring.buffer);
    this.flushKiB = Math.max(1, Math.min(64, ring.maxKiB >> 4));
  }

  /**
   * The payload offset of the next published message, or -1 when there is none; the server's
   * only way to look at the ring, so that charges owed are given back whenever it finds the ring
   * empty.
   */
  peek(): number {
    if (this.inSlot !== null) this.settle();
    const off = this.ring.peek();
    if (off < 0 && this.owedKiB !== 0) this.flushCharges();
    return off;
  }

  /**
   * Consumes the published head slot at payload `off`. Its charge is owed to the ring's byte
   * bound rather than given back at once: a subtraction per message would pull the line of the
   * ring's tail, which the producer writes for every message, over to this thread and back. What
   * is owed is given back once it reaches {@link SlotReader.flushKiB}, when producers wait for
   * room, when the ring is found empty, on a heartbeat, on `stats()` and at close. Meanwhile
   * the counter stands above the truth by less than `flushKiB` (a bound stricter by that much,
   * never looser); a server thread that dies owing leaves the bound stricter by as much.
   */
  private consume(off: number): void {
    const ring = this.ring;
    if (ring.maxKiB !== 0) {
      const kib = slotCharge(this.dv, off);
      if (kib !== 0) {
        this.owedKiB += kib;
        // Producers parked for room are woken by advance(): the room in bytes must be there then.
        if (this.owedKiB >= this.flushKiB || ring.producersParked()) this.flushCharges();
      }
    }
    ring.advance();
  }

  /** Gives back the charges owed to the ring (see {@link SlotReader.consume}) and wakes producers parked for room. */
  flushCharges(): void {
    const owed = this.owedKiB;
    if (owed === 0) return;
    this.owedKiB = 0;
    this.ring.discharge(owed);
    this.ring.wakeProducers();
  }

  /** Charges of consumed messages not given back yet, in KiB. */
  private owedKiB = 0;
  /**
   * Owed charges that are given back at once: 1/16 of the bound, at most 64 KiB (a 64 B EXPOSE
   * bulk charges 1 KiB, so a stream of them gives back every 64 messages under the default bound).
   */
  private readonly flushKiB: number;

  /**
   * Consumes the slot at payload offset `off` and wraps its envelope; or, when the message refers
   * to a region this thread has not received yet, consumes nothing and returns `REGION_PENDING`.
   */
  takeSlot(off: number): IncomingMessage | number {
    const ring = this.ring;
    const len = ring.lengthAt(off);
    const tag = len >= SLOT_PREFIX_BYTES && len <= ring.payloadBytes ? this.dv.getUint32(off, true) : 0;
    if (tag === TAG_BLOCK) return this.takeBlock(off);
    if (tag === TAG_VOID) {
      // A producer that could not get a block for its envelope: nothing was sent.
      this.consume(off);
      return SKIPPED;
    }
    if (tag !== TAG_INLINE) {
      this.consume(off);
      return LBM_MALFORMED;
    }
    const msg = this.pool.pop() ?? new ShmIncoming(this.memory, this.owner, ring.payloadBytes);
    if (carriesNoData(this.dv, off + SLOT_PREFIX_BYTES, len - SLOT_PREFIX_BYTES)) return this.takeInSlot(msg, off, len);
    // Copy out so the slot is free for producers while the caller still holds the message; the
    // whole payload in one memcpy from a view made once per slot.
    msg.copy.set(this.slotView(off, len));
    const env = msg.env;
    const ok = env.parse(msg.copyDv, SLOT_PREFIX_BYTES, len - SLOT_PREFIX_BYTES);
    if (ok && (env.sharedCount !== 0 || env.movedCount !== 0) && this.refersToPendingRegion(msg.copyDv, env)) {
      this.pool.push(msg);
      return REGION_PENDING;
    }
    this.consume(off);
    if (!ok) {
      this.pool.push(msg);
      return LBM_MALFORMED;
    }
    msg.refill(msg.copy, msg.copyDv, null);
    this.list(msg);
    return msg;
  }

  /**
   * A descriptor-form message with no data entries (descriptors of EXPOSE bulks, custom fields)
   * is read where it lies: nothing it hands out is a view of its envelope (shared entries are
   * views of their regions, fields are decoded into values), so the slot need not be copied out.
   * It is consumed when the message is released (at once, after decoding, on the receive path),
   * or copied out first by {@link SlotReader.settle} if the ring is looked at while a raw
   * receiver still holds it.
   */
  private takeInSlot(msg: ShmIncoming, off: number, len: number): IncomingMessage | number {
    const env = msg.env;
    const ok = env.parse(this.dv, off + SLOT_PREFIX_BYTES, len - SLOT_PREFIX_BYTES);
    if (ok && env.sharedCount !== 0 && this.refersToPendingRegion(this.dv, env)) {
      this.pool.push(msg);
      return REGION_PENDING;
    }
    // carriesNoData read the slot before parse did: only a thread writing a published slot could
    // make them disagree, and that message is malformed.
    if (!ok || env.dataCount !== 0 || env.form !== FORM_DESCRIPTORS) {
      this.consume(off);
      this.pool.push(msg);
      return LBM_MALFORMED;
    }
    msg.refill(this.u8, this.dv, null);
    this.inSlot = msg;
    this.inSlotAt = off;
    this.list(msg);
    return msg;
  }

  /** The message read in its slot and not released yet (see {@link SlotReader.takeInSlot}). */
  private inSlot: ShmIncoming | null = null;
  /** Payload offset of the slot {@link SlotReader.inSlot} lies in. */
  private inSlotAt = -1;

  private consumeInSlot(): void {
    const off = this.inSlotAt;
    this.inSlot = null;
    this.inSlotAt = -1;
    // Still the head unless the ring changed hands meanwhile (reaped, bound by another server):
    // then the slot is no longer this reader's to consume.
    if (this.ring.peek() === off) this.consume(off);
  }

  /** Copies a message still read in its slot out of it (see {@link SlotReader.takeInSlot}), so the ring holds only waiting messages. */
  settleInSlot(): void {
    if (this.inSlot !== null) this.settle();
  }

  /** Copies the message still read in its slot out of it and consumes the slot. */
  private settle(): void {
    const msg = this.inSlot as ShmIncoming;
    const off = this.inSlotAt;
    const len = this.ring.lengthAt(off);
    msg.copy.set(this.slotView(off, len));
    msg.rebase(msg.copy, msg.copyDv, SLOT_PREFIX_BYTES - (off + SLOT_PREFIX_BYTES));
    this.consumeInSlot();
  }

  /**
   * The first `len` payload bytes of the slot whose payload starts at `off`, as a view kept per
   * slot while messages there keep that length (a stream's messages usually do).
   */
  private slotView(off: number, len: number): Uint8Array {
    const index = ((off - this.ring.base - RING_HEADER_BYTES) / this.ring.slotBytes) | 0;
    const v = this.slotViews[index];
    if (v !== undefined && v.byteLength === len) return v;
    return (this.slotViews[index] = new Uint8Array(this.ring.buffer, off, len));
  }

  private takeBlock(off: number): IncomingMessage | number {
    const dv = this.dv;
    const major = dv.getInt32(off + 8, true);
    const minor = dv.getInt32(off + 12, true);
    const at = dv.getFloat64(off + 16, true);
    const length = dv.getUint32(off + 24, true);
    const buffer = this.memory.regionBuffer({ major, minor });
    if (buffer === null && this.memory.regionPending?.(major, minor) === true) return REGION_PENDING;
    if (buffer === null || !Number.isSafeInteger(at) || at < 0 || at + length > buffer.byteLength) {
      this.consume(off);
      return LBM_MALFORMED;
    }
    const block: Pointer = makePointer(major, minor, at);
    const u8 = buffer === this.ring.buffer ? this.u8 : new Uint8Array(buffer);
    const bdv = buffer === this.ring.buffer ? this.dv : new DataView(buffer);
    const msg = this.pool.pop() ?? new ShmIncoming(this.memory, this.owner, this.ring.payloadBytes);
    const ok = msg.env.parse(bdv, at, length);
    if (ok && this.refersToPendingRegion(bdv, msg.env)) {
      this.pool.push(msg);
      return REGION_PENDING;
    }
    this.consume(off);
    if (!ok) {
      this.pool.push(msg);
      this.freeQuietly(block);
      return LBM_MALFORMED;
    }
    msg.refill(u8, bdv, block);
    this.list(msg);
    return msg;
  }

  private list(msg: ShmIncoming): void {
    msg.listed = this.outstanding.length;
    this.outstanding.push(msg);
  }

  /** True when a shared or moved entry of `env` points into a region that has not reached this thread yet. */
  private refersToPendingRegion(dv: DataView, env: EnvelopeView): boolean {
    const pending = this.memory.regionPending;
    if (pending === undefined || (env.sharedCount === 0 && env.movedCount === 0)) return false;
    for (let i = 0; i < env.sendCount; i++) {
      const kind = entryKind(dv, env, i);
      if (kind !== ENTRY_SHARED && kind !== ENTRY_MOVED) continue;
      const e = env.entryAt(i);
      if (pending.call(this.memory, dv.getInt32(e + 4, true), dv.getInt32(e + 8, true))) return true;
    }
    return false;
  }

  /** Frees `p`, ignoring a reference that names no block. */
  freeQuietly(p: Pointer): void {
    try {
      this.memory.free(p);
    } catch {
      // A corrupted reference may name no block at all; the allocator refused it without harm.
    }
  }

  /** Drops every message still in the ring, freeing their blocks. */
  drain(): void {
    for (let off = this.peek(); off >= 0; off = this.peek()) {
      const m = this.takeSlot(off);
      if (typeof m !== 'number') m.release();
      // Closing: a message for a region that never reached this thread is dropped unread.
      else if (m === REGION_PENDING) this.consume(off);
    }
    this.flushCharges();
  }

  /** Releases every message handed out and not released yet; their views are invalid after. */
  releaseOutstanding(): void {
    while (this.outstanding.length > 0) (this.outstanding[this.outstanding.length - 1] as ShmIncoming).release();
  }
}

/**
 * True when the inline envelope at `at` looks like a descriptor-form message whose entries are
 * all shared or private (no staged or moved data): a cheap look before the full parse, which
 * still validates everything.
 */
function carriesNoData(dv: DataView, at: number, avail: number): boolean {
  if (avail < ENVELOPE_HEADER_BYTES || dv.getUint32(at + 8, true) !== FORM_DESCRIPTORS) return false;
  const sendCount = dv.getUint32(at + 4, true);
  if (sendCount > (avail - ENVELOPE_HEADER_BYTES) / ENVELOPE_ENTRY_BYTES) return false;
  for (let i = 0, e = at + ENVELOPE_HEADER_BYTES; i < sendCount; i++, e += ENVELOPE_ENTRY_BYTES) {
    const kind = dv.getUint32(e, true);
    if (kind !== ENTRY_SHARED && kind !== ENTRY_NONE) return false;
  }
  return true;
}
