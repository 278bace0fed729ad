/**
 * The metadata archive: byte-compatible with cereal's `BinaryOutputArchive` /
 * `BinaryInputArchive` (little-endian, no padding, `u64` size tags), so frames interoperate with
 * the C++ implementation.
 *
 * Wire layout of a metadata frame:
 *
 * | field         | encoding                                   |
 * |---------------|--------------------------------------------|
 * | send vector   | `u64 n`, then n × (`u64 size`, `u32 flags`) |
 * | recv vector   | `u64 n`, then n × (`u64 size`, `u32 flags`) |
 * | custom fields | in `serialize` order, see {@link Archive}  |
 *
 * 64-bit integers: `i64`/`u64` take and return `bigint` (the whole range); `usize` takes and
 * returns a `number` and is malformed above 2^53 - 1 (used for bulk sizes).
 */
import type { ArchiveLimits } from './archive-limits.js';
import { DEFAULT_ARCHIVE_LIMITS } from './archive-limits.js';
import type { Bulk } from './bulk.js';
import type { Serializable } from './lbm-meta.js';

/** Bytes of one bulk descriptor on the wire: `u64 size` + `u32 flags`. */
export const BULK_DESCRIPTOR_BYTES = 12;
/** Bytes of a cereal size tag. */
export const SIZE_TAG_BYTES = 8;

const TWO_32 = 0x1_0000_0000;
/** Largest high word of a `u64` that still fits a safe integer (2^53 - 1). */
const MAX_SAFE_HIGH = 0x1f_ffff;

/** Thrown inside decoding on hostile or truncated input; `decodeMeta` turns it into `-1`. */
export class MalformedError extends Error {
  /** @param message - what was wrong and where */
  constructor(message: string) {
    super(message);
    this.name = 'MalformedError';
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * A symmetric archive: in write mode every method writes its argument and returns it; in read
 * mode it ignores the argument and returns the value read. One `serialize` declaration thus
 * encodes and decodes, like cereal's `ar(...)`.
 */
export class Archive {
  /** True while decoding. */
  readonly reading: boolean;
  /** Current byte position. */
  pos = 0;
  private buf: Uint8Array;
  private dv: DataView;
  private end: number;
  private depth = 0;
  private readonly limits: ArchiveLimits;

  /**
   * @param reading - decode (true) or encode (false)
   * @param buf - the frame to read, or the initial scratch buffer to write into
   * @param limits - decoding limits
   */
  constructor(reading: boolean, buf: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS) {
    this.reading = reading;
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.end = buf.byteLength;
    this.limits = limits;
  }

  /** Restarts the archive over a new frame (read) or at position 0 (write). */
  reset(buf?: Uint8Array): void {
    if (buf !== undefined && buf !== this.buf) {
      this.buf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.end = buf.byteLength;
    }
    this.pos = 0;
    this.depth = 0;
  }

  /** The bytes written so far (a view into the scratch buffer, valid until the next write). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Bytes not yet read. */
  remaining(): number {
    return this.end - this.pos;
  }

  // ---- primitives ---------------------------------------------------------------------------

  /** Signed 8-bit integer. */
  i8(v: number): number {
    if (this.reading) return this.dv.getInt8(this.take(1));
    checkInt(v, -0x80, 0x7f, 'i8');
    this.dv.setInt8(this.room(1), v);
    return v;
  }

  /** Unsigned 8-bit integer. */
  u8(v: number): number {
    if (this.reading) return this.buf[this.take(1)];
    checkInt(v, 0, 0xff, 'u8');
    this.buf[this.room(1)] = v;
    return v;
  }

  /** Signed 16-bit integer. */
  i16(v: number): number {
    if (this.reading) return this.dv.getInt16(this.take(2), true);
    checkInt(v, -0x8000, 0x7fff, 'i16');
    this.dv.setInt16(this.room(2), v, true);
    return v;
  }

  /** Unsigned 16-bit integer. */
  u16(v: number): number {
    if (this.reading) return this.dv.getUint16(this.take(2), true);
    checkInt(v, 0, 0xffff, 'u16');
    this.dv.setUint16(this.room(2), v, true);
    return v;
  }

  /** Signed 32-bit integer (C++ `int`). */
  i32(v: number): number {
    if (this.reading) return this.dv.getInt32(this.take(4), true);
    if ((v | 0) !== v) throw new TypeError(`archive i32 expects an integer in [-2^31, 2^31), got ${v}`);
    this.dv.setInt32(this.room(4), v, true);
    return v;
  }

  /** Unsigned 32-bit integer. */
  u32(v: number): number {
    if (this.reading) return this.dv.getUint32(this.take(4), true);
    if (v >>> 0 !== v) throw new TypeError(`archive u32 expects an integer in [0, 2^32), got ${v}`);
    this.dv.setUint32(this.room(4), v, true);
    return v;
  }

  /** Signed 64-bit integer as `bigint`. */
  i64(v: bigint): bigint {
    if (this.reading) return this.dv.getBigInt64(this.take(8), true);
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) throw new TypeError(`archive i64 expects a 64-bit bigint, got ${String(v)}`);
    this.dv.setBigInt64(this.room(8), v, true);
    return v;
  }

  /** Unsigned 64-bit integer as `bigint`. */
  u64(v: bigint): bigint {
    if (this.reading) return this.dv.getBigUint64(this.take(8), true);
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) throw new TypeError(`archive u64 expects a 64-bit unsigned bigint, got ${String(v)}`);
    this.dv.setBigUint64(this.room(8), v, true);
    return v;
  }

