import { expect } from 'chai';
import type { Archive } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, decodeMeta, encodeMeta, encodeMetaWith } from '@lightbeam/core';
import { Prng, testSeed } from '../support/prng.js';
import type { FieldKind } from '../contract/random-meta.js';
import { SCALAR_KINDS, SchemaMeta, SchemaStruct, emptyLike, randomMeta, randomValue } from '../contract/random-meta.js';

/** A fixed meta declaring every archive type once, nested vectors and nested structs. */
class Inner {
  id = 0;
  tags: string[] = [];
  serialize(ar: Archive): void {
    this.id = ar.u16(this.id);
    this.tags = ar.vector(this.tags, (a, t) => a.string(t));
  }
}

class Outer {
  name = '';
  inner = new Inner();
  serialize(ar: Archive): void {
    this.name = ar.string(this.name);
    this.inner = ar.object(this.inner, () => new Inner());
  }
}

class EveryTypeMeta extends LbmMeta {
  a = 0;
  b = 0;
  c = 0;
  d = 0n;
  e = 0;
  f = 0;
  g = 0;
  h = 0n;
  size = 0;
  x = 0;
  y = 0;
  ok = false;
  text = '';
  blob: Uint8Array = new Uint8Array(0);
  matrix: number[][] = [];
  outer = new Outer();
  outers: Outer[] = [];
  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.a = ar.i8(this.a);
    this.b = ar.i16(this.b);
    this.c = ar.i32(this.c);
    this.d = ar.i64(this.d);
    this.e = ar.u8(this.e);
    this.f = ar.u16(this.f);
    this.g = ar.u32(this.g);
    this.h = ar.u64(this.h);
    this.size = ar.usize(this.size);
    this.x = ar.f32(this.x);
    this.y = ar.f64(this.y);
    this.ok = ar.bool(this.ok);
    this.text = ar.string(this.text);
    this.blob = ar.bytes(this.blob);
    this.matrix = ar.vector(this.matrix, (a, row) => a.vector(row, (b, v) => b.i32(v)));
    this.outer = ar.object(this.outer, () => new Outer());
    this.outers = ar.vector(this.outers, (a, o) => a.object(o, () => new Outer()));
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('archive round trips', () => {
  it('encodes every field type at the exact cereal offsets and decodes it back', () => {
    const m = new EveryTypeMeta();
    m.send = [{ data: null, size: 7, flags: BULK_XFER }];
    m.recv = [{ data: null, size: 9, flags: BULK_EXPOSE }];
    m.a = -2;
    m.b = -300;
    m.c = 42;
    m.d = -(2n ** 40n);
    m.e = 200;
    m.f = 65000;
    m.g = 0xdeadbeef;
    m.h = 2n ** 64n - 2n;
    m.size = 2 ** 40 + 3;
    m.x = 1.5;
    m.y = -0.1;
    m.ok = true;
    m.text = 'é';
    m.blob = Uint8Array.of(9, 8);
    m.matrix = [[1, -1], []];
    m.outer.name = 'o';
    m.outer.inner.id = 7;
    m.outer.inner.tags = ['', 'ß'];
    const frame = encodeMeta(m);
    const expected =
      '0100000000000000' + '0700000000000000' + '02000000' +
      '0100000000000000' + '0900000000000000' + '01000000' +
      'fe' + 'd4fe' + '2a000000' + '0000000000ffffff' + 'c8' + 'e8fd' + 'efbeadde' + 'feffffffffffffff' +
      '0300000000010000' + '0000c03f' + '9a9999999999b9bf' + '01' +
      '0200000000000000' + 'c3a9' + '0200000000000000' + '0908' +
      '0200000000000000' + '0200000000000000' + '01000000' + 'ffffffff' + '0000000000000000' +
      '0100000000000000' + '6f' + '0700' + '0200000000000000' + '0000000000000000' + '0200000000000000' + 'c39f' +
      '0000000000000000';
    expect(hex(frame)).to.equal(expected);

    const back = new EveryTypeMeta();
    expect(decodeMeta(frame, back)).to.equal(0);
    expect(back).to.deep.equal(m);
  });

  it('round-trips 300 random metas (every field type, nested vectors and structs) exactly', () => {
    const seed = testSeed(0x5eed_0001);
    const rng = new Prng(seed);
    for (let i = 0; i < 300; i++) {
      const meta = randomMeta(rng, rng.int(0, 8));
      const frame = encodeMeta(meta);
      const back = emptyLike(meta);
      back.send = [{ data: null, size: 1, flags: 1 }];
      expect(decodeMeta(frame, back), `seed ${seed} meta #${i}`).to.equal(0);
      expect(back.send, `seed ${seed} meta #${i} send`).to.deep.equal(meta.send);
      expect(back.recv, `seed ${seed} meta #${i} recv`).to.deep.equal(meta.recv);
      expect(back.values, `seed ${seed} meta #${i} values`).to.deep.equal(meta.values);
      // The same frame re-encoded from the decoded meta is byte-identical: nothing was lost.
      expect(hex(encodeMeta(back)), `seed ${seed} meta #${i} re-encode`).to.equal(hex(frame));
    }
  });

  it('covers every scalar kind in every random schema', () => {
    const meta = randomMeta(new Prng(testSeed(3)), 0);
    for (const k of SCALAR_KINDS) expect(meta.fields).to.include(k);
    expect(meta.fields.some((f) => typeof f === 'object' && 'vector' in f && typeof f.vector === 'object')).to.equal(true);
    expect(meta.fields.some((f) => typeof f === 'object' && 'struct' in f)).to.equal(true);
    expect(meta.values.some((v) => v instanceof SchemaStruct)).to.equal(true);
  });

  it('hands encodeMetaWith the same bytes as encodeMeta without a copy', () => {
    const meta = randomMeta(new Prng(testSeed(7)));
    const frame = encodeMeta(meta);
    const seen = encodeMetaWith(meta, (view) => hex(view));
    expect(seen).to.equal(hex(frame));
  });

  it('ignores trailing bytes: a plain LbmMeta reads the descriptors of any custom frame', () => {
    const rng = new Prng(testSeed(11));
    for (let i = 0; i < 50; i++) {
      const meta = randomMeta(rng);
      const frame = encodeMeta(meta);
      const plain = new LbmMeta();
      expect(decodeMeta(frame, plain)).to.equal(0);
      expect(plain.send).to.deep.equal(meta.send);
      expect(plain.recv).to.deep.equal(meta.recv);
      // Garbage after the declared fields is ignored by the full class too.
      const padded = new Uint8Array(frame.byteLength + 13).fill(0xee);
      padded.set(frame);
      const back = emptyLike(meta);
      expect(decodeMeta(padded, back)).to.equal(0);
      expect(back.values).to.deep.equal(meta.values);
    }
  });

  it('decodes from a view at a non-zero offset of a larger buffer', () => {
    const meta = randomMeta(new Prng(testSeed(13)));
    const frame = encodeMeta(meta);
    const big = new Uint8Array(frame.byteLength + 10);
    big.set(frame, 5);
    const back = emptyLike(meta);
    expect(decodeMeta(big.subarray(5, 5 + frame.byteLength), back)).to.equal(0);
    expect(back.values).to.deep.equal(meta.values);
  });

  it('encodes a meta larger than the scratch buffer (1 MiB string) and decodes it', () => {
    const meta = new SchemaMeta(['string', 'bytes'], ['x'.repeat(1 << 20), new Uint8Array(70_000).fill(3)]);
    const frame = encodeMeta(meta);
    expect(frame.byteLength).to.equal(16 + 8 + (1 << 20) + 8 + 70_000);
    const back = emptyLike(meta);
    expect(decodeMeta(frame, back)).to.equal(0);
    expect(back.values).to.deep.equal(meta.values);
  });

  it('keeps every value when a frame outgrows its buffer in the middle of a fixed-width field', () => {
    // Regression: a write evaluated its target buffer before claiming room, so the value landed
    // in the old buffer when that claim moved the frame. Many 4 KiB frames of fixed-width fields,
    // encoded back to back, cross every buffer boundary at all kinds of fields.
    const row: FieldKind = { struct: ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'usize', 'f32', 'f64', 'bool'] };
    const rng = new Prng(testSeed(17));
    for (let i = 0; i < 40; i++) {
      const meta = new SchemaMeta([{ vector: row }, 'i64'], [randomValue(rng, { vector: row }, 100 + rng.int(0, 7)), -7n]);
      const frame = encodeMeta(meta);
      const back = emptyLike(meta);
      expect(decodeMeta(frame, back), `frame #${i}`).to.equal(0);
      expect(back.values, `frame #${i}`).to.deep.equal(meta.values);
    }
  });

  it('returns a frame that later encodes do not overwrite', () => {
    const a = encodeMeta(new SchemaMeta(['string'], ['first']));
    const snapshot = hex(a);
    encodeMeta(new SchemaMeta(['string'], ['second!']));
    expect(hex(a)).to.equal(snapshot);
  });

  it('encodes correctly when serialize re-enters encodeMeta', () => {
    class Reentrant extends LbmMeta {
      nested: Uint8Array = new Uint8Array(0);
      override serialize(ar: Archive): void {
        super.serialize(ar);
        if (!ar.reading) this.nested = encodeMeta(new SchemaMeta(['i32'], [5]));
        this.nested = ar.bytes(this.nested);
      }
    }
    const frame = encodeMeta(new Reentrant());
    const back = new Reentrant();
    expect(decodeMeta(frame, back)).to.equal(0);
    expect(hex(back.nested)).to.equal('00'.repeat(16) + '05000000');
  });
});
