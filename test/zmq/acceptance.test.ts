/**
 * The C++ acceptance cases over real ZeroMQ sockets, ported so that they fail instead of printing;
 * each runs over tcp, ipc and inproc, with and without batching.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import type { ZeroMqClient, ZeroMqClientOptions, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { PROTOCOLS, clientFor, closeAll, makeServer } from './support/zmq-pair.js';
import { RequestMeta } from '../support/metas.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const WAIT = { timeoutMs: 5000 };

const VARIANTS: Array<[string, ZeroMqClientOptions]> = [
  ['plain', {}],
  ['batched', { batch: true }],
];

for (const protocol of PROTOCOLS) {
  for (const [variant, clientOptions] of VARIANTS) {
    describe(`ZeroMQ acceptance over ${protocol} (${variant})`, () => {
      let server: ZeroMqServer;
      let client: ZeroMqClient;

      beforeEach(async () => {
        server = await makeServer(protocol);
        client = await clientFor(server, protocol, clientOptions);
      });

      afterEach(async () => {
        await closeAll(client, server);
      });

      async function sendParts(parts: string[], meta: LbmMeta = new LbmMeta()): Promise<void> {
        for (const p of parts) meta.send.push(client.expose(utf8(p), utf8(p).length, BULK_XFER));
        expect(await client.send(meta, WAIT)).to.equal(0);
      }

      async function receiveAll(meta: LbmMeta): Promise<Uint8Array[]> {
        expect(await server.waitMetadata(meta, WAIT)).to.equal(0);
        const bufs = meta.send.map((b) => new Uint8Array(b.size));
        meta.send.forEach((b, i) => meta.recv.push(server.expose(bufs[i], b.size, b.flags)));
        expect(await server.recvBulks(meta)).to.equal(0);
        return bufs;
      }

      it('carries the 15-byte magic string', async () => {
        await sendParts(['unit_test_magic']);
        const meta = new LbmMeta();
        const [buf] = await receiveAll(meta);
        expect(meta.send.map((b) => [b.size, b.flags])).to.deep.equal([[15, BULK_XFER]]);
        expect(text(buf)).to.equal('unit_test_magic');
      });

      it('carries a custom meta (42, test_op) with two bulks', async () => {
        const m = new RequestMeta();
        m.requestId = 42;
        m.operation = 'test_op';
        await sendParts(['Hello, World!', 'Testing Lightbeam'], m);
        const got = new RequestMeta();
        const bufs = await receiveAll(got);
        expect([got.requestId, got.operation]).to.deep.equal([42, 'test_op']);
        expect(bufs.map(text)).to.deep.equal(['Hello, World!', 'Testing Lightbeam']);
      });

      it('carries four bulks in order', async () => {
        const parts = ['Chunk 1', 'Chunk 2 is longer', 'Chunk 3', 'Final chunk 4'];
        await sendParts(parts);
        expect((await receiveAll(new LbmMeta())).map(text)).to.deep.equal(parts);
      });

      it('carries metadata only', async () => {
        const m = new RequestMeta();
        m.requestId = 7;
        m.operation = 'meta_only';
        expect(await client.send(m, WAIT)).to.equal(0);
        const got = new RequestMeta();
        expect(await server.waitMetadata(got, WAIT)).to.equal(0);
        expect([got.requestId, got.operation, got.send.length]).to.deep.equal([7, 'meta_only', 0]);
        expect(await server.recvBulks(got)).to.equal(0);
      });

      it('sends an EXPOSE-only bulk as its size alone (data null, no data frame)', async () => {
        const m = new LbmMeta();
        m.send.push(client.expose(utf8('not transmitted'), 15, BULK_EXPOSE));
        expect(await client.send(m, WAIT)).to.equal(0);
        const got = new LbmMeta();
        expect(await server.waitMetadata(got, WAIT)).to.equal(0);
        expect(got.send).to.deep.equal([{ data: null, size: 15, flags: BULK_EXPOSE }]);
        const untouched = new Uint8Array(15).fill(0xaa);
        got.recv.push(server.expose(untouched, 15, BULK_EXPOSE));
        expect(await server.recvBulks(got)).to.equal(0);
        expect(untouched.every((b) => b === 0xaa)).to.equal(true);
      });

      it('carries 1 MiB intact', async () => {
        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
        const m = new LbmMeta();
        m.send.push(client.expose(big, big.length, BULK_XFER));
        expect(await client.send(m, WAIT)).to.equal(0);
        const [buf] = await receiveAll(new LbmMeta());
        expect(Buffer.compare(buf, big)).to.equal(0);
      });

      it('returns the bind address from getAddress', () => {
        expect(server.getAddress()).to.equal(client.getAddress());
        expect(server.getAddress()).to.be.a('string').and.not.equal('');
      });

      it('resolves EAGAIN at once on an empty server', async () => {
        expect(await server.recvMetadata(new LbmMeta())).to.equal(EAGAIN);
      });

      it('truncates into a smaller buffer and keeps the tail of a larger one', async () => {
        await sendParts(['0123456789', 'abc']);
        const got = new LbmMeta();
        expect(await server.waitMetadata(got, WAIT)).to.equal(0);
        const small = new Uint8Array(4);
        const large = new Uint8Array(6).fill(0x2e);
        got.recv.push(server.expose(small, 4, BULK_XFER), server.expose(large, 6, BULK_XFER));
        expect(await server.recvBulks(got)).to.equal(0);
        expect(text(small)).to.equal('0123');
        expect(text(large)).to.equal('abc...');
      });

      for (const [name, wanted] of [
        ['fewer', 1],
        ['more', 3],
      ] as const) {
        it(`yields -1 for ${name} XFER entries than data frames, and the next message arrives intact`, async () => {
          await sendParts(['one', 'two']);
          await sendParts(['next']);
          const got = new LbmMeta();
          expect(await server.waitMetadata(got, WAIT)).to.equal(0);
          for (let i = 0; i < wanted; i++) got.recv.push(server.expose(new Uint8Array(8), 8, BULK_XFER));
          expect(await server.recvBulks(got)).to.equal(-1);
          const [buf] = await receiveAll(new LbmMeta());
          expect(text(buf)).to.equal('next');
        });
      }

      it('keeps the order of many concurrent sends', async () => {
        const n = 200;
        const sends: Promise<number>[] = [];
        for (let i = 0; i < n; i++) {
          const m = new RequestMeta();
          m.requestId = i;
          m.operation = `op-${i}`;
          m.send.push(client.expose(utf8(`payload ${i}`), utf8(`payload ${i}`).length, BULK_XFER));
          sends.push(client.send(m, WAIT));
        }
        expect(await Promise.all(sends)).to.deep.equal(new Array(n).fill(0));
        for (let i = 0; i < n; i++) {
          const got = new RequestMeta();
          const [buf] = await receiveAll(got);
          expect([got.requestId, text(buf)]).to.deep.equal([i, `payload ${i}`]);
        }
      });
    });
  }
}
