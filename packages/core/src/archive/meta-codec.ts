/**
 * Encoding and decoding of whole metadata frames (DESIGN.md section 2).
 */
import { Archive } from './archive.js';
import { MalformedError } from './wire-bytes.js';
import type { ArchiveLimits } from './archive-limits.js';
import { DEFAULT_ARCHIVE_LIMITS } from './archive-limits.js';
import { LbmMeta } from '../protocol/lbm-meta.js';
import { LBM_MALFORMED, LBM_OK } from '../protocol/return-codes.js';

/**
 * Frames are written straight into a pool of bytes and handed out as views of it, the way Node's
 * `Buffer` pool works: allocating a small `Uint8Array` of its own costs more than encoding a whole
 * frame (V8 gives every typed array above 64 bytes an off-heap store). Pool regions are never
 * written again once handed out, so a transport may keep a frame by reference (zeromq.js does);
 * a frame that outgrows the pool moves to a buffer of its own. A kept frame keeps its pool alive.
 */
const POOL_BYTES = 16 * 1024;
let pool = new Uint8Array(POOL_BYTES);
let poolUsed = 0;

// One writer and one reader per thread, reused: encoding and decoding are synchronous, so they
// are never shared mid-use except by a re-entrant `serialize`, which gets fresh ones.
let writer: Archive | null = new Archive(false, pool);
let reader: Archive | null = null;

const EMPTY = new Uint8Array(0);

/**
 * Writes `meta` into the pool and returns its frame: a view no later encode will overwrite.
 * A `serialize` that encodes another meta re-enters here while the pool's tail is in use, so the
 * inner call writes to a buffer of its own.
 */
function encodeToPool(meta: LbmMeta): Uint8Array {
  const ar = writer;
  if (ar === null) {
    const own = new Archive(false, new Uint8Array(256));
    writeMeta(own, meta);
    return own.written().slice();
  }
  writer = null;
  try {
    // Less than a typical frame left: start a new pool rather than grow out of this one.
    if (POOL_BYTES - poolUsed < 256) {
      pool = new Uint8Array(POOL_BYTES);
      poolUsed = 0;
    }
    ar.reset(pool, poolUsed);
    writeMeta(ar, meta);
    const frame = ar.written();
    if (ar.buffer === pool) {
      // Keep the next frame 8-byte aligned, as a fresh allocation would be.
      poolUsed = (ar.pos + 7) & ~7;
      return frame;
    }
    // Outgrew the pool: the frame now sits at the start of its own buffer; trim it to size.
    return frame.byteLength === ar.buffer.byteLength ? frame : frame.slice();
  } finally {
    ar.reset(pool, poolUsed);
    writer = ar;
  }
}

function writeMeta(ar: Archive, meta: LbmMeta): void {
  ar.writeBulks(meta.send);
  ar.writeBulks(meta.recv);
  meta.serialize(ar);
}

/**
 * Encodes a meta into an exactly sized view that no later encode overwrites, safe to hand to a
 * transport that keeps it by reference (zeromq.js does). Small frames share a pooled
 * `ArrayBuffer` (see the pool note above): do not transfer or detach `frame.buffer`.
 *
 * @param meta - the metadata to encode
 * @returns the cereal-compatible frame
 * @throws TypeError when a custom field has a value of the wrong type
 */
export function encodeMeta(meta: LbmMeta): Uint8Array {
  return encodeToPool(meta);
}

/**
 * Encodes a meta and hands the frame to `sink` without copying; the view is valid only during
 * the call (for transports that copy it at once, such as the shared-memory ring).
 *
 * @param meta - the metadata to encode
 * @param sink - consumer of the encoded bytes
 */
export function encodeMetaWith<T>(meta: LbmMeta, sink: (frame: Uint8Array) => T): T {
  // The pooled frame costs no copy, and stays valid even if `sink` encodes again.
  return sink(encodeToPool(meta));
}

/**
 * Decodes a metadata frame into `meta`. On success `meta.send` and `meta.recv` are replaced with
 * the vectors from the wire (fresh `Bulk`s with `data: null`) and the custom fields are filled;
 * bytes after the fields `meta`'s class declares are ignored, as cereal ignores them.
 * On failure `send` and `recv` are untouched (custom fields may hold partly decoded values).
 *
 * @param frame - the metadata bytes
 * @param meta - the object to fill
 * @param limits - decoding limits
 * @returns `0`, or `-1` when the frame is malformed; never throws for bad input
 */
