/**
 * Contract part 1: the C++ acceptance cases, which bulks travel, and flag rules.
 */
import { expect } from 'chai';
import type { Bulk, LightbeamError } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, encodeMeta } from '@lightbeam/core';
import { Prng, testSeed } from '../support/prng.js';
import type { ContractContext } from './contract-context.js';
import { RequestMeta, numbered, recvAll, recvOk, sendOk, text, utf8, xferMeta } from './contract-context.js';
import { SchemaMeta, randomSchema, randomValue } from './random-meta.js';

/** Registers the message-content rules. */
export function messageRules(ctx: ContractContext): void {
  describe('C++ acceptance cases', () => {
    it('carries the 15-byte magic string unit_test_magic', async () => {
      await sendOk(ctx, xferMeta(ctx, ['unit_test_magic'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      expect(got.send.map((b) => [b.size, b.flags])).to.deep.equal([[15, BULK_XFER]]);
      const [buf] = await recvAll(ctx, got);
      expect(text(buf)).to.equal('unit_test_magic');
    });

    it('carries a custom meta (request id 42, operation test_op) with two bulks', async () => {
      const m = xferMeta(ctx, ['Hello, World!', 'Testing Lightbeam'], new RequestMeta());
      m.requestId = 42;
      m.operation = 'test_op';
      await sendOk(ctx, m);
      const got = await recvOk(ctx, new RequestMeta());
      expect(got.requestId).to.equal(42);
      expect(got.operation).to.equal('test_op');
      expect(got.send.map((b) => b.size)).to.deep.equal([13, 17]);
      expect((await recvAll(ctx, got)).map(text)).to.deep.equal(['Hello, World!', 'Testing Lightbeam']);
    });

    it('carries four bulks of different sizes in order', async () => {
      const parts = ['Chunk 1', 'Chunk 2 is longer', 'Chunk 3', 'Final chunk 4'];
      await sendOk(ctx, xferMeta(ctx, parts, new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      expect(got.send.map((b) => b.size)).to.deep.equal(parts.map((p) => p.length));
      expect((await recvAll(ctx, got)).map(text)).to.deep.equal(parts);
    });

    it('carries metadata only (no bulks) and recvBulks then resolves 0', async () => {
      await sendOk(ctx, numbered(7));
      const got = await recvOk(ctx, new RequestMeta());
      expect(got.requestId).to.equal(7);
      expect(got.send).to.deep.equal([]);
      expect(got.recv).to.deep.equal([]);
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
    });

    it(`delivers an EXPOSE-only bulk as its size with ${ctx.opts.sharesMemory ? 'the live shared bytes' : 'data null'}`, async () => {
      const bytes = utf8('exposed, not transferred');
      const source = ctx.opts.sharesMemory && ctx.opts.placeExposed ? ctx.opts.placeExposed(ctx.pair(), bytes) : bytes;
      const m = new LbmMeta();
      m.send.push(ctx.pair().client.expose(source, bytes.byteLength, BULK_EXPOSE));
      await sendOk(ctx, m);
      const got = await recvOk(ctx, new LbmMeta());
      expect(got.send.length).to.equal(1);
      expect(got.send[0].size).to.equal(bytes.byteLength);
      expect(got.send[0].flags).to.equal(BULK_EXPOSE);
      if (ctx.opts.sharesMemory) {
        const live = got.send[0].data;
        expect(live, 'shared EXPOSE data').to.not.equal(null);
        const view = (live as NonNullable<Bulk['data']>).ptr.subarray(0, bytes.byteLength);
        expect(text(view)).to.equal('exposed, not transferred');
        // Same memory, not a copy: a write on the sender's side shows on the receiver's.
        const senderView = (m.send[0].data as NonNullable<Bulk['data']>).ptr;
        senderView[0] = 0x45;
        expect(view[0]).to.equal(0x45);
      } else {
        expect(got.send[0].data).to.equal(null);
      }
      const canary = new Uint8Array(bytes.byteLength).fill(0xcc);
      got.recv.push(ctx.pair().server.expose(canary, canary.byteLength, got.send[0].flags));
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
      expect([...canary].every((b) => b === 0xcc)).to.equal(true);
    });

    it('carries a 1 MiB bulk byte for byte', async () => {
      const big = new Prng(testSeed(21)).bytes(1 << 20);
      const m = new LbmMeta();
      m.send.push(ctx.pair().client.expose(big, big.byteLength, BULK_XFER));
      await sendOk(ctx, m);
      const got = await recvOk(ctx, new LbmMeta());
      const [buf] = await recvAll(ctx, got);
      expect(Buffer.compare(buf, big)).to.equal(0);
    });
  });

  describe('which bulks travel, and flags', () => {
    it('transmits flags 3 and 2, not 0 or 1, and keeps every descriptor with its flags', async () => {
      const parts = ['zero', 'both', 'expose', 'xfer'];
      const flags = [0, BULK_EXPOSE | BULK_XFER, BULK_EXPOSE, BULK_XFER];
      const m = new LbmMeta();
      parts.forEach((p, i) => m.send.push(ctx.pair().client.expose(utf8(p), p.length, flags[i])));
      await sendOk(ctx, m);
      const got = await recvOk(ctx, new LbmMeta());
      expect(got.send.map((b) => [b.size, b.flags])).to.deep.equal(parts.map((p, i) => [p.length, flags[i]]));
      if (!ctx.opts.sharesMemory) {
        expect(got.send.map((b) => b.data)).to.deep.equal([null, null, null, null]);
      }
      const bufs = parts.map((p) => new Uint8Array(p.length).fill(0xcc));
      bufs.forEach((b, i) => got.recv.push(ctx.pair().server.expose(b, b.byteLength, flags[i])));
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
      expect(text(bufs[1])).to.equal('both');
      expect(text(bufs[3])).to.equal('xfer');
      expect([...bufs[0], ...bufs[2]].every((b) => b === 0xcc), 'non-XFER buffers untouched').to.equal(true);
    });

    for (const bad of [4, 8 | BULK_XFER, 0x80000000, 0xff]) {
      it(`rejects flags 0x${bad.toString(16)} on send with ERR_LBM_UNKNOWN_FLAGS and sends nothing`, async () => {
        const m = new LbmMeta();
        m.send.push(ctx.pair().client.expose(utf8('ok'), 2, BULK_XFER));
        m.send.push({ ...ctx.pair().client.expose(utf8('bad'), 3, BULK_XFER), flags: bad });
        let err: LightbeamError | undefined;
        try {
          await ctx.pair().client.send(m, { timeoutMs: ctx.opts.timeoutMs });
        } catch (e) {
          err = e as LightbeamError;
        }
        expect(err?.code).to.equal('ERR_LBM_UNKNOWN_FLAGS');
        expect(err?.message).to.match(/bulk #1/);
        // The next message is the first one to arrive: the rejected one never left.
        await sendOk(ctx, numbered(1));
        expect((await recvOk(ctx, new RequestMeta())).requestId).to.equal(1);
      });
    }

    it('keeps flags from the wire as they are, unknown bits included', async function () {
      const sendRaw = ctx.opts.sendRaw;
      if (sendRaw === undefined) this.skip();
      const m = new LbmMeta();
      m.send.push({ data: null, size: 3, flags: 0x80000006 }, { data: null, size: 2, flags: 0x10 });
      await sendRaw(ctx.pair(), [encodeMeta(m), utf8('abc')]);
      const got = await recvOk(ctx, new LbmMeta());
      expect(got.send.map((b) => b.flags)).to.deep.equal([0x80000006, 0x10]);
      const bufs = await recvAll(ctx, got);
      expect(text(bufs[0])).to.equal('abc');
    });

    it('round-trips 20 random metas with every field type and random XFER and EXPOSE bulks', async () => {
      const seed = testSeed(0xc0de);
      const rng = new Prng(seed);
      for (let i = 0; i < 20; i++) {
        const fields = randomSchema(rng, 2);
        const m = new SchemaMeta(
          fields,
          fields.map((k) => randomValue(rng, k)),
        );
        const datas: Uint8Array[] = [];
        for (let j = rng.int(0, 4); j > 0; j--) {
          const d = rng.bytes(rng.int(0, 3000));
          datas.push(d);
          m.send.push(ctx.pair().client.expose(d, d.byteLength, rng.int(0, 3)));
        }
        m.recv.push({ data: null, size: rng.int(0, 1 << 30), flags: rng.int(0, 3) });
        await sendOk(ctx, m);
        const got = await recvOk(ctx, new SchemaMeta(fields));
        expect(got.values, `seed ${seed} #${i}`).to.deep.equal(m.values);
        expect(got.send.map((b) => [b.size, b.flags])).to.deep.equal(m.send.map((b) => [b.size, b.flags]));
        expect(got.recv.map((b) => [b.size, b.flags, b.data])).to.deep.equal(m.recv.map((b) => [b.size, b.flags, null]));
        got.recv = [];
        const bufs = await recvAll(ctx, got);
        m.send.forEach((b, j) => {
          if (b.flags & BULK_XFER) expect(Buffer.compare(bufs[j], datas[j]), `seed ${seed} #${i} bulk ${j}`).to.equal(0);
        });
      }
    });

    it('delivers the bytes as they were at send time, even if the sender reuses its buffer at once', async function () {
      if (!ctx.opts.copiesOnSend) this.skip();
      const buf = new Uint8Array(4096).fill(1);
      const m = new LbmMeta();
      m.send.push(ctx.pair().client.expose(buf, buf.byteLength, BULK_XFER));
      await sendOk(ctx, m);
      buf.fill(2);
      const [got] = await recvAll(ctx, await recvOk(ctx, new LbmMeta()));
      expect(got.every((b) => b === 1)).to.equal(true);
    });
  });
}
