/**
 * The batch framing: many small Lightbeam messages packed into one ZeroMQ message, between two
 * peers of this library only (negotiated or opted into by the client, recognised by the server).
 *
 * A batch is a 2-frame ZeroMQ message:
 *
 * | frame | offset | size     | field                                             |
 * |-------|--------|----------|---------------------------------------------------|
 * | 0     | 0      | 4        | magic `4c 42 4d 42` ("LBMB")                      |
 * | 0     | 4      | 1        | version, 1                                        |
 * | 0     | 5      | 3        | reserved, zero                                    |
 * | 1     | 0      | 4        | `u32` record count                                |
 * | 1     | 4      | ...      | records, back to back                             |
 *
 * One record (all integers little-endian):
 *
 * | size       | field                                                   |
 * |------------|---------------------------------------------------------|
 * | 4          | `u32 metaLen`                                           |
 * | 4          | `u32 dataCount`: XFER data frames that follow           |
 * | metaLen    | the metadata frame, exactly as in a plain message       |
 * | per frame  | `u32 len`, then `len` bytes                             |
 *
 * Why frame 0 can never come from the C++ code: its frame 0 is a cereal archive that starts with
 * two `u64` counts, so it is at least 16 bytes long; this marker is 8 bytes. A C++ server given
 * a batch reads malformed metadata (-1), which is why a client batches by default only towards a
server that announced, in the negotiation (negotiate-codec.ts), that it reads this version.
 */
import type { IncomingMessage, OutgoingMessage } from '@lightbeam/core';

/** Bytes of the batch marker frame. */
export const BATCH_MARKER_BYTES = 8;
/** The marker's magic, "LBMB" read as a little-endian u32. */
export const BATCH_MAGIC = 0x424d424c;
/** The framing version this code writes and reads. */
export const BATCH_VERSION = 1;
/** Bytes of the body header (record count). */
export const BATCH_HEADER_BYTES = 4;
/** Bytes of a record header (`metaLen`, `dataCount`). */
export const RECORD_HEADER_BYTES = 8;
/** Bytes of a data frame's length prefix. */
export const DATA_PREFIX_BYTES = 4;

/** A fresh marker frame (zeromq.js copies frames of 128 bytes or less, so it could be shared, but it is tiny). */
export function batchMarker(): Uint8Array {
  const m = new Uint8Array(BATCH_MARKER_BYTES);
  new DataView(m.buffer).setUint32(0, BATCH_MAGIC, true);
  m[4] = BATCH_VERSION;
  return m;
}

/** True when `frame` is a batch marker of a version this code reads. */
export function isBatchMarker(frame: Uint8Array): boolean {
  return (
    frame.byteLength === BATCH_MARKER_BYTES &&
    frame[0] === 0x4c &&
    frame[1] === 0x42 &&
    frame[2] === 0x4d &&
    frame[3] === 0x42 &&
    frame[4] === BATCH_VERSION
  );
}

/** Bytes a message takes inside a batch. */
export function recordBytes(msg: OutgoingMessage): number {
  let n = RECORD_HEADER_BYTES + msg.meta.byteLength;
  for (const d of msg.xfer) n += DATA_PREFIX_BYTES + d.byteLength;
  return n;
}

/**
 * Accumulates records into one freshly allocated buffer. Once `seal()` handed the bytes to
 * zeromq.js the builder is dropped, never refilled: zeromq.js may still read them.
 */
export class BatchBuilder {
  private readonly buf: Buffer;
  private readonly dv: DataView;
  private pos = BATCH_HEADER_BYTES;
  /** Records written so far. */
  count = 0;