export function decodeMeta(frame: Uint8Array, meta: LbmMeta, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): number {
  return decode(frame, 0, frame.byteLength, meta, limits, true);
}

/**
 * Decodes `bytes[at, end)` into `meta` with the thread's reader: the two bulk vectors then the
 * custom fields (`vectors`), or the custom fields alone. Never throws for bad input.
 */
function decode(bytes: Uint8Array, at: number, end: number, meta: LbmMeta, limits: ArchiveLimits, vectors: boolean): number {
  let ar = reader;
  reader = null;
  if (ar === null) ar = new Archive(true, bytes, limits);
  try {
    ar.reset(bytes, at, limits, end);
    if (!vectors) {
      meta.serialize(ar);
      return LBM_OK;
    }
    const send = ar.readBulks();
    const recv = ar.readBulks();
    meta.serialize(ar);
    meta.send = send;
    meta.recv = recv;
    return LBM_OK;
  } catch (err) {
    // DataView's RangeError can only mean a bounds check was missed: still the input's fault.
    if (err instanceof MalformedError || err instanceof RangeError) return LBM_MALFORMED;
    throw err;
  } finally {
    // Do not pin the frame (it may be a large message) until the next decode.
    ar.reset(EMPTY);
    reader = ar;
  }
}

const BASE_SERIALIZE = LbmMeta.prototype.serialize;

/**
 * True when `meta`'s class declares custom fields (overrides `serialize`); a plain `LbmMeta` has
 * none, so transports that carry descriptors natively need no archive for it at all.
 *
 * @param meta - the metadata
 */
export function hasCustomFields(meta: LbmMeta): boolean {
  return meta.serialize !== BASE_SERIALIZE;
}

/** Encoded custom fields: `bytes[0, length)`, valid until the next encode in this thread. */
export interface EncodedFields {
  /** The buffer holding the fields from offset 0 (may be longer than `length`). */
  bytes: Uint8Array;
  /** How many bytes the fields take. */
  length: number;
}

// The custom-field scratch and its result, both reused: encoded into, copied out by the caller.
let customWriter: Archive | null = new Archive(false, new Uint8Array(256));
const customOut: EncodedFields = { bytes: new Uint8Array(0), length: 0 };

/**
 * Encodes only the custom fields of `meta` (what follows the two bulk vectors in a frame), for
 * transports that carry the bulk descriptors in a binary form of their own (shared memory).
 * Allocates nothing in steady state; the result is valid until the next call in this thread:
 * copy it at once.
 *
 * @param meta - the metadata
 * @returns the encoded fields (length 0 for a meta without custom fields)
 * @throws TypeError when a custom field has a value of the wrong type
 */
export function encodeCustomFields(meta: LbmMeta): EncodedFields {
  const ar = customWriter;
  if (ar === null) {
    // Re-entered from a serialize that encodes another meta: a writer and result of its own.
    const own = new Archive(false, new Uint8Array(64));
    meta.serialize(own);
    return { bytes: own.buffer, length: own.pos };
  }
  customWriter = null;
  try {
    ar.reset(ar.buffer, 0);
    meta.serialize(ar);
    customOut.bytes = ar.buffer;
    customOut.length = ar.pos;
    return customOut;
  } finally {
    customWriter = ar;
  }
}

/**
 * Decodes the custom fields of `meta` from `bytes[at, end)` (see {@link encodeCustomFields});
 * bytes after the declared fields are ignored. Hostile-input safe like {@link decodeMeta}.
 *
 * @param bytes - buffer holding the encoded fields
 * @param at - where they start
 * @param end - where they end
 * @param meta - the object whose fields are filled
 * @param limits - decoding limits
 * @returns `0`, or `-1` when the fields are malformed; never throws for bad input
 */
export function decodeCustomFields(bytes: Uint8Array, at: number, end: number, meta: LbmMeta, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): number {
  return decode(bytes, at, end, meta, limits, false);
}
