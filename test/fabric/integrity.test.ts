/**
 * 1 MiB bulks over kFabric byte for byte, with both providers: many messages in flight, several
 * bulks per message (inline and read remotely), receive buffers in a SharedArrayBuffer, in-place
 * entries, and the sender's registered copies all released by the server's reads.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { FabricClient } from '@lightbeam/fabric';
import { Prng } from '../support/prng.js';
import type { TransportPair } from '../contract/transport-contract.js';
import { PROVIDERS, SKIP_NOTE, makePair, skipWithoutFabric } from './support/fabric-pair.js';

const MiB = 1 << 20;

function pattern(seed: number, size: number): Uint8Array {
  const rng = new Prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const v = rng.nextU32();
    out[i] = v;
    if (i + 1 < size) out[i + 1] = v >>> 8;
    if (i + 2 < size) out[i + 2] = v >>> 16;
    if (i + 3 < size) out[i + 3] = v >>> 24;
  }
  return out;
}

for (const p of PROVIDERS) {
  describe(`fabric ${p.label}: 1 MiB integrity${SKIP_NOTE}`, function () {
    this.timeout(60_000);
    let pair: TransportPair | undefined;

    before(function () {
      skipWithoutFabric(this);
    });

    beforeEach(async () => {
      pair = await makePair(p);
    });

    afterEach(async () => {
      await pair?.cleanup();
      pair = undefined;
    });

    it('delivers 16 messages of 1 MiB sent back to back, each byte for byte, into SharedArrayBuffer views', async () => {
      const { client, server } = pair as TransportPair;
      const sent: Uint8Array[] = [];
      for (let i = 0; i < 16; i++) {
        const data = pattern(1000 + i, MiB);
        sent.push(data);
        const m = new LbmMeta();
        m.send.push(client.expose(data, MiB, BULK_XFER));
        expect(await client.send(m, { timeoutMs: 10_000 }), `send #${i}`).to.equal(0);
        // The sender may reuse its buffer at once: the bytes were copied.
        data.fill(0xff);
        sent[i] = pattern(1000 + i, MiB);
      }
      const sab = new Uint8Array(new SharedArrayBuffer(MiB + 64)).fill(0xa5);
      for (let i = 0; i < 16; i++) {
        const m = new LbmMeta();
        expect(await server.waitMetadata(m, { timeoutMs: 10_000 }), `wait #${i}`).to.equal(0);
        expect(m.send.map((b) => b.size)).to.deep.equal([MiB]);
        m.recv.push(server.expose(sab.subarray(32, 32 + MiB), MiB, BULK_XFER));
        expect(await server.recvBulks(m), `recvBulks #${i}`).to.equal(0);
        expect(Buffer.compare(sab.subarray(32, 32 + MiB), sent[i]), `data #${i}`).to.equal(0);
        expect(sab.subarray(0, 32).every((x) => x === 0xa5) && sab.subarray(32 + MiB).every((x) => x === 0xa5), 'canaries').to.equal(true);
      }
      // Every registered copy was released by the server once read (bounded wait).
      const fc = client as FabricClient;
      for (let i = 0; i < 200 && fc.unreleasedMessages > 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(fc.unreleasedMessages).to.equal(0);
    });

    it('mixes inline and remote bulks, EXPOSE descriptors and in-place entries in one message', async () => {
      const { client, server } = pair as TransportPair;
      const sizes = [0, 1, 100, 8 * 1024, MiB, MiB + 3, 777_777];
      const parts = sizes.map((s, i) => pattern(50 + i, s));
      const m = new LbmMeta();
      for (const part of parts) m.send.push(client.expose(part, part.byteLength, BULK_XFER));
      m.send.push(client.expose(new Uint8Array(9), 9, BULK_EXPOSE));
      expect(await client.send(m, { timeoutMs: 10_000 })).to.equal(0);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 10_000 })).to.equal(0);
      expect(got.send.map((b) => b.size)).to.deep.equal([...sizes, 9]);
      const bufs: Array<Uint8Array | null> = [];
      for (let i = 0; i < sizes.length; i++) {
        // Every other entry receives in place (no buffer of ours).
        const buf = i % 2 === 0 ? new Uint8Array(sizes[i]) : null;
        bufs.push(buf);
        got.recv.push(buf === null ? { data: null, size: sizes[i], flags: BULK_XFER } : server.expose(buf, sizes[i], BULK_XFER));
      }
      got.recv.push(server.expose(new Uint8Array(9).fill(1), 9, BULK_EXPOSE));
      expect(await server.recvBulks(got)).to.equal(0);
      for (let i = 0; i < sizes.length; i++) {
        const view = bufs[i] ?? (got.recv[i].data?.ptr as Uint8Array);
        expect(Buffer.compare(view, parts[i]), `bulk #${i} (${sizes[i]} B)`).to.equal(0);
      }
      expect(got.recv[sizes.length].data?.ptr.every((x) => x === 1)).to.equal(true);
    });

    it('reads only what a smaller receive buffer holds, and leaves the rest of it alone', async () => {
      const { client, server } = pair as TransportPair;
      const data = pattern(7, MiB);
      const m = new LbmMeta();
      m.send.push(client.expose(data, MiB, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 10_000 })).to.equal(0);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 10_000 })).to.equal(0);
      const buf = new Uint8Array(MiB).fill(0xee);
      got.recv.push(server.expose(buf, 1000, BULK_XFER));
      expect(await server.recvBulks(got)).to.equal(0);
      expect(Buffer.compare(buf.subarray(0, 1000), data.subarray(0, 1000))).to.equal(0);
      expect(buf.subarray(1000).every((x) => x === 0xee)).to.equal(true);
    });
  });
}
