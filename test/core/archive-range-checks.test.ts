import { expect } from 'chai';
import { BULK_XFER, LbmMeta, encodeMeta, expose } from '@lightbeam/core';
import type { FieldKind } from '../contract/random-meta.js';
import { SchemaMeta, SchemaStruct } from '../contract/random-meta.js';

/** Values each type must refuse on encode: wrong JS type, out of range, not an integer. */
const BAD: Array<[FieldKind, unknown, string]> = [
  ['i8', 128, 'i8'],
  ['i8', -129, 'i8'],
  ['i8', 1.5, 'i8'],
  ['i8', '1', 'i8'],
  ['i16', 32768, 'i16'],
  ['i16', -32769, 'i16'],
  ['i32', 2 ** 31, 'i32'],
  ['i32', -(2 ** 31) - 1, 'i32'],
  ['i32', 0.5, 'i32'],
  ['i32', '5', 'i32'],
  ['i32', NaN, 'i32'],
  ['i64', 1, 'i64'],
  ['i64', 2n ** 63n, 'i64'],
  ['i64', -(2n ** 63n) - 1n, 'i64'],
  ['u8', 256, 'u8'],
  ['u8', -1, 'u8'],
  ['u16', 65536, 'u16'],
  ['u16', -1, 'u16'],
  ['u32', 2 ** 32, 'u32'],
  ['u32', -1, 'u32'],
  ['u32', 1.25, 'u32'],
  ['u64', -1n, 'u64'],
  ['u64', 2n ** 64n, 'u64'],
  ['u64', 5, 'u64'],
  ['usize', -1, 'usize'],
  ['usize', 2 ** 53, 'usize'],
  ['usize', 1.5, 'usize'],
  ['usize', 5n, 'usize'],
  ['f32', '1.0', 'f32'],
  ['f32', 1n, 'f32'],
  ['f64', null, 'f64'],
  ['f64', undefined, 'f64'],
  ['bool', 1, 'bool'],
  ['bool', 'true', 'bool'],
  ['string', 5, 'string'],
  ['string', null, 'string'],
  ['bytes', [1, 2], 'bytes'],
  ['bytes', 'ab', 'bytes'],
  [{ vector: 'i32' }, 'not an array', 'vector'],
  [{ vector: 'i32' }, [1, 'x'], 'i32'],
  [{ vector: { vector: 'u8' } }, [[1], [300]], 'u8'],
  [{ struct: ['i16'] }, undefined, 'object'],
];

const limitsOf = (kind: FieldKind): string => JSON.stringify(kind);

describe('archive range checks on encode', () => {
  for (const [kind, value, name] of BAD) {
    it(`refuses ${limitsOf(kind)} = ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value)} with a TypeError naming ${name}`, () => {
      const meta = new SchemaMeta([kind], [value]);
      expect(() => encodeMeta(meta)).to.throw(TypeError, new RegExp(`archive ${name}\\b`));
    });
  }

  it('refuses a bad value inside a nested struct, naming its type', () => {
    const meta = new SchemaMeta([{ struct: ['string', { struct: ['u16'] }] }], [new SchemaStruct(['string', { struct: ['u16'] }], ['ok', new SchemaStruct(['u16'], [-3])])]);
    expect(() => encodeMeta(meta)).to.throw(TypeError, /archive u16 .*-3/);
  });

  it('accepts the extremes of every integer type', () => {
    const kinds: FieldKind[] = ['i8', 'i8', 'i16', 'i16', 'i32', 'i32', 'i64', 'i64', 'u8', 'u16', 'u32', 'u64', 'usize'];
    const values = [-128, 127, -32768, 32767, -(2 ** 31), 2 ** 31 - 1, -(2n ** 63n), 2n ** 63n - 1n, 255, 65535, 2 ** 32 - 1, 2n ** 64n - 1n, Number.MAX_SAFE_INTEGER];
    expect(encodeMeta(new SchemaMeta(kinds, values)).byteLength).to.equal(16 + 2 + 4 + 8 + 16 + 1 + 2 + 4 + 8 + 8);
  });

  it('refuses nesting deeper than maxDepth on encode', () => {
    let kind: FieldKind = 'u8';
    let value: unknown = 1;
    for (let i = 0; i < 70; i++) {
      kind = { vector: kind };
      value = [value];
    }
    expect(() => encodeMeta(new SchemaMeta([kind], [value]))).to.throw(TypeError, /nesting deeper than 64/);
  });

  it('still encodes correctly after a refused encode (the scratch buffer is not left dirty)', () => {
    expect(() => encodeMeta(new SchemaMeta(['string', 'i8'], ['a long string that is written first', 999]))).to.throw(TypeError);
    const meta = new LbmMeta();
    meta.send.push(expose(new TextEncoder().encode('unit_test_magic'), 15, BULK_XFER));
    expect(Buffer.from(encodeMeta(meta)).toString('hex')).to.equal('0100000000000000' + '0f00000000000000' + '02000000' + '0000000000000000');
  });
});
