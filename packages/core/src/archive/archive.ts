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
import type { Bulk } from '../protocol/bulk.js';
import { BULK_DESCRIPTOR_BYTES, MAX_SAFE_HIGH, MalformedError, SIZE_TAG_BYTES, TWO_32, checkInt, decodeUtf8, readI32, textEncoder } from './wire-bytes.js';

/** Anything with a cereal-style symmetric `serialize`: the same code encodes and decodes. */
export interface Serializable {
  /**
   * Declares the fields in wire order. Each `ar.<type>(value)` writes `value` when encoding and
   * returns the value read when decoding, so `this.x = ar.i32(this.x)` serves both directions.
   */
  serialize(ar: Archive): void;
}

/**
 * A symmetric archive: in write mode every method writes its argument and returns it; in read
 * mode it ignores the argument and returns the value read. One `serialize` declaration thus
 * encodes and decodes, like cereal's `ar(...)`.
 */
export class Archive {
  /** True while decoding. */
  readonly reading: boolean;
  /** Current byte position (in the underlying buffer, from `start`). */
  pos = 0;
  private buf: Uint8Array;
  // Made on first use: creating a DataView costs more than decoding a small frame's integers,
  // which are read straight from the bytes.
  private dvCache: DataView | null = null;
  private start = 0;
  private end: number;
  private depth = 0;
  private limits: ArchiveLimits;

  /**
   * @param reading - decode (true) or encode (false)
   * @param buf - the frame to read, or the initial scratch buffer to write into
   * @param limits - decoding limits
   */
  constructor(reading: boolean, buf: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS) {
    this.reading = reading;
    this.buf = buf;
    this.end = buf.byteLength;
    this.limits = limits;
  }

  /**
   * Restarts the archive: over a new frame (read) or buffer (write), from byte `at` of it.
   *
   * @param buf - the new frame or buffer; the current one when omitted
   * @param at - where reading or writing starts
   * @param limits - new decoding limits; the current ones when omitted
   * @param end - where reading stops (a frame inside a larger buffer); the buffer's end when omitted
   */
  reset(buf?: Uint8Array, at = 0, limits?: ArchiveLimits, end?: number): void {
    if (buf !== undefined && buf !== this.buf) {
      this.buf = buf;
      this.dvCache = null;
    }
    this.end = end === undefined ? this.buf.byteLength : Math.min(end, this.buf.byteLength);
    if (limits !== undefined) this.limits = limits;
    this.start = at;
    this.pos = at;
    this.depth = 0;
  }

  /** The bytes written since the last reset (a view into the buffer, valid until the next write). */
  written(): Uint8Array {
    return this.buf.subarray(this.start, this.pos);
  }

  /** The buffer written into: the one given, or a larger one once it overflowed. */
  get buffer(): Uint8Array {
    return this.buf;
  }

  private get dv(): DataView {
    let dv = this.dvCache;
    if (dv === null) {
      const buf = this.buf;
      dv = this.dvCache = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return dv;
  }

  /** Bytes not yet read. */
  remaining(): number {
    return this.end - this.pos;
  }

  // ---- primitives ---------------------------------------------------------------------------

  /** Signed 8-bit integer. */
  i8(v: number): number {
    if (this.reading) return (this.buf[this.take(1)] << 24) >> 24;
    checkInt(v, -0x80, 0x7f, 'i8');
    const at = this.room(1);
    this.dv.setInt8(at, v);
    return v;
  }

  /** Unsigned 8-bit integer. */
  u8(v: number): number {
    if (this.reading) return this.buf[this.take(1)];
    checkInt(v, 0, 0xff, 'u8');
    const at = this.room(1);
    this.buf[at] = v;
    return v;
  }

  /** Signed 16-bit integer. */
  i16(v: number): number {
    if (this.reading) {
      const at = this.take(2);
      return ((this.buf[at] | (this.buf[at + 1] << 8)) << 16) >> 16;
    }
    checkInt(v, -0x8000, 0x7fff, 'i16');
    const at = this.room(2);
    this.dv.setInt16(at, v, true);
    return v;
  }

  /** Unsigned 16-bit integer. */
  u16(v: number): number {
    if (this.reading) {
      const at = this.take(2);
      return this.buf[at] | (this.buf[at + 1] << 8);
    }
    checkInt(v, 0, 0xffff, 'u16');
    const at = this.room(2);
    this.dv.setUint16(at, v, true);
    return v;
  }

  /** Signed 32-bit integer (C++ `int`). */
  i32(v: number): number {
    if (this.reading) return readI32(this.buf, this.take(4));
    if ((v | 0) !== v) throw new TypeError(`archive i32 expects an integer in [-2^31, 2^31), got ${v}`);
    const at = this.room(4);
    this.dv.setInt32(at, v, true);
    return v;
  }

  /** Unsigned 32-bit integer. */
  u32(v: number): number {
    if (this.reading) return readI32(this.buf, this.take(4)) >>> 0;
    if (v >>> 0 !== v) throw new TypeError(`archive u32 expects an integer in [0, 2^32), got ${v}`);
    const at = this.room(4);
    this.dv.setUint32(at, v, true);
    return v;
  }

  /** Signed 64-bit integer as `bigint`. */
  i64(v: bigint): bigint {
    if (this.reading) return this.dv.getBigInt64(this.take(8), true);
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) throw new TypeError(`archive i64 expects a 64-bit bigint, got ${String(v)}`);
    const at = this.room(8);
    this.dv.setBigInt64(at, v, true);
    return v;
  }

