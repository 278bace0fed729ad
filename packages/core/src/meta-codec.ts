/**
 * Encoding and decoding of whole metadata frames (DESIGN.md section 2).
 */
import { Archive, MalformedError } from './archive.js';
import type { ArchiveLimits } from './archive-limits.js';
import { DEFAULT_ARCHIVE_LIMITS } from './archive-limits.js';
import type { LbmMeta } from './lbm-meta.js';
import { LBM_MALFORMED, LBM_OK } from './return-codes.js';

// One scratch archive per thread: encoding is synchronous, so it is never shared mid-use
// except by a re-entrant `serialize`, which gets a fresh one.
let scratch: Archive | null = null;

function withScratch<T>(fn: (ar: Archive) => T): T {
  let ar = scratch;
  scratch = null;
  if (ar === null) ar = new Archive(false, new Uint8Array(1024));
  else ar.reset();
  try {
    return fn(ar);
  } finally {
    scratch = ar;
  }
}

function writeMeta(ar: Archive, meta: LbmMeta): void {
  ar.writeBulks(meta.send);
  ar.writeBulks(meta.recv);
  meta.serialize(ar);
}

/**
 * Encodes a meta into a fresh, exactly sized buffer: the only allocation per message, safe to
 * hand to a transport that keeps it by reference (zeromq.js does).
 *
 * @param meta - the metadata to encode
 * @returns the cereal-compatible frame
 * @throws TypeError when a custom field has a value of the wrong type
 */
export function encodeMeta(meta: LbmMeta): Uint8Array {
  return withScratch((ar) => {
    writeMeta(ar, meta);
    return ar.written().slice();
  });
}

/**
 * Encodes a meta and hands the frame to `sink` without copying; the view is valid only during
 * the call (for transports that copy it at once, such as the shared-memory ring).
 *
 * @param meta - the metadata to encode
 * @param sink - consumer of the encoded bytes
 */
export function encodeMetaWith<T>(meta: LbmMeta, sink: (frame: Uint8Array) => T): T {
  return withScratch((ar) => {
    writeMeta(ar, meta);
    return sink(ar.written());
  });
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
  const ar = new Archive(true, frame, limits);
  try {
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
  }
}
