/**
 * The archive's byte-level pieces: sizes of the wire's fixed records, the error that decoding
 * throws on hostile input, and the little-endian and UTF-8 helpers the archive reads with.
 */

/** Bytes of one bulk descriptor on the wire: `u64 size` + `u32 flags`. */
export const BULK_DESCRIPTOR_BYTES = 12;
/** Bytes of a cereal size tag. */
export const SIZE_TAG_BYTES = 8;

/** 2^32, the weight of a `u64`'s high word. */
export const TWO_32 = 0x1_0000_0000;
/** Largest high word of a `u64` that still fits a safe integer (2^53 - 1). */
export const MAX_SAFE_HIGH = 0x1f_ffff;

/** Thrown inside decoding on hostile or truncated input; `decodeMeta` turns it into `-1`. */
export class MalformedError extends Error {
  /** @param message - what was wrong and where */
  constructor(message: string) {
    super(message);
    this.name = 'MalformedError';
  }
}

/** Shared encoder for the archive's strings. */
export const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** A little-endian 32-bit integer from bytes (signed; `>>> 0` makes it unsigned). */
export function readI32(buf: Uint8Array, at: number): number {
  return buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
}

/** Throws a TypeError naming `what` unless `v` is an integer in `[lo, hi]`. */
export function checkInt(v: number, lo: number, hi: number, what: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new TypeError(`archive ${what} expects an integer in [${lo}, ${hi}], got ${v}`);
}

/** The UTF-8 string in `buf[from, to)`. */
export function decodeUtf8(buf: Uint8Array, from: number, to: number): string {
  // Short ASCII strings dominate metadata: TextDecoder's call and the view it needs cost more
  // than building the string eight characters at a time.
  if (to - from <= 64) {
    const fcc = String.fromCharCode;
    let s = '';
    let i = from;
    for (; i + 8 <= to; i += 8) {
      const c0 = buf[i], c1 = buf[i + 1], c2 = buf[i + 2], c3 = buf[i + 3];
      const c4 = buf[i + 4], c5 = buf[i + 5], c6 = buf[i + 6], c7 = buf[i + 7];
      if ((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) >= 0x80) return textDecoder.decode(buf.subarray(from, to));
      s += fcc(c0, c1, c2, c3, c4, c5, c6, c7);
    }
    for (; i < to; i++) {
      const c = buf[i];
      if (c >= 0x80) return textDecoder.decode(buf.subarray(from, to));
      s += fcc(c);
    }
    return s;
  }
  return textDecoder.decode(buf.subarray(from, to));
}
