// Exact offsets and stats after every step of a scripted sequence (thi.ng malloc style), on a
// 3 MiB region with 4 KiB pages: tables take the first 57344 bytes, 754 pages follow.
import { expect } from 'chai';
import { ENOMEM, makePointer } from '@lightbeam/core';
import type { LightbeamError, Pointer } from '@lightbeam/core';
import { SlabAllocator } from '@lightbeam/shm';
import { codeOf } from '../support/error-code.js';

const DATA = 57344;
const PAGE = 4096;
const DATA_BYTES = 754 * PAGE;

describe('SlabAllocator exact layout', () => {
  let a: SlabAllocator;
  beforeEach(() => {
    a = SlabAllocator.create(3 << 20, { pageBytes: PAGE, threadSlots: 4, major: 3, minor: 7 });
  });

  it('starts empty with the documented geometry', () => {
    const s = a.stats();
    expect(s.allocId).to.deep.equal({ major: 3, minor: 7 });
    expect([s.regionBytes, s.dataBytes, s.pageBytes]).to.deep.equal([3 << 20, DATA_BYTES, PAGE]);
    expect([s.blocksInUse, s.bytesInUse, s.freeBytes, s.heapFreeBytes, s.highWaterBytes]).to.deep.equal([0, 0, DATA_BYTES, DATA_BYTES, 0]);
    expect(s.classes.map((c) => c.blockBytes)).to.deep.equal(Array.from({ length: 15 }, (_, i) => 64 << i));
  });

  it('hands out class blocks from page spans in address order, with exact stats after every step', () => {
    const p1 = a.allocate(1)!;
    expect(p1).to.deep.equal(makePointer(3, 7, DATA));
    let s = a.stats();
    expect([s.classes[0].blocksInUse, s.classes[0].carvedBlocks, s.classes[0].freeBlocks]).to.deep.equal([1, 64, 63]);
    expect([s.heapFreeBytes, s.highWaterBytes, s.bytesInUse, s.freeBytes]).to.deep.equal([DATA_BYTES - PAGE, PAGE, 64, DATA_BYTES - 64]);

    const p2 = a.allocate(64)!;
    expect(p2.off).to.equal(DATA + 64);
    const p3 = a.allocate(65)!;
    expect(p3.off).to.equal(DATA + PAGE); // class 128 takes page 1
    const p4 = a.allocate(5000)!;
    expect(p4.off).to.equal(DATA + 2 * PAGE); // class 8192 takes pages 2-3
    s = a.stats();
    expect(s.classes.map((c) => c.blocksInUse)).to.deep.equal([2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(s.classes.map((c) => c.carvedBlocks)).to.deep.equal([64, 32, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect([s.blocksInUse, s.bytesInUse, s.heapFreeBytes, s.highWaterBytes]).to.deep.equal([4, 128 + 128 + 8192, DATA_BYTES - 4 * PAGE, 4 * PAGE]);
    expect(s.freeBytes).to.equal(DATA_BYTES - s.bytesInUse);

    a.free(p2);
    s = a.stats();
    expect([s.classes[0].blocksInUse, s.classes[0].freeBlocks, s.blocksInUse]).to.deep.equal([1, 63, 3]);
    // The freed block is the next one handed out (LIFO thread cache).
    expect(a.allocate(60)!.off).to.equal(DATA + 64);
    a.free(p1);
    a.free(p3);
    a.free(p4);
    s = a.stats();
    expect([s.blocksInUse, s.bytesInUse, s.freeBytes]).to.deep.equal([1, 64, DATA_BYTES - 64]);
    // Pages stay with their class: the heap still lends 4 pages, the high-water mark stays.
    expect([s.heapFreeBytes, s.highWaterBytes]).to.deep.equal([DATA_BYTES - 4 * PAGE, 4 * PAGE]);
  });

  it('takes large blocks from the page heap and merges freed neighbours', () => {
    const l1 = a.allocate(1536 * 1024)!; // large: 384 pages
    expect(l1.off).to.equal(DATA);
    const l2 = a.allocate(600 * 1024)!; // class 1 MiB: a 256-page span
    expect(l2.off).to.equal(DATA + 384 * PAGE);
    let s = a.stats();
    expect([s.largeBlocksInUse, s.largeBytesInUse, s.classes[14].blocksInUse]).to.deep.equal([1, 384 * PAGE, 1]);
    expect([s.heapFreeBytes, s.highWaterBytes, s.bytesInUse]).to.deep.equal([(754 - 640) * PAGE, 640 * PAGE, 384 * PAGE + (1 << 20)]);
    a.free(l1);
    s = a.stats();
    expect([s.largeBlocksInUse, s.heapFreeBytes, s.highWaterBytes]).to.deep.equal([0, (754 - 256) * PAGE, 640 * PAGE]);
    a.free(l2);
    s = a.stats();
    expect([s.blocksInUse, s.freeBytes]).to.deep.equal([0, DATA_BYTES]);
  });

  it('merges adjacent freed runs into one', () => {
    const r1 = a.allocate(1200 * 1024)!; // 300 pages
    const r2 = a.allocate(1200 * 1024)!;
    expect([r1.off, r2.off]).to.deep.equal([DATA, DATA + 300 * PAGE]);
    expect(a.allocate(1200 * 1024)).to.equal(null); // 154 pages left
    a.free(r1);
    expect(a.allocate(1300 * 1024)).to.equal(null); // 325 pages: the 300-page hole is too small
    a.free(r2);
    const whole = a.allocate(754 * PAGE)!; // the merged run spans the whole heap
    expect(whole.off).to.equal(DATA);
    const s = a.stats();
    expect([s.largeBlocksInUse, s.largeBytesInUse, s.heapFreeBytes]).to.deep.equal([1, DATA_BYTES, 0]);
    a.free(whole);
    expect(a.stats().freeBytes).to.equal(DATA_BYTES);
  });

  it('reports each misuse with its exact code and leaves the state unchanged', () => {
    const p = a.allocate(100)!;
    const q = a.allocate(3 << 20 >> 1)!;
    const before = a.stats();
    expect(codeOf(() => a.allocate(0))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => a.allocate(-5))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => a.allocate(1.5))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => a.allocate(Number.NaN))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => a.allocate(DATA_BYTES + 1))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => a.free(makePointer(3, 8, p.off)))).to.equal('ERR_LBM_BAD_POINTER');
    expect(codeOf(() => a.free(makePointer(3, 7, p.off + 8)))).to.equal('ERR_LBM_BAD_POINTER');
    expect(codeOf(() => a.free(makePointer(3, 7, p.off + 64)))).to.equal('ERR_LBM_BAD_POINTER'); // inside the 128 B block
    expect(codeOf(() => a.free(makePointer(3, 7, q.off + PAGE)))).to.equal('ERR_LBM_BAD_POINTER'); // inside a large block
    expect(codeOf(() => a.free(makePointer(3, 7, 0)))).to.equal('ERR_LBM_BAD_POINTER'); // the header
    expect(codeOf(() => a.free(makePointer(3, 7, 3 << 20)))).to.equal('ERR_LBM_BAD_POINTER');
    expect(codeOf(() => a.free(makePointer(3, 7, DATA + 200 * PAGE)))).to.equal('ERR_LBM_BAD_POINTER'); // a free page
    expect(codeOf(() => a.free(makePointer(3, 7, p.off + 128)))).to.equal('ERR_LBM_DOUBLE_FREE'); // a free block start
    expect(a.stats()).to.deep.equal(before);
    a.free(p);
    a.free(q);
    const after = a.stats();
    expect(codeOf(() => a.free(p))).to.equal('ERR_LBM_DOUBLE_FREE');
    expect(codeOf(() => a.free(q))).to.equal('ERR_LBM_DOUBLE_FREE');
    expect(a.stats()).to.deep.equal(after);
    expect(after.blocksInUse).to.equal(0);
  });

  it('returns null when exhausted, throws ENOMEM from allocateOrThrow, and succeeds again after frees', () => {
    const held: Pointer[] = [];
    for (let p = a.allocate(65536); p !== null; p = a.allocate(65536)) held.push(p);
    expect(held.length).to.equal(Math.floor(754 / 16));
    const e = (() => {
      try {
        a.allocateOrThrow(65536);
      } catch (err) {
        return err as LightbeamError;
      }
      return null;
    })();
    expect(e?.code).to.equal('ERR_LBM_NOMEM');
    expect(e?.errno).to.equal(ENOMEM);
    for (const p of held.splice(0, 3)) a.free(p);
    expect(a.stats().classes[10].freeBlocks).to.equal(3);
    for (let i = 0; i < 3; i++) held.push(a.allocateOrThrow(65536));
    expect(a.allocate(65536)).to.equal(null);
    for (const p of held) a.free(p);
    expect(a.stats().blocksInUse).to.equal(0);
  });

  it('gives 64-byte aligned blocks that any typed-array view can cover', () => {
    const p = a.allocate(200)!;
    expect(p.off % 64).to.equal(0);
    const f = new Float64Array(a.sab, p.off, 25);
    f[24] = 1.5;
    expect(new Float64Array(a.sab, p.off, 25)[24]).to.equal(1.5);
    expect(new BigInt64Array(a.sab, p.off, 25).length).to.equal(25);
  });

  it('attaches from the buffer alone and sees the same state', () => {
    const p = a.allocate(64)!;
    const b = SlabAllocator.attach(a.sab);
    expect(b.id).to.deep.equal({ major: 3, minor: 7 });
    expect(b.stats().blocksInUse).to.equal(1);
    b.free(p);
    expect(a.stats().blocksInUse).to.equal(0);
    expect(() => SlabAllocator.attach(new SharedArrayBuffer(4096))).to.throw(TypeError, /no initialised slab region/);
  });

  it('reports the largest block a request can get: pages carved into a size class stay there after everything is freed', () => {
    expect(a.stats().largestFreeBytes).to.equal(DATA_BYTES);
    // Carve the whole region into 64 B blocks, then free them all.
    const held: Pointer[] = [];
    for (let p = a.allocate(64); p !== null; p = a.allocate(64)) held.push(p);
    for (const p of held) a.free(p);
    const s = a.stats();
    expect(s.blocksInUse).to.equal(0);
    expect(s.freeBytes, 'every byte is free').to.equal(DATA_BYTES);
    // ...but none of it as pages: a request above the largest class block gets nothing, and the
    // stats say so instead of promising freeBytes.
    expect(s.largestFreeBytes).to.equal(64);
    expect(a.allocate(2 * PAGE)).to.equal(null);
    expect(a.allocate(64)).to.not.equal(null);
  });
});
