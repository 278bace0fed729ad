/**
 * Version 2 of the bridge's routed frame: the route, the metadata and the small XFER data of
 * every message an egress drained in one wake-up, in one frame; the large XFER bulks follow as
 * frames of their own. Bridge to bridge only: a C++ peer never sees it (what a C++ client sends
 * to an ingress is the plain wire, and an egress only talks to an ingress).
 *
 * A routed batch is a ZeroMQ multipart message:
 *
 * | frame | content                                                                   |
 * |-------|---------------------------------------------------------------------------|
 * | 0     | header, then one record per message (below)                               |
 * | 1...  | each XFER bulk larger than `inlineMax`, message by message, bulk by bulk  |
 *
 * Frame 0 (integers little-endian, no padding):
 *
 * | offset       | size    | field                                                      |
 * |--------------|---------|------------------------------------------------------------|
 * | 0            | 4       | magic `4c 42 4d 52` ("LBMR"), as version 1                 |
 * | 4            | 1       | version, 2                                                 |
 * | 5            | 1       | reserved, zero                                             |
 * | 6            | 2       | `u16 nameLen`, 1..96                                       |
 * | 8            | nameLen | the channel name, UTF-8                                    |
 * | 8 + nameLen  | 4       | `u32 count`, messages in the batch, 1..{@link MAX_BATCH_MESSAGES} |
 * | 12 + nameLen | 4       | `u32 inlineMax`: XFER bulks of at most this many bytes are inline |
 * | 16 + nameLen | ...     | `count` records                                            |
 *
 * A record: `u32 metaLen`, the metadata frame exactly as the C++ wire has it (`metaLen` bytes),
 * then the bytes of each of its XFER bulks whose size (from that metadata) is at most
 * `inlineMax`, in order. Frame 0 ends exactly where its last record does, and the message has
 * exactly one more frame per larger XFER bulk, each of its bulk's size; anything else makes the
 * whole batch malformed (a record cannot be found again after a bad one).
 *
 * Version 1 (route.ts: the routing frame alone, then the C++ frames) is still read by every
 * ingress; an egress writes version 2. A version-1 ingress refuses a version-2 frame as malformed
 * and counts it, so both bridges of a pair must run a release that reads version 2.
 */
import type { ArchiveLimits, Bulk } from '@lightbeam/core';
import { isXfer } from '@lightbeam/core';
import { MAX_ROUTE_NAME_BYTES, ROUTE_HEADER_BYTES, looksLikeRoute } from './route.js';
import { readSendBulks } from './read-bulks.js';

/** The routed batch's version byte. */
export const ROUTE_BATCH_VERSION = 2;
/** Most messages in one batch. */
export const MAX_BATCH_MESSAGES = 1024;
/** XFER bulks up to this many bytes travel inside frame 0 (one copy there, no frame of their own). */
export const BATCH_INLINE_MAX = 4096;
/** Bytes of the batch header after the channel name: count and inlineMax. */
const BATCH_FIELDS_BYTES = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The name bytes last decoded, and their string: a peer sends batch after batch for one channel. */
let lastNameBytes = new Uint8Array(0);
let lastName = '';

/** The channel name of a batch header, decoded only when it differs from the last one; `null` if not UTF-8. */
function channelName(frame0: Uint8Array, nameLen: number): string | null {
  const at = ROUTE_HEADER_BYTES;
  if (nameLen === lastNameBytes.byteLength) {
    let i = 0;
    while (i < nameLen && frame0[at + i] === lastNameBytes[i]) i++;
    if (i === nameLen) return lastName;
  }
  const bytes = frame0.slice(at, at + nameLen);
  try {
    lastName = decoder.decode(bytes);
  } catch {
    return null;
  }
  lastNameBytes = bytes;
  return lastName;
}

/** The version-2 header of `channel`'s batches, without count and inlineMax; reused per channel. */
export function encodeBatchHead(channel: string): Uint8Array {
  const name = encoder.encode(channel);
  if (name.byteLength === 0 || name.byteLength > MAX_ROUTE_NAME_BYTES) throw new RangeError(`channel name must be 1..${MAX_ROUTE_NAME_BYTES} UTF-8 bytes`);
  const head = new Uint8Array(ROUTE_HEADER_BYTES + name.byteLength);
  head.set([0x4c, 0x42, 0x4d, 0x52, ROUTE_BATCH_VERSION, 0, name.byteLength & 0xff, name.byteLength >> 8]);
  head.set(name, ROUTE_HEADER_BYTES);
  return head;
}

/** True when `frame` is a routed frame of version 2 (magic and version; the rest is checked on decode). */
export function isRouteBatch(frame: Uint8Array): boolean {
  return looksLikeRoute(frame) && frame.byteLength > 4 && frame[4] === ROUTE_BATCH_VERSION;
}