  /** Unsigned 64-bit integer as `bigint`. */
  u64(v: bigint): bigint {
    if (this.reading) return this.dv.getBigUint64(this.take(8), true);
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) throw new TypeError(`archive u64 expects a 64-bit unsigned bigint, got ${String(v)}`);
    const at = this.room(8);
    this.dv.setBigUint64(at, v, true);
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
    const at = this.room(4);
    this.dv.setFloat32(at, v, true);
    return v;
  }

  /** 64-bit float. */
  f64(v: number): number {
    if (this.reading) return this.dv.getFloat64(this.take(8), true);
    if (typeof v !== 'number') throw new TypeError(`archive f64 expects a number, got ${typeof v}`);
    const at = this.room(8);
    this.dv.setFloat64(at, v, true);
    return v;
  }

  /** Boolean as one byte (0 or 1); any non-zero byte reads as true, as cereal does. */
  bool(v: boolean): boolean {
    if (this.reading) return this.buf[this.take(1)] !== 0;
    if (typeof v !== 'boolean') throw new TypeError(`archive bool expects a boolean, got ${typeof v}`);
    const at = this.room(1);
    this.buf[at] = v ? 1 : 0;
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
    const len = v.length;
    // Short ASCII strings dominate metadata: one claim for tag and bytes, and a plain loop,
    // beat TextEncoder's call overhead.
    if (len < 64) {
      const at = this.room(SIZE_TAG_BYTES + len);
      const buf = this.buf;
      const first = at + SIZE_TAG_BYTES;
      let i = 0;
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[first + i] = c;
      }
      if (i === len) {
        const dv = this.dv;
        dv.setUint32(at, len, true);
        dv.setUint32(at + 4, 0, true);
        return v;
      }
      this.pos = at;
    }
    // Relative to `start`: writing the bytes may move the frame to a larger buffer.
    const tagRel = this.room(SIZE_TAG_BYTES) - this.start;
    const n = this.writeUtf8(v);
    const tag = this.start + tagRel;
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
    const at = this.room(v.byteLength);
    this.buf.set(v, at);
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
      // `>>> 0` is the low word of any safe integer, without a floating-point modulo.
      const lo = size >>> 0;
      dv.setUint32(p, lo, true);
      dv.setUint32(p + 4, (size - lo) / TWO_32, true);
      dv.setUint32(p + 8, b.flags, true);
      p += BULK_DESCRIPTOR_BYTES;
    }
  }

  /** Reads a bulk vector into fresh `Bulk` objects with `data: null`. */
  readBulks(): Bulk[] {
    const n = this.readCount(this.limits.maxBulks, BULK_DESCRIPTOR_BYTES, 'bulk vector');
    // readCount proved all n descriptors are present: read them without per-field bounds checks.
    const buf = this.buf;
    const start = this.pos;
    this.pos = start + n * BULK_DESCRIPTOR_BYTES;
    const out: Bulk[] = new Array(n);
    const max = this.limits.maxBulkSize;
    for (let i = 0, p = start; i < n; i++, p += BULK_DESCRIPTOR_BYTES) {
      const hi = readI32(buf, p + 4) >>> 0;
      if (hi > MAX_SAFE_HIGH) throw new MalformedError(`bulk #${i} size at offset ${p} exceeds 2^53`);
      const size = hi * TWO_32 + (readI32(buf, p) >>> 0);
      if (size > max) throw new MalformedError(`bulk #${i} claims ${size} bytes, above the ${max}-byte limit`);
      out[i] = { data: null, size, flags: readI32(buf, p + 8) >>> 0 };
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

  /**
   * Claims `n` writable bytes and returns where they start. It may move the frame to a larger
   * buffer, so callers call it before reading `this.buf` or `this.dv`, never inside an
   * expression that already evaluated them.
   */
  private room(n: number): number {
    if (this.pos + n > this.end) this.grow(this.pos + n);
    const at = this.pos;
    this.pos = at + n;
    return at;
  }

  private grow(min: number): void {
    // Only the bytes of this frame move: writing may have started mid-buffer (a shared pool).
    const used = this.pos - this.start;
    const need = min - this.start;
    let cap = Math.max(64, (this.buf.byteLength - this.start) * 2);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.dvCache = null;
    this.end = cap;
    this.start = 0;
    this.pos = used;
  }

  private writeU64(v: number): void {
    const at = this.room(8);
    const lo = v >>> 0;
    this.dv.setUint32(at, lo, true);
    this.dv.setUint32(at + 4, (v - lo) / TWO_32, true);
  }

  private readSafeU64(): number {
    const at = this.take(8);
    const buf = this.buf;
    const lo = readI32(buf, at) >>> 0;
    const hi = readI32(buf, at + 4) >>> 0;
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
    // Every UTF-16 unit takes at most 3 UTF-8 bytes (a surrogate pair: 4 for 2 units).
    if (this.pos + s.length * 3 > this.end) this.grow(this.pos + s.length * 3);
    const at = this.pos;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(at));
    this.pos = at + written;
    return written;
  }
}
