/**
 * The envelope: how one message is laid out in shared memory, either inline in a ring slot or in
 * a slab block the slot points to. A receiver validates every field before use, since any
 * thread can write shared memory.
 *
 * | offset         | size      | field                                                         |
 * |---------------:|----------:|---------------------------------------------------------------|
 * |              0 |         4 | `u32 totalBytes` (whole envelope)                             |
 * |              4 |         4 | `u32 metaBytes`                                               |
 * |              8 |         4 | `u32 entryCount` (one per bulk of `send`)                     |
 * |             12 |         4 | `i32 senderThreadId`                                          |
 * |             16 | 32 × n    | entries: `u32 kind`, `i32 major`, `i32 minor`, `u32 0`, `f64 off`, `f64 size` |
 * |    16 + 32 n   | metaBytes | the cereal metadata frame, padded to 8                        |
 * |              … | …         | staged XFER data, each padded to 8                            |
 *
 * Entry kinds: `ENTRY_NONE` (private memory: only the descriptor travels), `ENTRY_SHARED`
 * (a pointer into a registered region: the receiver gets a live `FullPtr`, zero copy),
 * `ENTRY_STAGED` (XFER data copied into this envelope at byte `off`, `size` bytes).
 * Writers are the sending thread only; the receiver reads after the ring's acquire.
 */
import type { Bulk, OutgoingMessage, Pointer } from '@lightbeam/core';
import { isNullPointer, isXfer, makePointer } from '@lightbeam/core';

/** Bytes of the envelope header. */
export const ENVELOPE_HEADER_BYTES = 16;
/** Bytes of one entry. */
export const ENVELOPE_ENTRY_BYTES = 32;
/** The bulk stayed in private memory: its descriptor travels, its bytes do not. */
export const ENTRY_NONE = 0;
/** The bulk is in shared memory: the receiver gets a live view of the sender's bytes. */
export const ENTRY_SHARED = 1;
/** The bulk's bytes were copied into the envelope (XFER). */
export const ENTRY_STAGED = 2;

const pad8 = (n: number): number => (n + 7) & ~7;

/**
 * Bytes the envelope of `msg` needs.
 *
 * @param msg - the validated, encoded message
 */
export function envelopeBytes(msg: OutgoingMessage): number {
  let n = ENVELOPE_HEADER_BYTES + msg.bulks.length * ENVELOPE_ENTRY_BYTES + pad8(msg.meta.byteLength);
  for (let i = 0; i < msg.xfer.length; i++) n += pad8(msg.xfer[i].byteLength);
  return n;
}

/**
 * Writes the envelope of `msg` at byte `at` of the buffer behind `u8`/`dv`.
 *
 * @param u8 - byte view of the whole shared buffer
 * @param dv - data view of the same buffer
 * @param at - 8-byte aligned offset with `envelopeBytes(msg)` bytes free
 * @param msg - the message
 * @param threadId - the sending thread
 * @returns bytes written
 */
export function writeEnvelope(u8: Uint8Array, dv: DataView, at: number, msg: OutgoingMessage, threadId: number): number {
  const bulks = msg.bulks;
  const n = bulks.length;
  const metaAt = at + ENVELOPE_HEADER_BYTES + n * ENVELOPE_ENTRY_BYTES;
  u8.set(msg.meta, metaAt);
  let cursor = metaAt + pad8(msg.meta.byteLength);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const b = bulks[i];
    const e = at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
    if (isXfer(b.flags)) {
      const data = msg.xfer[k++];
      u8.set(data, cursor);
      writeEntry(dv, e, ENTRY_STAGED, 0, 0, cursor - at, data.byteLength);
      cursor += pad8(data.byteLength);
    } else {
      const shm = sharedPointer(b);
      if (shm === null) writeEntry(dv, e, ENTRY_NONE, 0, 0, 0, b.size);
      else writeEntry(dv, e, ENTRY_SHARED, shm.allocId.major, shm.allocId.minor, shm.off, b.size);
    }
  }
  const total = cursor - at;
  dv.setUint32(at, total, true);
  dv.setUint32(at + 4, msg.meta.byteLength, true);
  dv.setUint32(at + 8, n, true);
  dv.setInt32(at + 12, threadId, true);
  return total;
}

