import { expect } from 'chai';
import type { ArchiveLimits } from '@lightbeam/core';
import { DEFAULT_ARCHIVE_LIMITS, LbmMeta, decodeMeta, encodeMeta, resolveLimits } from '@lightbeam/core';
import type { FieldKind } from '../contract/random-meta.js';
import { SchemaMeta, emptyLike } from '../contract/random-meta.js';
import { bulk, concat, frameWith, str, u32, u64 } from './support/frame-bytes.js';

const limits = (over: Partial<ArchiveLimits>): ArchiveLimits => resolveLimits(over);

/** Decodes `frame` into a fresh meta of `fields` under `lim`; returns the code. */
function decodeAs(frame: Uint8Array, fields: readonly FieldKind[], lim?: ArchiveLimits): number {
  return decodeMeta(frame, new SchemaMeta(fields), lim);
}

/** A field nesting `depth` levels, alternating vectors and structs, around a u8. */
function nested(depth: number): FieldKind {
  let kind: FieldKind = 'u8';
  for (let i = 0; i < depth; i++) kind = i % 2 === 0 ? { vector: kind } : { struct: [kind] };
  return kind;
}

describe('archive decoding limits', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_ARCHIVE_LIMITS).to.deep.equal({
      maxBulks: 65536,
      maxBulkSize: Number.MAX_SAFE_INTEGER,
      maxStringBytes: 16 * 1024 * 1024,
      maxVectorLength: 1 << 24,
      maxDepth: 64,
    });
    expect(resolveLimits()).to.equal(DEFAULT_ARCHIVE_LIMITS);
    expect(resolveLimits({ maxDepth: 3 }).maxBulks).to.equal(65536);
  });

  it('maxBulks: a send or recv vector with more bulks is refused with -1, at the limit accepted', () => {
    const three = frameWith([bulk(1, 2), bulk(2, 2), bulk(3, 2)]);
    expect(decodeMeta(three, new LbmMeta(), limits({ maxBulks: 3 }))).to.equal(0);
    expect(decodeMeta(three, new LbmMeta(), limits({ maxBulks: 2 }))).to.equal(-1);
    const recvThree = concat(u64(0), u64(3), bulk(1, 2), bulk(2, 2), bulk(3, 2));
    expect(decodeMeta(recvThree, new LbmMeta(), limits({ maxBulks: 3 }))).to.equal(0);
    expect(decodeMeta(recvThree, new LbmMeta(), limits({ maxBulks: 2 }))).to.equal(-1);
  });

  it('maxBulkSize: a descriptor claiming more bytes is refused with -1, at the limit accepted', () => {
    const frame = frameWith([bulk(1000, 2)]);
    expect(decodeMeta(frame, new LbmMeta(), limits({ maxBulkSize: 1000 }))).to.equal(0);
    expect(decodeMeta(frame, new LbmMeta(), limits({ maxBulkSize: 999 }))).to.equal(-1);
  });

  it('maxStringBytes: a longer string or byte array is refused with -1, at the limit accepted', () => {
    const s = frameWith([], str('abcd'));
    expect(decodeAs(s, ['string'], limits({ maxStringBytes: 4 }))).to.equal(0);
    expect(decodeAs(s, ['string'], limits({ maxStringBytes: 3 }))).to.equal(-1);
    const b = encodeMeta(new SchemaMeta(['bytes'], [new Uint8Array(5)]));
    expect(decodeAs(b, ['bytes'], limits({ maxStringBytes: 5 }))).to.equal(0);
    expect(decodeAs(b, ['bytes'], limits({ maxStringBytes: 4 }))).to.equal(-1);
  });

  it('maxVectorLength: a longer vector is refused with -1, at the limit accepted', () => {
    const frame = encodeMeta(new SchemaMeta([{ vector: 'u8' }], [[1, 2, 3]]));
    expect(decodeAs(frame, [{ vector: 'u8' }], limits({ maxVectorLength: 3 }))).to.equal(0);
    expect(decodeAs(frame, [{ vector: 'u8' }], limits({ maxVectorLength: 2 }))).to.equal(-1);
  });

  it('maxDepth: deeper nesting of vectors and structs is refused with -1, at the limit accepted', () => {
    const meta = new SchemaMeta([nested(6)]);
    // struct > vector(1) > struct > vector(1) > struct > vector(1) > u8: six levels.
    const frame = concat(u64(0), u64(0), u64(1), u64(1), u64(1), new Uint8Array([9]));
    const back = emptyLike(meta);
    expect(decodeMeta(frame, back, limits({ maxDepth: 6 }))).to.equal(0);
    expect(decodeMeta(encodeMeta(back), emptyLike(meta), limits({ maxDepth: 6 }))).to.equal(0);
    expect(decodeMeta(frame, emptyLike(meta), limits({ maxDepth: 5 }))).to.equal(-1);
  });

  it('refuses a bulk size of 2^53 or more with -1 and accepts 2^53 - 1', () => {
    for (const size of [2n ** 53n, 2n ** 53n + 1n, 2n ** 60n, 2n ** 64n - 1n]) {
      expect(decodeMeta(frameWith([bulk(size, 2)]), new LbmMeta()), `size ${size}`).to.equal(-1);
    }
    const ok = new LbmMeta();
    expect(decodeMeta(frameWith([bulk(2n ** 53n - 1n, 2)]), ok)).to.equal(0);
    expect(ok.send[0].size).to.equal(Number.MAX_SAFE_INTEGER);
  });

  it('refuses a usize field above 2^53 with -1', () => {
    expect(decodeAs(frameWith([], u64(2n ** 53n)), ['usize'])).to.equal(-1);
    expect(decodeAs(frameWith([], u64(2n ** 53n - 1n)), ['usize'])).to.equal(0);
  });

  it('refuses huge claims (a 2^60-byte bulk, 2^40 bulks, 2^40-byte strings) with -1 without allocating them', () => {
    const open = limits({ maxBulks: Number.MAX_SAFE_INTEGER, maxStringBytes: Number.MAX_SAFE_INTEGER, maxVectorLength: Number.MAX_SAFE_INTEGER });
    const before = process.memoryUsage();
    const cases: Array<[string, Uint8Array, FieldKind[]]> = [
      ['2^60-byte bulk', frameWith([bulk(2n ** 60n, 2)]), []],
      ['2^40 send bulks', concat(u64(2n ** 40n), bulk(1, 2)), []],
      ['2^40 recv bulks', concat(u64(0), u64(2n ** 40n), bulk(1, 2)), []],
      ['2^31 - 1 send bulks', concat(u64(2 ** 31 - 1), bulk(1, 2)), []],
      ['2^40-byte string', frameWith([], u64(2n ** 40n), new Uint8Array(8)), ['string']],
      ['2^40-byte bytes', frameWith([], u64(2n ** 40n), new Uint8Array(8)), ['bytes']],
      ['2^40-element vector', frameWith([], u64(2n ** 40n), new Uint8Array(8)), [{ vector: 'u8' }]],
      ['2^30-element vector of vectors', frameWith([], u64(2 ** 30), u64(0)), [{ vector: { vector: 'u8' } }]],
    ];
    for (const [what, frame, fields] of cases) {
      expect(decodeAs(frame, fields, open), `${what} (open limits)`).to.equal(-1);
      expect(decodeAs(frame, fields), `${what} (default limits)`).to.equal(-1);
    }
    const after = process.memoryUsage();
    // Any of these claims honoured would need gigabytes; a few MiB is noise.
    expect(after.arrayBuffers - before.arrayBuffers).to.be.below(64 << 20);
    expect(after.heapUsed - before.heapUsed).to.be.below(256 << 20);
  });

  it('refuses counts that exceed the bytes present even within the limits', () => {
    expect(decodeMeta(concat(u64(2), bulk(1, 2), u64(0)), new LbmMeta())).to.equal(-1);
    expect(decodeAs(frameWith([], u64(5), new TextEncoder().encode('abcd')), ['string'])).to.equal(-1);
    expect(decodeAs(frameWith([], u64(3), u32(1), u32(2)), [{ vector: 'u32' }])).to.equal(-1);
  });

  it('decodes a string with invalid UTF-8 to replacement characters instead of failing', () => {
    const meta = new SchemaMeta(['string']);
    expect(decodeMeta(frameWith([], u64(3), Uint8Array.of(0x61, 0xff, 0xc3)), meta)).to.equal(0);
    expect(meta.values[0]).to.equal('a\ufffd\ufffd');
  });

  it('leaves send and recv untouched when decoding fails, and replaces them on success', () => {
    const meta = new SchemaMeta(['i32', 'string']);
    const send = [{ data: null, size: 99, flags: 3 }];
    const recv = [{ data: null, size: 98, flags: 1 }];
    meta.send = send;
    meta.recv = recv;
    const good = frameWith([bulk(5, 2)], u32(7), str('ok'));
    // Truncated inside the custom string: the bulk vectors decoded fine, the frame did not.
    expect(decodeMeta(good.subarray(0, good.byteLength - 1), meta)).to.equal(-1);
    expect(meta.send).to.equal(send);
    expect(meta.recv).to.equal(recv);
    expect(send).to.deep.equal([{ data: null, size: 99, flags: 3 }]);
    expect(recv).to.deep.equal([{ data: null, size: 98, flags: 1 }]);
    expect(decodeMeta(good, meta)).to.equal(0);
    expect(meta.send).to.not.equal(send);
    expect(meta.send).to.deep.equal([{ data: null, size: 5, flags: 2 }]);
    expect(meta.recv).to.deep.equal([]);
    expect(meta.values).to.deep.equal([7, 'ok']);
  });
});
