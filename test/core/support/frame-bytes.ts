/**
 * Hand-built metadata frames for decoder tests: little-endian pieces concatenated, so a test can
 * state exactly which count or length lies.
 */

/** A little-endian u64 from a bigint (the whole range, so tests can claim 2^60 or 2^64 - 1). */
export function u64(v: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v), true);
  return out;
}

/** A little-endian u32. */
export function u32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
}

/** A little-endian i32. */
export function i32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, v, true);
  return out;
}

/** A bulk descriptor: `u64 size`, `u32 flags`. */
export function bulk(size: bigint | number, flags: number): Uint8Array {
  return concat(u64(size), u32(flags));
}

/** A cereal string: `u64` byte length, then the UTF-8 bytes. */
export function str(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  return concat(u64(b.byteLength), b);
}

/** The pieces joined into one frame. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A frame with the given send bulks, no recv bulks, and `tail` as its custom fields. */
export function frameWith(send: Uint8Array[], ...tail: Uint8Array[]): Uint8Array {
  return concat(u64(send.length), ...send, u64(0), ...tail);
}