function sharedPointer(b: Bulk): Pointer | null {
  const shm = b.data?.shm;
  return shm === undefined || isNullPointer(shm) ? null : shm;
}

function writeEntry(dv: DataView, e: number, kind: number, major: number, minor: number, off: number, size: number): void {
  dv.setUint32(e, kind, true);
  dv.setInt32(e + 4, major, true);
  dv.setInt32(e + 8, minor, true);
  dv.setUint32(e + 12, 0, true);
  dv.setFloat64(e + 16, off, true);
  dv.setFloat64(e + 24, size, true);
}

/** An envelope that passed validation; offsets are absolute in the buffer it was read from. */
export interface ParsedEnvelope {
  /** Absolute offset of the envelope. */
  readonly at: number;
  /** Whole envelope bytes. */
  readonly totalBytes: number;
  /** Absolute offset and length of the metadata frame. */
  readonly metaAt: number;
  /** Metadata bytes. */
  readonly metaBytes: number;
  /** Number of entries. */
  readonly entryCount: number;
  /** Sending thread. */
  readonly senderThreadId: number;
  /** Number of staged (XFER) entries. */
  readonly stagedCount: number;
}

/**
 * Validates the envelope at `at` against the `avail` bytes that may belong to it.
 *
 * @returns the parsed header, or `null` when any field is out of range
 */
export function parseEnvelope(dv: DataView, at: number, avail: number): ParsedEnvelope | null {
  if (avail < ENVELOPE_HEADER_BYTES || at + avail > dv.byteLength) return null;
  const totalBytes = dv.getUint32(at, true);
  const metaBytes = dv.getUint32(at + 4, true);
  const entryCount = dv.getUint32(at + 8, true);
  const senderThreadId = dv.getInt32(at + 12, true);
  if (totalBytes > avail || totalBytes < ENVELOPE_HEADER_BYTES) return null;
  const tableEnd = ENVELOPE_HEADER_BYTES + entryCount * ENVELOPE_ENTRY_BYTES;
  if (entryCount > (totalBytes - ENVELOPE_HEADER_BYTES) / ENVELOPE_ENTRY_BYTES || tableEnd + metaBytes > totalBytes) return null;
  let staged = 0;
  for (let i = 0; i < entryCount; i++) {
    const e = at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
    const kind = dv.getUint32(e, true);
    const off = dv.getFloat64(e + 16, true);
    const size = dv.getFloat64(e + 24, true);
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(size) || off < 0 || size < 0) return null;
    if (kind === ENTRY_STAGED) {
      if (off < tableEnd + metaBytes || off + size > totalBytes) return null;
      staged++;
    } else if (kind !== ENTRY_NONE && kind !== ENTRY_SHARED) {
      return null;
    }
  }
  return { at, totalBytes, metaAt: at + tableEnd, metaBytes, entryCount, senderThreadId, stagedCount: staged };
}

/** Kind of entry `i` of a parsed envelope. */
export function entryKind(dv: DataView, env: ParsedEnvelope, i: number): number {
  return dv.getUint32(env.at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES, true);
}

/** Pointer of a shared entry `i`. */
export function entryPointer(dv: DataView, env: ParsedEnvelope, i: number): Pointer {
  const e = env.at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES;
  return makePointer(dv.getInt32(e + 4, true), dv.getInt32(e + 8, true), dv.getFloat64(e + 16, true));
}

/** Absolute offset of the bytes of staged entry `i` (its size is {@link entrySize}). */
export function entryStagedAt(dv: DataView, env: ParsedEnvelope, i: number): number {
  return env.at + dv.getFloat64(env.at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES + 16, true);
}

/** Size recorded in entry `i`. */
export function entrySize(dv: DataView, env: ParsedEnvelope, i: number): number {
  return dv.getFloat64(env.at + ENVELOPE_HEADER_BYTES + i * ENVELOPE_ENTRY_BYTES + 24, true);
}