  /** Unsigned 64-bit integer (C++ `size_t`) as a `number`; malformed above 2^53 - 1. */
  usize(v: number): number {
    if (this.reading) return this.readSafeU64();
    if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`archive usize expects a safe non-negative integer, got ${v}`);
    this.writeU64(v);
    return v;
  }

  /** 32-bit float. */
  f32(v: number): number {
    if (this.reading) return this.dv.getFloat32(this.take(4), true);
    if (typeof v !== 'number') throw new TypeError(`archive f32 expects a number, got ${typeof v}`);
    this.dv.setFloat32(this.room(4), v, true);
    return v;
  }

  /** 64-bit float. */
  f64(v: number): number {
    if (this.reading) return this.dv.getFloat64(this.take(8), true);
    if (typeof v !== 'number') throw new TypeError(`archive f64 expects a number, got ${typeof v}`);
    this.dv.setFloat64(this.room(8), v, true);
    return v;
  }

  /** Boolean as one byte (0 or 1); any non-zero byte reads as true, as cereal does. */
  bool(v: boolean): boolean {
    if (this.reading) return this.buf[this.take(1)] !== 0;
    if (typeof v !== 'boolean') throw new TypeError(`archive bool expects a boolean, got ${typeof v}`);
    this.buf[this.room(1)] = v ? 1 : 0;
    return v;
  }

  /** UTF-8 string: `u64` byte length, then the bytes (cereal `std::string`). */
  string(v: string): string {
    if (this.reading) {
      const n = this.readLength(this.limits.maxStringBytes, 'string');
      const at = this.take(n);
      return decodeUtf8(this.buf, at, at + n);
    }
    if (typeof v !== 'string') throw new TypeError(`archive string expects a string, got ${typeof v}`);
    const tag = this.room(SIZE_TAG_BYTES);
    const n = this.writeUtf8(v);
    this.dv.setUint32(tag, n, true);
    this.dv.setUint32(tag + 4, 0, true);
    return v;
  }

  /** Byte array: `u64` length, then the bytes (cereal `std::vector<uint8_t>`). Reads return a copy. */
  bytes(v: Uint8Array): Uint8Array {
    if (this.reading) {
      const n = this.readLength(this.limits.maxStringBytes, 'bytes');
      const at = this.take(n);
      return this.buf.slice(at, at + n);
    }
    if (!(v instanceof Uint8Array)) throw new TypeError('archive bytes expects a Uint8Array');
    this.writeU64(v.byteLength);
    this.buf.set(v, this.room(v.byteLength));
    return v;
  }

  /**
   * Vector: `u64` count, then each element through `item`. In read mode `item` receives
   * `undefined` as its value and must return the element it read.
   *
   * @param v - the elements (write mode)
   * @param item - declares one element, e.g. `(ar, x) => ar.i32(x)`
   */
  vector<T>(v: readonly T[] | undefined, item: (ar: Archive, value: T) => T): T[] {
    this.enter();
    try {
      if (this.reading) {
        // Each element takes at least one byte, so a count above the bytes left is a lie.
        const n = this.readCount(this.limits.maxVectorLength, 1, 'vector');
        const out: T[] = [];
        for (let i = 0; i < n; i++) out.push(item(this, undefined as T));
        return out;
      }
      if (!Array.isArray(v)) throw new TypeError('archive vector expects an array');
      this.writeU64(v.length);
      for (let i = 0; i < v.length; i++) item(this, v[i]);
      return v as T[];
    } finally {
      this.depth--;
    }
  }

  /**
   * Nested struct: its own `serialize` runs in place (cereal writes no framing for structs).
   *
   * @param v - the struct (write mode)
   * @param create - makes an empty struct to read into (read mode)
   */
  object<T extends Serializable>(v: T | undefined, create: () => T): T {
    this.enter();
    try {
      const target = this.reading ? create() : v;
      if (target === undefined || target === null) throw new TypeError('archive object expects a value');
      target.serialize(this);
      return target;
    } finally {
      this.depth--;
    }
  }

  // ---- bulk vectors -------------------------------------------------------------------------

  /** Writes a bulk vector: count, then `(u64 size, u32 flags)` per bulk. */
  writeBulks(bulks: readonly Bulk[]): void {
    const n = bulks.length;
    const at = this.room(SIZE_TAG_BYTES + n * BULK_DESCRIPTOR_BYTES);
    const dv = this.dv;
    dv.setUint32(at, n, true);
    dv.setUint32(at + 4, 0, true);
    let p = at + SIZE_TAG_BYTES;
    for (let i = 0; i < n; i++) {
      const b = bulks[i];
      const size = b.size;
      dv.setUint32(p, size % TWO_32, true);
      dv.setUint32(p + 4, Math.floor(size / TWO_32), true);
      dv.setUint32(p + 8, b.flags, true);
      p += BULK_DESCRIPTOR_BYTES;
    }
  }

  /** Reads a bulk vector into fresh `Bulk` objects with `data: null`. */
  readBulks(): Bulk[] {
    const n = this.readCount(this.limits.maxBulks, BULK_DESCRIPTOR_BYTES, 'bulk vector');
    const out: Bulk[] = new Array(n);
    const max = this.limits.maxBulkSize;
    for (let i = 0; i < n; i++) {
      const size = this.readSafeU64();
      if (size > max) throw new MalformedError(`bulk #${i} claims ${size} bytes, above the ${max}-byte limit`);
      const flags = this.dv.getUint32(this.take(4), true);
      out[i] = { data: null, size, flags };
    }
    return out;
  }

  // ---- internals ----------------------------------------------------------------------------

  private enter(): void {
    if (++this.depth > this.limits.maxDepth) {
      this.depth--;
      if (this.reading) throw new MalformedError(`nesting deeper than ${this.limits.maxDepth}`);
      throw new TypeError(`archive nesting deeper than ${this.limits.maxDepth}`);
    }
  }

  /** Claims `n` readable bytes and returns where they start. */
  private take(n: number): number {
    const at = this.pos;
    if (n > this.end - at) throw new MalformedError(`needs ${n} bytes at offset ${at}, only ${this.end - at} left`);
    this.pos = at + n;
    return at;
  }

  /** Claims `n` writable bytes (growing the scratch buffer) and returns where they start. */
  private room(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.byteLength) this.grow(at + n);
    this.pos = at + n;
    return at;
  }

  private grow(min: number): void {
    let cap = Math.max(64, this.buf.byteLength * 2);
    while (cap < min) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
    this.end = cap;
  }

  private writeU64(v: number): void {
    const at = this.room(8);
    this.dv.setUint32(at, v % TWO_32, true);
    this.dv.setUint32(at + 4, Math.floor(v / TWO_32), true);
  }

  private readSafeU64(): number {
    const at = this.take(8);
    const lo = this.dv.getUint32(at, true);
    const hi = this.dv.getUint32(at + 4, true);
    if (hi > MAX_SAFE_HIGH) throw new MalformedError(`64-bit value at offset ${at} exceeds 2^53`);
    return hi * TWO_32 + lo;
  }

  /** A length of `elemBytes`-sized items, checked against the limit and the bytes present. */
  private readCount(limit: number, elemBytes: number, what: string): number {
    const n = this.readSafeU64();
    if (n > limit) throw new MalformedError(`${what} claims ${n} elements, above the limit of ${limit}`);
    if (n * elemBytes > this.end - this.pos) {
      throw new MalformedError(`${what} claims ${n} elements but only ${this.end - this.pos} bytes remain`);
    }
    return n;
  }

  private readLength(limit: number, what: string): number {
    return this.readCount(limit, 1, what);
  }

  /** Writes `s` as UTF-8 at the cursor and returns its byte length. */
  private writeUtf8(s: string): number {
    const len = s.length;
    // Short ASCII strings dominate metadata; a plain loop beats TextEncoder's call overhead.
    if (len < 64) {
      const at = this.room(len);
      const buf = this.buf;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === len) return len;
      this.pos = at;
    }
    const at = this.pos;
    if (at + len * 3 > this.buf.byteLength) this.grow(at + len * 3);
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(at));
    this.pos = at + written;
    return written;
  }
}

function checkInt(v: number, lo: number, hi: number, what: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new TypeError(`archive ${what} expects an integer in [${lo}, ${hi}], got ${v}`);
}

function decodeUtf8(buf: Uint8Array, from: number, to: number): string {
  if (to - from < 32) {
    let s = '';
    for (let i = from; i < to; i++) {
      const c = buf[i];
      if (c >= 0x80) return textDecoder.decode(buf.subarray(from, to));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return textDecoder.decode(buf.subarray(from, to));
}
