/**
 * A small seeded pseudo-random generator for reproducible tests and benchmarks.
 *
 * The core is mulberry32 (32-bit state, period 2^32): tiny, fast, and good enough to drive
 * property and mutation tests. Every test that uses it should print or fix its seed, so a failure
 * can be replayed exactly: `new Prng(seed)` always yields the same sequence.
 */

/** Seeded generator with helpers for the values tests need. */
export class Prng {
  private state: number;

  /** @param seed - any 32-bit integer; the same seed always gives the same sequence */
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** The next raw 32-bit unsigned value (mulberry32). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /**
   * An integer in [lo, hi], both inclusive; exact for ranges up to 2^53.
   *
   * @param lo - smallest value
   * @param hi - largest value
   */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) throw new RangeError(`Prng.int needs safe integers lo <= hi, got [${lo}, ${hi}]`);
    const span = hi - lo + 1;
    if (span <= 0x1_0000_0000) return lo + Math.floor(this.next() * span);
    // Two draws give 53 random bits: enough for any safe range.
    const r = (this.nextU32() >>> 5) * 0x400_0000 + (this.nextU32() >>> 6);
    return lo + (r % span);
  }

  /** True with probability `p` (default one half). */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /**
   * A uniformly random `bits`-bit integer as a bigint, signed (two's complement range) or not.
   *
   * @param bits - width, e.g. 64
   * @param signed - draw from [-2^(bits-1), 2^(bits-1)) instead of [0, 2^bits)
   */
  bigint(bits: number, signed = false): bigint {
    let v = 0n;
    for (let have = 0; have < bits; have += 32) v = (v << 32n) | BigInt(this.nextU32());
    return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  }

  /**
   * `n` random bytes.
   *
   * @param n - how many
   */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.nextU32() & 0xff;
    return out;
  }

  /**
   * A random string of `length` UTF-16 code units' worth of characters, mixing ASCII, accented
   * Latin, CJK and astral-plane emoji (surrogate pairs), so UTF-8 encodings of 1 to 4 bytes all
   * occur. Never contains lone surrogates, so it survives a UTF-8 round trip unchanged.
   *
   * @param maxChars - the string has between 0 and this many characters
   * @param asciiOnly - restrict to printable ASCII
   */
  string(maxChars: number, asciiOnly = false): string {
    const n = this.int(0, maxChars);
    let s = '';
    for (let i = 0; i < n; i++) s += asciiOnly ? String.fromCharCode(this.int(0x20, 0x7e)) : this.char();
    return s;
  }

  /** One character drawn from ASCII, Latin-1 / Greek, CJK or emoji. */
  char(): string {
    switch (this.int(0, 3)) {
      case 0:
        return String.fromCharCode(this.int(0x20, 0x7e));
      case 1:
        return String.fromCharCode(this.int(0xa0, 0x3ff));
      case 2:
        return String.fromCharCode(this.int(0x4e00, 0x9fff));
      default:
        return String.fromCodePoint(this.int(0x1f300, 0x1f64f));
    }
  }

  /**
   * One element of a non-empty array.
   *
   * @param items - the choices
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick needs a non-empty array');
    return items[this.int(0, items.length - 1)];
  }

  /**
   * Shuffles `items` in place (Fisher-Yates) and returns it.
   *
   * @param items - the array to shuffle
   */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /**
   * An independent generator seeded from this one, so sub-tasks stay reproducible regardless of
   * how many values the parent draws afterwards.
   */
  fork(): Prng {
    return new Prng(this.nextU32());
  }
}

/**
 * The seed a test run uses: `LIGHTBEAM_SEED` from the environment if set (to replay a failure),
 * otherwise `fallback`.
 *
 * @param fallback - the fixed default seed of the test
 */
export function testSeed(fallback: number): number {
  const env = process.env.LIGHTBEAM_SEED;
  if (env === undefined || env === '') return fallback;
  const n = Number(env);
  if (!Number.isInteger(n)) throw new RangeError(`LIGHTBEAM_SEED must be an integer, got ${env}`);
  return n >>> 0;
}