  /** @param capacity - bytes of the body buffer */
  constructor(readonly capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, capacity);
  }

  /** True when a record of `bytes` still fits. */
  fits(bytes: number): boolean {
    return this.pos + bytes <= this.capacity;
  }

  /** Appends a message; the caller checked `fits(recordBytes(msg))`. */
  append(msg: OutgoingMessage): void {
    const { buf, dv } = this;
    let p = this.pos;
    dv.setUint32(p, msg.meta.byteLength, true);
    dv.setUint32(p + 4, msg.xfer.length, true);
    p += RECORD_HEADER_BYTES;
    buf.set(msg.meta, p);
    p += msg.meta.byteLength;
    for (const d of msg.xfer) {
      dv.setUint32(p, d.byteLength, true);
      p += DATA_PREFIX_BYTES;
      buf.set(d, p);
      p += d.byteLength;
    }
    this.pos = p;
    this.count++;
  }

  /** The frames to send: marker, then the body trimmed to what was written. */
  seal(): [Uint8Array, Uint8Array] {
    this.dv.setUint32(0, this.count, true);
    return [batchMarker(), this.buf.subarray(0, this.pos)];
  }
}

/** One record of a batch, delivered to the server's rules as any other message. */
class BatchRecord implements IncomingMessage {
  constructor(
    readonly meta: Uint8Array,
    private readonly frames: Uint8Array[],
  ) {}

  get dataCount(): number {
    return this.frames.length;
  }

  data(i: number): Uint8Array {
    return this.frames[i];
  }

  release(): void {}
}

/** A record that could not be parsed: its empty metadata decodes as malformed (-1). */
export const MALFORMED_RECORD: IncomingMessage = Object.freeze({
  meta: new Uint8Array(0),
  dataCount: 0,
  data(): Uint8Array {
    throw new RangeError('a malformed record has no data');
  },
  release(): void {},
});

/**
 * Splits a batch body into messages. Every length is checked against the bytes present before
 * it is used, so hostile input yields {@link MALFORMED_RECORD} (once, for the rest of the batch)
 * and never a throw or an oversized allocation; records are views, not copies.
 *
 * @param body - frame 1 of a batch
 * @param maxFrames - most data frames one record may claim
 * @param out - receives the messages in order
 */
export function unpackBatch(body: Uint8Array, maxFrames: number, out: IncomingMessage[]): void {
  const end = body.byteLength;
  if (end < BATCH_HEADER_BYTES) {
    out.push(MALFORMED_RECORD);
    return;
  }
  const dv = new DataView(body.buffer, body.byteOffset, end);
  // Views of a plain Uint8Array are cheaper to cut than Buffer's subarray (no Buffer prototype).
  body = new Uint8Array(body.buffer, body.byteOffset, end);
  const count = dv.getUint32(0, true);
  let p = BATCH_HEADER_BYTES;
  for (let r = 0; r < count; r++) {
    if (end - p < RECORD_HEADER_BYTES) break;
    const metaLen = dv.getUint32(p, true);
    const n = dv.getUint32(p + 4, true);
    p += RECORD_HEADER_BYTES;
    // Each frame needs at least its prefix: a count larger than the bytes left is a lie.
    if (metaLen > end - p || n > maxFrames || n > (end - p - metaLen) / DATA_PREFIX_BYTES) break;
    const meta = body.subarray(p, p + metaLen);
    p += metaLen;
    const frames: Uint8Array[] = new Array(n);
    let ok = true;
    for (let i = 0; i < n; i++) {
      if (end - p < DATA_PREFIX_BYTES) {
        ok = false;
        break;
      }
      const len = dv.getUint32(p, true);
      p += DATA_PREFIX_BYTES;
      if (len > end - p) {
        ok = false;
        break;
      }
      frames[i] = body.subarray(p, p + len);
      p += len;
    }
    if (!ok) break;
    out.push(new BatchRecord(meta, frames));
    if (r === count - 1) {
      if (p !== end) out.push(MALFORMED_RECORD); // trailing garbage after the last record
      return;
    }
  }
  // Fewer records parsed than announced (or a zero count with bytes left over).
  if (count !== 0 || p !== end) out.push(MALFORMED_RECORD);
}
