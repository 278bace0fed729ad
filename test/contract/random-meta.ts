/**
 * Random metadata for property tests: a random schema (a tree of field kinds covering every
 * archive type), random values for it, and an `LbmMeta` subclass whose `serialize` walks the
 * schema. Shared by the archive tests and the transport contract suite.
 */
import type { Archive, Bulk, Serializable } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';
import type { Prng } from '../support/prng.js';

/** Every scalar type the archive offers. */
export const SCALAR_KINDS = ['i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'usize', 'f32', 'f64', 'bool', 'string', 'bytes'] as const;

/** One scalar archive type. */
export type ScalarKind = (typeof SCALAR_KINDS)[number];

/** A field's type: a scalar, a vector of some kind, or a nested struct of fields. */
export type FieldKind = ScalarKind | { readonly vector: FieldKind } | { readonly struct: readonly FieldKind[] };

/** A nested struct value: declared through `ar.object`, its fields walked like the meta's. */
export class SchemaStruct implements Serializable {
  /**
   * @param fields - the struct's schema
   * @param values - one value per field (filled on decode)
   */
  constructor(
    readonly fields: readonly FieldKind[],
    public values: unknown[] = [],
  ) {}

  serialize(ar: Archive): void {
    serializeFields(ar, this.fields, this.values);
  }
}

/** A meta whose custom fields follow a schema; `values` holds one value per field. */
export class SchemaMeta extends LbmMeta {
  /**
   * @param fields - the custom fields' schema
   * @param values - one value per field (filled on decode)
   */
  constructor(
    readonly fields: readonly FieldKind[],
    public values: unknown[] = [],
  ) {
    super();
  }

  override serialize(ar: Archive): void {
    super.serialize(ar);
    serializeFields(ar, this.fields, this.values);
  }
}

function serializeFields(ar: Archive, fields: readonly FieldKind[], values: unknown[]): void {
  for (let i = 0; i < fields.length; i++) values[i] = serializeField(ar, fields[i], values[i]);
}

/**
 * Declares one value of `kind` on the archive (writes it, or returns what was read).
 *
 * @param ar - the archive
 * @param kind - the value's type
 * @param v - the value (ignored when reading)
 */
export function serializeField(ar: Archive, kind: FieldKind, v: unknown): unknown {
  if (typeof kind === 'object') {
    if ('vector' in kind) return ar.vector(v as unknown[], (a, x) => serializeField(a, kind.vector, x));
    return ar.object(v as SchemaStruct, () => new SchemaStruct(kind.struct));
  }
  switch (kind) {
    case 'i8':
      return ar.i8(v as number);
    case 'i16':
      return ar.i16(v as number);
    case 'i32':
      return ar.i32(v as number);
    case 'i64':
      return ar.i64(v as bigint);
    case 'u8':
      return ar.u8(v as number);
    case 'u16':
      return ar.u16(v as number);
    case 'u32':
      return ar.u32(v as number);
    case 'u64':
      return ar.u64(v as bigint);
    case 'usize':
      return ar.usize(v as number);
    case 'f32':
      return ar.f32(v as number);
    case 'f64':
      return ar.f64(v as number);
    case 'bool':
      return ar.bool(v as boolean);
    case 'string':
      return ar.string(v as string);
    case 'bytes':
      return ar.bytes(v as Uint8Array);
  }
}

/**
 * A random schema of `count` extra fields on top of one field of every scalar kind, a vector of
 * vectors and a struct holding a struct, so every archive type occurs in every schema.
 *
 * @param rng - the generator
 * @param count - extra random fields
 * @param depth - how deep extra vectors and structs may nest
 */
export function randomSchema(rng: Prng, count: number, depth = 3): FieldKind[] {
  const fields: FieldKind[] = [...SCALAR_KINDS];
  fields.push({ vector: { vector: rng.pick(SCALAR_KINDS) } });
  fields.push({ struct: [rng.pick(SCALAR_KINDS), { struct: [rng.pick(SCALAR_KINDS), { vector: 'string' }] }] });
  for (let i = 0; i < count; i++) fields.push(randomKind(rng, depth));
  return rng.shuffle(fields);
}

/**
 * One random field kind, nesting at most `depth` levels.
 *
 * @param rng - the generator
 * @param depth - remaining nesting
 */
export function randomKind(rng: Prng, depth: number): FieldKind {
  const roll = rng.int(0, 9);
  if (depth > 0 && roll === 0) return { vector: randomKind(rng, depth - 1) };
  if (depth > 0 && roll === 1) {
    const n = rng.int(0, 3);
    const fields: FieldKind[] = [];
    for (let i = 0; i < n; i++) fields.push(randomKind(rng, depth - 1));
    return { struct: fields };
  }
  return rng.pick(SCALAR_KINDS);
}

const SPECIAL_F64 = [0, -0, 1, -1, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN, Number.EPSILON];

/**
 * A random value of `kind`, including edge values (extremes, -0, NaN, empty and non-ASCII
 * strings, empty vectors).
 *
 * @param rng - the generator
 * @param kind - the value's type
 * @param maxLen - longest string, byte array or vector
 */
export function randomValue(rng: Prng, kind: FieldKind, maxLen = 6): unknown {
  if (typeof kind === 'object') {
    if ('vector' in kind) {
      const n = rng.int(0, maxLen);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(randomValue(rng, kind.vector, maxLen));
      return out;
    }
    return new SchemaStruct(
      kind.struct,
      kind.struct.map((k) => randomValue(rng, k, maxLen)),
    );
  }
  const edge = rng.bool(0.2);
  switch (kind) {
    case 'i8':
      return edge ? rng.pick([-128, 127, 0]) : rng.int(-128, 127);
    case 'i16':
      return edge ? rng.pick([-32768, 32767, 0]) : rng.int(-32768, 32767);
    case 'i32':
      return edge ? rng.pick([-(2 ** 31), 2 ** 31 - 1, 0]) : rng.int(-(2 ** 31), 2 ** 31 - 1);
    case 'i64':
      return edge ? rng.pick([-(2n ** 63n), 2n ** 63n - 1n, 0n]) : rng.bigint(64, true);
    case 'u8':
      return edge ? rng.pick([0, 255]) : rng.int(0, 255);
    case 'u16':
      return edge ? rng.pick([0, 65535]) : rng.int(0, 65535);
    case 'u32':
      return edge ? rng.pick([0, 2 ** 32 - 1]) : rng.int(0, 2 ** 32 - 1);
    case 'u64':
      return edge ? rng.pick([0n, 2n ** 64n - 1n]) : rng.bigint(64);
    case 'usize':
      return edge ? rng.pick([0, Number.MAX_SAFE_INTEGER]) : rng.int(0, Number.MAX_SAFE_INTEGER);
    case 'f32':
      return Math.fround(edge ? rng.pick(SPECIAL_F64) : (rng.next() - 0.5) * 2 ** rng.int(-20, 40));
    case 'f64':
      return edge ? rng.pick(SPECIAL_F64) : (rng.next() - 0.5) * 2 ** rng.int(-300, 300);
    case 'bool':
      return rng.bool();
    case 'string':
      return edge ? rng.pick(['', 'héllo wörld', '日本語', '🚀']) : rng.string(maxLen * 2);
    case 'bytes':
      return rng.bytes(rng.int(0, maxLen * 2));
  }
}

/**
 * Random bulk descriptors: sizes from 0 to 2^53 - 1, flags any u32 (the archive carries any
 * flag bits; only `Client.send` restricts them).
 *
 * @param rng - the generator
 * @param max - most bulks
 * @param anyFlags - draw flags from all 32 bits instead of 0..3
 */
export function randomBulks(rng: Prng, max: number, anyFlags = true): Bulk[] {
  const n = rng.int(0, max);
  const out: Bulk[] = [];
  for (let i = 0; i < n; i++) {
    const size = rng.pick([0, 1, rng.int(0, 1 << 20), rng.int(0, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER]);
    const flags = anyFlags && rng.bool(0.3) ? rng.int(0, 2 ** 32 - 1) : rng.int(0, 3);
    out.push({ data: null, size, flags });
  }
  return out;
}

/**
 * A random meta: random schema, values and bulk vectors.
 *
 * @param rng - the generator
 * @param extraFields - random fields beyond the one-of-each set
 */
export function randomMeta(rng: Prng, extraFields = 4): SchemaMeta {
  const fields = randomSchema(rng, extraFields);
  const meta = new SchemaMeta(
    fields,
    fields.map((k) => randomValue(rng, k)),
  );
  meta.send = randomBulks(rng, 5);
  meta.recv = randomBulks(rng, 5);
  return meta;
}

/** An empty meta of the same schema, to decode into. */
export function emptyLike(meta: SchemaMeta): SchemaMeta {
  return new SchemaMeta(meta.fields);
}
