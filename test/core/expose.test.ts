import { expect } from 'chai';
import type { FullPtr } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, NULL_POINTER, expose, makePointer } from '@lightbeam/core';
import { createLoopbackPair } from '../support/loopback-transport.js';

describe('expose', () => {
  it('builds a descriptor over the caller view without copying', () => {
    const buf = new Uint8Array(16);
    const b = expose(buf, 10, BULK_XFER);
    expect(b.size).to.equal(10);
    expect(b.flags).to.equal(BULK_XFER);
    expect(b.data?.ptr).to.equal(buf);
    expect(b.data?.shm).to.deep.equal(NULL_POINTER);
  });

  it('accepts views of a SharedArrayBuffer and at an offset', () => {
    const sab = new Uint8Array(new SharedArrayBuffer(32), 8, 16);
    const b = expose(sab, 16, BULK_EXPOSE);
    expect(b.data?.ptr).to.equal(sab);
    sab[0] = 7;
    expect(b.data?.ptr[0]).to.equal(7);
  });

  it('passes a FullPtr through as it is', () => {
    const full: FullPtr = { ptr: new Uint8Array(4), shm: makePointer(3, 4, 128) };
    expect(expose(full, 4, BULK_XFER).data).to.equal(full);
  });

  it('is the same on Client and Server', () => {
    const { client, server } = createLoopbackPair();
    const buf = new Uint8Array(3);
    expect(client.expose(buf, 3, 3)).to.deep.equal(expose(buf, 3, 3));
    expect(server.expose(buf, 3, 1)).to.deep.equal(expose(buf, 3, 1));
    expect(() => client.expose(buf, 4, 2)).to.throw(RangeError);
    expect(() => server.expose(buf, -1, 2)).to.throw(RangeError);
  });

  for (const size of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    it(`refuses size ${size} with a RangeError naming the size`, () => {
      expect(() => expose(new Uint8Array(4), size, BULK_XFER)).to.throw(RangeError, /expose size/);
    });
  }

  it('refuses a size past the end of the view, naming both', () => {
    expect(() => expose(new Uint8Array(4), 5, BULK_XFER)).to.throw(RangeError, /size 5 exceeds the 4-byte view/);
  });

  for (const flags of [-1, 2 ** 32, 0.5, NaN]) {
    it(`refuses flags ${flags} with a RangeError naming the flags`, () => {
      expect(() => expose(new Uint8Array(4), 4, flags)).to.throw(RangeError, /expose flags/);
    });
  }

  it('builds descriptors with any u32 flags (send validates them, expose does not)', () => {
    expect(expose(new Uint8Array(1), 1, 0xffffffff).flags).to.equal(0xffffffff);
    expect(expose(new Uint8Array(1), 1, 0).flags).to.equal(0);
  });

  for (const [what, data] of [
    ['null', null],
    ['a string', 'bytes'],
    ['a number', 7],
    ['an ArrayBuffer', new ArrayBuffer(4)],
    ['a plain array', [1, 2, 3]],
    ['an empty object', {}],
  ] as Array<[string, unknown]>) {
    it(`refuses ${what} as data with a TypeError naming the argument`, () => {
      expect(() => expose(data as Uint8Array, 1, BULK_XFER)).to.throw(TypeError, /expose data|pointer/);
    });
  }

  it('refuses a Pointer into no region this thread knows', () => {
    expect(() => expose(makePointer(9999, 9999, 0), 4, BULK_XFER)).to.throw(TypeError, /no region/);
  });
});
