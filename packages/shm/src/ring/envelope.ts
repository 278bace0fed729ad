/**
 * The envelope: how one message is laid out in shared memory, either inline in a ring slot or in
 * a slab block the slot points to. A receiver validates every field before use, since any
 * thread can write shared memory.
 *
 * | offset              | size       | field                                                  |
 * |--------------------:|-----------:|--------------------------------------------------------|
 * |                   0 |          4 | `u32 metaBytes` (see `form`)                           |
 * |                   4 |          4 | `u32 sendCount` (one entry per bulk of `send`)         |
 * |                   8 |          4 | `u32 form`: `FORM_DESCRIPTORS` or `FORM_FRAME`         |
 * |                  12 |          4 | `u32 recvCount` (`FORM_DESCRIPTORS` only, else 0)      |
 * |                  16 | 32 × send  | send entries: `u32 kind`, `i32 major`, `i32 minor`, `u32 flags`, `f64 off`, `f64 size` |
 * |    16 + 32 × send  | 16 × recv  | recv entries: `f64 size`, `u32 flags`, `u32 0`         |
 * |                   … | metaBytes  | the metadata bytes, padded to 8                        |
 * |                   … | …          | staged XFER data, each padded to 8                     |
 *
 * The envelope's length is not stored in it: it is what holds it (the ring slot's payload length
 * minus the slot prefix, or the length in the slot's block reference). A 16-byte header keeps the
 * common messages within whole cache lines of their slot: one EXPOSE bulk (8-byte slot header,
 * 8-byte prefix, header, entry) fills exactly one 64-byte line, one 64-byte XFER bulk exactly two.
 *
 * Forms: `FORM_DESCRIPTORS` (what `send` writes) carries the bulk descriptors in the entries,
 * read in place by the receiver, and only the custom fields as metadata bytes (cereal-encoded);
 * `FORM_FRAME` (what `sendRaw` writes for bridges and proxies) carries a whole cereal metadata
 * frame, decoded as the ZeroMQ transport decodes it.
 *
 * Entry kinds: `ENTRY_NONE` (private memory: only the descriptor travels), `ENTRY_SHARED`
 * (a pointer into a registered region: the receiver gets a live `FullPtr`, zero copy),
 * `ENTRY_STAGED` (XFER data copied into this envelope at byte `off`, `size` bytes),
 * `ENTRY_MOVED` (XFER data in a slab block the sender gave away: the message owns the block,
 * freed when the message is released unless the receiver takes it). Staged and moved entries
 * are the message's data entries, in order.
 * Writers are the sending thread only; the receiver reads after the ring's acquire.
 */
import type { Bulk, EncodedFields, LbmMeta, OutgoingMessage, Pointer } from '@lightbeam/core';
import { isNullPointer, isXfer, makePointer } from '@lightbeam/core';

/** Bytes of the envelope header. */
export const ENVELOPE_HEADER_BYTES = 16;
/** Bytes of one send entry. */
export const ENVELOPE_ENTRY_BYTES = 32;
/** Bytes of one recv entry. */
export const RECV_ENTRY_BYTES = 16;
/** The bulk stayed in private memory: its descriptor travels, its bytes do not. */
export const ENTRY_NONE = 0;
/** The bulk is in shared memory: the receiver gets a live view of the sender's bytes. */
export const ENTRY_SHARED = 1;
/** The bulk's bytes were copied into the envelope (XFER). */
export const ENTRY_STAGED = 2;
/** The bulk's slab block was handed over (XFER sent by move): `major`, `minor`, `off` name it. */
export const ENTRY_MOVED = 3;
/** Descriptors in the entries, custom fields as metadata bytes. */
export const FORM_DESCRIPTORS = 1;
/** A whole cereal metadata frame as metadata bytes (forwarded verbatim). */
export const FORM_FRAME = 2;

const pad8 = (n: number): number => (n + 7) & ~7;

/** Largest charge of one message, so a hostile size cannot wrap the ring's Int32 counter. */
export const MAX_CHARGE_KIB = 0x3fffffff;

/** The bytes an XFER bulk sends: its view, cut to `size` only when longer. */
function xferBytes(b: Bulk): Uint8Array {
  const view = (b.data as NonNullable<Bulk['data']>).ptr;
  return view.byteLength === b.size ? view : view.subarray(0, b.size);
}

