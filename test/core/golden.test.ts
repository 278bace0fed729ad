import { expect } from 'chai';
import { BULK_XFER, LbmMeta, decodeMeta, encodeMeta, expose } from '@lightbeam/core';
import { RequestMeta } from '../support/metas.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('golden metadata frames (cereal binary archive, from the C++ code)', () => {
  it('encodes an LbmMeta with one XFER bulk of size 15 as the 28 C++ bytes', () => {
    const meta = new LbmMeta();
    meta.send.push(expose(new TextEncoder().encode('unit_test_magic'), 15, BULK_XFER));
    expect(hex(encodeMeta(meta))).to.equal('0100000000000000' + '0f00000000000000' + '02000000' + '0000000000000000');
  });

  it('encodes an empty LbmMeta as 16 zero bytes', () => {
    expect(hex(encodeMeta(new LbmMeta()))).to.equal('00'.repeat(16));
  });

  it('encodes the custom meta {13-byte XFER bulk, 42, "test_op"} as the 47 C++ bytes', () => {
    const meta = new RequestMeta();
    meta.send.push(expose(new TextEncoder().encode('Hello, World!'), 13, BULK_XFER));
    meta.requestId = 42;
    meta.operation = 'test_op';
    const frame = encodeMeta(meta);
    expect(frame.byteLength).to.equal(47);
    expect(hex(frame)).to.equal(
      '0100000000000000' + '0d00000000000000' + '02000000' + '0000000000000000' + '2a000000' + '0700000000000000' + hex(new TextEncoder().encode('test_op')),
    );
  });

  it('decodes the 47 golden bytes back into the custom meta', () => {
    const frame = Buffer.from('01000000000000000d00000000000000020000000000000000000000' + '2a000000' + '0700000000000000' + '746573745f6f70', 'hex');
    const meta = new RequestMeta();
    expect(decodeMeta(frame, meta)).to.equal(0);
    expect(meta.requestId).to.equal(42);
    expect(meta.operation).to.equal('test_op');
    expect(meta.send).to.deep.equal([{ data: null, size: 13, flags: BULK_XFER }]);
    expect(meta.recv).to.deep.equal([]);
  });
});