/**
 * The sizes of the XFER bulks a metadata frame declares, read without decoding anything else.
 *
 * @param meta - a metadata frame
 * @param out - filled with the sizes, in order (emptied first)
 * @returns false when the send vector cannot be read (short frame, a size above 2^53)
 */
export function xferSizesOf(meta: Uint8Array, out: number[]): boolean {
  out.length = 0;
  if (meta.byteLength < 8) return false;
  const dv = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 0x1_0000_0000;
  if (n > (meta.byteLength - 8) / 12) return false;
  for (let i = 0, p = 8; i < n; i++, p += 12) {
    const hi = dv.getUint32(p + 4, true);
    if (hi > 0x1f_ffff) return false;
    if (isXfer(dv.getUint32(p + 8, true))) out.push(dv.getUint32(p, true) + hi * 0x1_0000_0000);
  }
  return true;
}

/** One message of a decoded batch. */
export interface BatchRecord {
  /** Its metadata frame (a view of frame 0). */
  meta: Uint8Array;
  /** Its send bulks, as on the wire. */
  bulks: Bulk[];
  /** One view per XFER bulk: of frame 0 (inline) or of its own frame. */
  xfer: Uint8Array[];
  /** Metadata plus data bytes. */
  bytes: number;
}

/** A decoded batch, or why it was refused. */
export type DecodedBatch =
  | {
      /** The channel every record is for. */
      channel: string;
      /** The messages, in order. */
      records: BatchRecord[];
    }
  | {
      /** One line saying why the batch is malformed. */
      error: string;
    };

/**
 * Decodes a version-2 routed batch. Never throws: a malformed batch yields `{ error }`.
 *
 * @param frame0 - frame 0
 * @param dataCount - how many frames follow it
 * @param data - the `i`-th frame after frame 0
 * @param limits - decoding limits for each metadata frame
 */
export function decodeRouteBatch(frame0: Uint8Array, dataCount: number, data: (i: number) => Uint8Array, limits: ArchiveLimits): DecodedBatch {
  const len = frame0.byteLength;
  if (!isRouteBatch(frame0) || len < ROUTE_HEADER_BYTES + 1 + BATCH_FIELDS_BYTES || frame0[5] !== 0) return { error: 'malformed routed batch header' };
  const nameLen = frame0[6] | (frame0[7] << 8);
  if (nameLen === 0 || nameLen > MAX_ROUTE_NAME_BYTES || len < ROUTE_HEADER_BYTES + nameLen + BATCH_FIELDS_BYTES) return { error: 'malformed routed batch header' };
  const channel = channelName(frame0, nameLen);
  if (channel === null) return { error: 'routed batch channel name is not UTF-8' };
  const dv = new DataView(frame0.buffer, frame0.byteOffset, len);
  let p = ROUTE_HEADER_BYTES + nameLen;
  const count = dv.getUint32(p, true);
  const inlineMax = dv.getUint32(p + 4, true);
  p += BATCH_FIELDS_BYTES;
  if (count === 0 || count > MAX_BATCH_MESSAGES) return { error: `routed batch of ${count} messages (1..${MAX_BATCH_MESSAGES})` };
  const records: BatchRecord[] = [];
  let frame = 0;
  for (let r = 0; r < count; r++) {
    if (p + 4 > len) return { error: `routed batch ends inside record ${r}` };
    const metaLen = dv.getUint32(p, true);
    p += 4;
    if (metaLen > len - p) return { error: `routed batch record ${r} overruns frame 0` };
    const meta = frame0.subarray(p, p + metaLen);
    p += metaLen;
    const bulks = readSendBulks(meta, limits);
    if (bulks === null) return { error: `routed batch record ${r} has malformed metadata` };
    const xfer: Uint8Array[] = [];
    let bytes = metaLen;
    for (let i = 0; i < bulks.length; i++) {
      if (!isXfer(bulks[i].flags)) continue;
      const size = bulks[i].size;
      let d: Uint8Array;
      if (size <= inlineMax) {
        if (size > len - p) return { error: `routed batch record ${r} overruns frame 0` };
        d = frame0.subarray(p, p + size);
        p += size;
      } else {
        if (frame >= dataCount) return { error: `routed batch has fewer data frames than its XFER bulks need` };
        d = data(frame++);
        if (d.byteLength !== size) return { error: `routed batch record ${r}: a data frame of ${d.byteLength} bytes for a ${size}-byte XFER bulk` };
      }
      xfer.push(d);
      bytes += size;
    }
    records.push({ meta, bulks, xfer, bytes });
  }
  if (p !== len) return { error: `routed batch frame 0 has ${len - p} bytes after its last record` };
  if (frame !== dataCount) return { error: `routed batch has ${dataCount - frame} data frame(s) more than its XFER bulks` };
  return { channel, records };
}