/**
 * Writes the descriptor-form envelope of `meta` at byte `at`.
 *
 * @param u8 - byte view of the whole shared buffer
 * @param dv - data view of the same buffer
 * @param at - 8-byte aligned offset with `metaEnvelopeBytes(meta, …)` bytes free
 * @param meta - the validated meta
 * @param fields - its encoded custom fields, or `null` when it has none
 * @returns bytes written
 */
export function writeMetaEnvelope(u8: Uint8Array, dv: DataView, at: number, meta: LbmMeta, fields: EncodedFields | null): number {
  const send = meta.send;
  const recv = meta.recv;
  const ns = send.length;
  const nr = recv.length;
  let p = at + ENVELOPE_HEADER_BYTES + ns * ENVELOPE_ENTRY_BYTES;
  for (let i = 0; i < nr; i++, p += RECV_ENTRY_BYTES) {
    dv.setFloat64(p, recv[i].size, true);
    dv.setUint32(p + 8, recv[i].flags, true);
    dv.setUint32(p + 12, 0, true);
  }
  const metaBytes = fields === null ? 0 : fields.length;
  if (metaBytes > 0) copyFields(u8, p, fields as EncodedFields);
  let cursor = p + pad8(metaBytes);
  for (let i = 0; i < ns; i++) {
    const b = send[i];
    const e = at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
    if (b.move === true) {
      writeMovedEntry(dv, e, b, b.size);
    } else if (isXfer(b.flags)) {
      u8.set(xferBytes(b), cursor);
      writeEntry(dv, e, ENTRY_STAGED, 0, 0, b.flags, cursor - at, b.size);
      cursor += pad8(b.size);
    } else {
      writeSharedOrNone(dv, e, b);
    }
  }
  const total = cursor - at;
  writeHeader(dv, at, metaBytes, ns, FORM_DESCRIPTORS, nr);
  return total;
}

function copyFields(u8: Uint8Array, at: number, fields: EncodedFields): void {
  const src = fields.bytes;
  const n = fields.length;
  // Custom fields are usually a few bytes: a loop beats making a view to `set` from.
  if (n <= 64) for (let i = 0; i < n; i++) u8[at + i] = src[i];
  else u8.set(src.subarray(0, n), at);
}

/**
 * Bytes the frame-form envelope of `msg` needs.
 *
 * @param msg - the encoded message
 */
export function frameEnvelopeBytes(msg: OutgoingMessage): number {
  let n = ENVELOPE_HEADER_BYTES + msg.bulks.length * ENVELOPE_ENTRY_BYTES + pad8(msg.meta.byteLength);
  for (let i = 0, k = 0; i < msg.bulks.length; i++) {
    const b = msg.bulks[i];
    if (!isXfer(b.flags)) continue;
    if (b.move !== true) n += pad8(msg.xfer[k].byteLength);
    k++;
  }
  return n;
}

/**
 * Writes the frame-form envelope of `msg` (an encoded message, from `sendRaw` or a send that had
 * to wait) at byte `at`.
 *
 * @param u8 - byte view of the whole shared buffer
 * @param dv - data view of the same buffer
 * @param at - 8-byte aligned offset with `frameEnvelopeBytes(msg)` bytes free
 * @param msg - the message
 * @returns bytes written
 */
export function writeFrameEnvelope(u8: Uint8Array, dv: DataView, at: number, msg: OutgoingMessage): number {
  const bulks = msg.bulks;
  const n = bulks.length;
  const metaAt = at + ENVELOPE_HEADER_BYTES + n * ENVELOPE_ENTRY_BYTES;
  u8.set(msg.meta, metaAt);
  let cursor = metaAt + pad8(msg.meta.byteLength);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const b = bulks[i];
    const e = at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
    if (b.move === true) {
      writeMovedEntry(dv, e, b, msg.xfer[k++].byteLength);
    } else if (isXfer(b.flags)) {
      const data = msg.xfer[k++];
      u8.set(data, cursor);
      writeEntry(dv, e, ENTRY_STAGED, 0, 0, b.flags, cursor - at, data.byteLength);
      cursor += pad8(data.byteLength);
    } else {
      writeSharedOrNone(dv, e, b);
    }
  }
  const total = cursor - at;
  writeHeader(dv, at, msg.meta.byteLength, n, FORM_FRAME, 0);
  return total;
}

