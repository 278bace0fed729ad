/**
 * What a Lightbeam message looks like on a libfabric endpoint.
 *
 * The metadata travels as one untagged message into one of the server's pre-posted receive
 * buffers: a 16-byte header, one u64 per XFER data frame, then the cereal metadata frame
 * (DESIGN.md section 2), all little-endian.
 *
 * | offset  | size | field      | written by |
 * |---------|------|------------|------------|
 * | 0       | 4    | magic `LBF1` (0x3146424c) | client |
 * | 4       | 4    | client id (23 bits, random per client) | client |
 * | 8       | 4    | sequence number (24 bits) | client |
 * | 12      | 4    | data frame count `n` | client |
 * | 16      | 8n   | size of each data frame | client |
 * | 16 + 8n | rest | the metadata frame | client |
 *
 * Each data frame is a tagged message whose 64-bit tag names its message and index, so the
 * receiver posts a receive straight into the buffer it chose for exactly that frame:
 * bit 63 set, bits 40..62 the client id, bits 16..39 the sequence number, bits 0..15 the index.
 */

/** `LBF1` read as a little-endian u32. */
export const WIRE_MAGIC = 0x3146424c;
/** `LBFH` as a little-endian u32: a client's hello, which opens the connection; servers ignore it. */
export const WIRE_HELLO_MAGIC = 0x4846424c;
/** Bytes before the data frame sizes. */
export const WIRE_HEADER_BYTES = 16;
/** Most data frames one message may carry (16-bit index in the tag). */
export const WIRE_MAX_FRAMES = 0x10000;
/** Client ids are 23 bits. */
export const CLIENT_ID_MASK = 0x7fffff;
/** Sequence numbers are 24 bits. */
export const SEQ_MASK = 0xffffff;

/** The high 32 bits of the tag of data frame `index` of message `seq` from `clientId`. */
export function tagHi(clientId: number, seq: number): number {
  return (0x80000000 | ((clientId & CLIENT_ID_MASK) << 8) | ((seq >>> 16) & 0xff)) >>> 0;
}

/** The low 32 bits of that tag. */
export function tagLo(seq: number, index: number): number {
  return (((seq & 0xffff) << 16) | (index & 0xffff)) >>> 0;
}

/**
 * Builds the metadata message: header, frame sizes, metadata frame.
 *
 * @param clientId - the sender's id
 * @param seq - the message's sequence number
 * @param meta - the encoded metadata frame
 * @param xfer - the data frames
 */
export function encodeWire(clientId: number, seq: number, meta: Uint8Array, xfer: readonly Uint8Array[]): Uint8Array {
  const n = xfer.length;
  const out = new Uint8Array(WIRE_HEADER_BYTES + 8 * n + meta.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, WIRE_MAGIC, true);
  dv.setUint32(4, clientId & CLIENT_ID_MASK, true);
  dv.setUint32(8, seq & SEQ_MASK, true);
  dv.setUint32(12, n, true);
  for (let i = 0; i < n; i++) dv.setBigUint64(WIRE_HEADER_BYTES + 8 * i, BigInt(xfer[i].byteLength), true);
  out.set(meta, WIRE_HEADER_BYTES + 8 * n);
  return out;
}

/** A hello message: the hello magic and 12 zero bytes. */
export function encodeHello(): Uint8Array {
  const out = new Uint8Array(WIRE_HEADER_BYTES);
  new DataView(out.buffer).setUint32(0, WIRE_HELLO_MAGIC, true);
  return out;
}

/**
 * True when `buf` is a client's hello.
 *
 * @param buf - a metadata message as received
 */
export function isHello(buf: Uint8Array): boolean {
  return buf.byteLength === WIRE_HEADER_BYTES && new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0, true) === WIRE_HELLO_MAGIC;
}

/** A decoded header. */
export interface WireHeader {
  /** The sender's id. */
  clientId: number;
  /** The message's sequence number. */
  seq: number;
  /** Size of each data frame. */
  sizes: number[];
  /** The metadata frame. */
  meta: Uint8Array;
}

/**
 * Reads a metadata message; `null` when it is not one (wrong magic, truncated, absurd counts).
 *
 * @param buf - the bytes received
 */
export function decodeWire(buf: Uint8Array): WireHeader | null {
  if (buf.byteLength < WIRE_HEADER_BYTES) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== WIRE_MAGIC) return null;
  const n = dv.getUint32(12, true);
  if (n > WIRE_MAX_FRAMES || WIRE_HEADER_BYTES + 8 * n > buf.byteLength) return null;
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = dv.getBigUint64(WIRE_HEADER_BYTES + 8 * i, true);
    if (s > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    sizes.push(Number(s));
  }
  return { clientId: dv.getUint32(4, true), seq: dv.getUint32(8, true), sizes, meta: buf.subarray(WIRE_HEADER_BYTES + 8 * n) };
}