function writeHeader(dv: DataView, at: number, metaBytes: number, sendCount: number, form: number, recvCount: number): void {
  dv.setUint32(at, metaBytes, true);
  dv.setUint32(at + 4, sendCount, true);
  dv.setUint32(at + 8, form, true);
  dv.setUint32(at + 12, recvCount, true);
}

function writeSharedOrNone(dv: DataView, e: number, b: Bulk): void {
  const shm = sharedPointer(b);
  if (shm === null) writeEntry(dv, e, ENTRY_NONE, 0, 0, b.flags, 0, b.size);
  else writeEntry(dv, e, ENTRY_SHARED, shm.allocId.major, shm.allocId.minor, b.flags, shm.off, b.size);
}

function writeMovedEntry(dv: DataView, e: number, b: Bulk, size: number): void {
  const shm = (b.data as NonNullable<Bulk['data']>).shm;
  writeEntry(dv, e, ENTRY_MOVED, shm.allocId.major, shm.allocId.minor, b.flags, shm.off, size);
}

function sharedPointer(b: Bulk): Pointer | null {
  const shm = b.data?.shm;
  return shm === undefined || isNullPointer(shm) ? null : shm;
}

function writeEntry(dv: DataView, e: number, kind: number, major: number, minor: number, flags: number, off: number, size: number): void {
  dv.setUint32(e, kind, true);
  dv.setInt32(e + 4, major, true);
  dv.setInt32(e + 8, minor, true);
  dv.setUint32(e + 12, flags, true);
  dv.setFloat64(e + 16, off, true);
  dv.setFloat64(e + 24, size, true);
}

/**
 * A validated envelope header, filled by {@link EnvelopeView.parse} and reused from message to
 * message; offsets are absolute in the buffer it was read from.
 */
export class EnvelopeView {
  /** Absolute offset of the envelope. */
  at = 0;
  /** Whole envelope bytes. */
  totalBytes = 0;
  /** Absolute offset of the metadata bytes. */
  metaAt = 0;
  /** Metadata bytes. */
  metaBytes = 0;
  /** Send entries. */
  sendCount = 0;
  /** Recv entries (descriptor form). */
  recvCount = 0;
  /** `FORM_DESCRIPTORS` or `FORM_FRAME`. */
  form = 0;
  /** Number of data entries (staged or moved). */
  dataCount = 0;
  /** Number of moved entries. */
  movedCount = 0;
  /** Number of shared (EXPOSE in shared memory) entries. */
  sharedCount = 0;
  /** The largest size any send or recv entry claims (checked against the receiver's limits). */
  largestSize = 0;
  /** Send entry index of each data entry, in order (the first `dataCount` are valid). */
  dataEntries = new Int32Array(8);

  /**
   * Validates the envelope at `at` against the `avail` bytes that may belong to it.
   *
   * @returns false when any field is out of range (the view's fields are then meaningless)
   */
  parse(dv: DataView, at: number, avail: number): boolean {
    if (avail < ENVELOPE_HEADER_BYTES || at + avail > dv.byteLength) return false;
    // The envelope is exactly what holds it: the slot payload or the referenced block.
    const totalBytes = avail;
    const metaBytes = dv.getUint32(at, true);
    const sendCount = dv.getUint32(at + 4, true);
    const form = dv.getUint32(at + 8, true);
    const recvCount = dv.getUint32(at + 12, true);
    if (form !== FORM_DESCRIPTORS && (form !== FORM_FRAME || recvCount !== 0)) return false;
    const room = totalBytes - ENVELOPE_HEADER_BYTES;
    if (sendCount > room / ENVELOPE_ENTRY_BYTES || recvCount > room / RECV_ENTRY_BYTES) return false;
    const tableEnd = ENVELOPE_HEADER_BYTES + sendCount * ENVELOPE_ENTRY_BYTES + recvCount * RECV_ENTRY_BYTES;
    if (tableEnd + metaBytes > totalBytes) return false;
    let data = 0;
    let moved = 0;
    let shared = 0;
    let largest = 0;
    if (this.dataEntries.length < sendCount) this.dataEntries = new Int32Array(Math.max(sendCount, this.dataEntries.length * 2));
    const dataEntries = this.dataEntries;
    for (let i = 0; i < sendCount; i++) {
      const e = at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
      const kind = dv.getUint32(e, true);
      const off = dv.getFloat64(e + 16, true);
      const size = dv.getFloat64(e + 24, true);
      if (!Number.isSafeInteger(off) || !Number.isSafeInteger(size) || off < 0 || size < 0) return false;
      if (size > largest) largest = size;
      if (kind === ENTRY_STAGED) {
        if (off < tableEnd + metaBytes || off + size > totalBytes) return false;
        dataEntries[data++] = i;
      } else if (kind === ENTRY_MOVED) {
        dataEntries[data++] = i;
        moved++;
      } else if (kind === ENTRY_SHARED) {
        shared++;
      } else if (kind !== ENTRY_NONE) {
        return false;
      }
    }
    for (let i = 0, r = at + ENVELOPE_HEADER_BYTES + sendCount * ENVELOPE_ENTRY_BYTES; i < recvCount; i++, r += RECV_ENTRY_BYTES) {
      const size = dv.getFloat64(r, true);
      if (!Number.isSafeInteger(size) || size < 0) return false;
      if (size > largest) largest = size;
    }
    this.at = at;
    this.totalBytes = totalBytes;
    this.metaAt = at + tableEnd;
    this.metaBytes = metaBytes;
    this.sendCount = sendCount;
    this.recvCount = recvCount;
    this.form = form;
    this.dataCount = data;
    this.movedCount = moved;
    this.sharedCount = shared;
    this.largestSize = largest;
    return true;
  }

  /** Absolute offset of send entry `i`. */
  entryAt(i: number): number {
    return this.at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
  }

  /** Absolute offset of recv entry `i`. */
  recvAt(i: number): number {
    return this.at + ENVELOPE_HEADER_BYTES + this.sendCount * ENVELOPE_ENTRY_BYTES + i * RECV_ENTRY_BYTES;
  }
}

/** Kind of send entry `i`. */
export function entryKind(dv: DataView, env: EnvelopeView, i: number): number {
  return dv.getUint32(env.entryAt(i), true);
}

/** Flags of send entry `i`. */
export function entryFlags(dv: DataView, env: EnvelopeView, i: number): number {
  return dv.getUint32(env.entryAt(i) + 12, true);
}

/** Pointer of a shared entry `i`. */
export function entryPointer(dv: DataView, env: EnvelopeView, i: number): Pointer {
  const e = env.entryAt(i);
  return makePointer(dv.getInt32(e + 4, true), dv.getInt32(e + 8, true), dv.getFloat64(e + 16, true));
}

/** Absolute offset of the bytes of staged entry `i` (its size is {@link entrySize}). */
export function entryStagedAt(dv: DataView, env: EnvelopeView, i: number): number {
  return env.at + dv.getFloat64(env.entryAt(i) + 16, true);
}

/** Size recorded in send entry `i`. */
export function entrySize(dv: DataView, env: EnvelopeView, i: number): number {
  return dv.getFloat64(env.entryAt(i) + 24, true);
}


/**
 * The shared memory a message holds while it waits in a ring, in KiB rounded up: its envelope
 * when it lies in a block of its own, plus the bytes of its shared and moved bulks. Producer and
 * consumer both compute it from the written envelope, so the ring's counter gets back exactly
 * what was added. Call only on an envelope this thread wrote or that parsed.
 *
 * @param dv - data view of the buffer holding the envelope
 * @param at - the envelope's offset
 * @param blockBytes - bytes of the envelope's own block, 0 when it is inline in the slot
 */
export function heldKiB(dv: DataView, at: number, blockBytes: number): number {
  let bytes = blockBytes;
  const sendCount = dv.getUint32(at + 4, true);
  for (let i = 0, e = at + ENVELOPE_HEADER_BYTES; i < sendCount; i++, e += ENVELOPE_ENTRY_BYTES) {
    const kind = dv.getUint32(e, true);
    if (kind === ENTRY_SHARED || kind === ENTRY_MOVED) bytes += dv.getFloat64(e + 24, true);
  }
  return Math.min(Math.ceil(bytes / 1024), MAX_CHARGE_KIB);
}
