/**
 * Contract part 2: the two-phase receive rules (recv replacement, XFER-only receive, truncation,
 * padding, frame-count mismatch, malformed metadata).
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { ContractContext } from './contract-context.js';
import { RequestMeta, numbered, recvAll, recvOk, sendOk, text, utf8, xferMeta } from './contract-context.js';

const untouched = (b: Uint8Array, fill: number): boolean => b.every((x) => x === fill);

/** Registers the receive rules. */
export function receiveRules(ctx: ContractContext): void {
  /** After a failed receive, the next message must arrive whole. */
  async function nextArrivesIntact(id: number): Promise<void> {
    const m = xferMeta(ctx, [`after-${id}`, 'tail'], numbered(id));
    await sendOk(ctx, m);
    const got = await recvOk(ctx, new RequestMeta());
    expect(got.requestId, 'next message id').to.equal(id);
    expect((await recvAll(ctx, got)).map(text), 'next message data').to.deep.equal([`after-${id}`, 'tail']);
  }

  describe('two-phase receive rules', () => {
    it('replaces meta.send and meta.recv with the vectors from the wire', async () => {
      const m = xferMeta(ctx, ['abc'], new LbmMeta());
      m.recv.push({ data: null, size: 5, flags: BULK_XFER });
      await sendOk(ctx, m);
      const mine = new LbmMeta();
      const localSend = [{ data: null, size: 77, flags: BULK_EXPOSE }];
      const localRecv = [ctx.pair().server.expose(new Uint8Array(9), 9, BULK_XFER)];
      mine.send = localSend;
      mine.recv = localRecv;
      const ownSend = localSend[0];
      const ownRecv = localRecv[0];
      await recvOk(ctx, mine);
      // The vectors' contents are replaced (a transport may refill the same arrays and reuse the
      // Bulk objects it made for the previous receive); the caller's own Bulk objects are untouched.
      expect(mine.send.map((b) => [b.size, b.flags])).to.deep.equal([[3, BULK_XFER]]);
      // Over shared memory a transport may show the staged bytes of an XFER bulk; over a network it has none.
      if (!ctx.opts.sharesMemory) expect(mine.send[0].data).to.equal(null);
      expect(mine.recv).to.deep.equal([{ data: null, size: 5, flags: BULK_XFER }]);
      expect(mine.send).to.not.include(ownSend);
      expect(mine.recv).to.not.include(ownRecv);
      expect(ownSend, 'own send bulk not modified').to.deep.equal({ data: null, size: 77, flags: BULK_EXPOSE });
      expect(ownRecv.size, 'own recv bulk not modified').to.equal(9);
      expect(ownRecv.data).to.not.equal(null);
    });

    it('receives only into XFER entries of recv, in order; EXPOSE entries keep their buffers untouched', async () => {
      await sendOk(ctx, xferMeta(ctx, ['first', 'second'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      const server = ctx.pair().server;
      const c1 = new Uint8Array(8).fill(0xc1);
      const a = new Uint8Array(5);
      const c2 = new Uint8Array(8).fill(0xc2);
      const b = new Uint8Array(6);
      got.recv.push(server.expose(c1, 8, BULK_EXPOSE), server.expose(a, 5, BULK_XFER), server.expose(c2, 8, 0), server.expose(b, 6, BULK_XFER));
      expect(await server.recvBulks(got)).to.equal(0);
      expect([text(a), text(b)]).to.deep.equal(['first', 'second']);
      expect(untouched(c1, 0xc1) && untouched(c2, 0xc2)).to.equal(true);
    });

    it('gives a smaller receive buffer the first bytes and leaves bytes past its size alone', async () => {
      await sendOk(ctx, xferMeta(ctx, ['Hello, World!'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      const buf = new Uint8Array(8).fill(0xee);
      got.recv.push(ctx.pair().server.expose(buf, 5, BULK_XFER));
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
      expect(text(buf.subarray(0, 5))).to.equal('Hello');
      expect(untouched(buf.subarray(5), 0xee)).to.equal(true);
    });

    it('lets a larger receive buffer keep its tail', async () => {
      await sendOk(ctx, xferMeta(ctx, ['Hello, World!'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      const buf = new Uint8Array(20).fill(0xaa);
      got.recv.push(ctx.pair().server.expose(buf, 20, BULK_XFER));
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
      expect(text(buf.subarray(0, 13))).to.equal('Hello, World!');
      expect(untouched(buf.subarray(13), 0xaa)).to.equal(true);
    });

    it('resolves -1 for fewer XFER entries than data frames, and the next message arrives intact', async () => {
      await sendOk(ctx, xferMeta(ctx, ['one', 'two', 'three'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      got.recv.push(ctx.pair().server.expose(new Uint8Array(3), 3, BULK_XFER));
      expect(await ctx.pair().server.recvBulks(got)).to.equal(-1);
      await nextArrivesIntact(101);
    });

    it('resolves -1 for more XFER entries than data frames, and the next message arrives intact', async () => {
      await sendOk(ctx, xferMeta(ctx, ['only'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      const server = ctx.pair().server;
      got.recv.push(server.expose(new Uint8Array(4), 4, BULK_XFER), server.expose(new Uint8Array(4), 4, BULK_XFER));
      expect(await server.recvBulks(got)).to.equal(-1);
      await nextArrivesIntact(102);
    });

    it('resolves 0 with no XFER entries, drops that message data, and the next message arrives intact', async () => {
      await sendOk(ctx, xferMeta(ctx, ['ignored', 'also ignored'], new LbmMeta()));
      const got = await recvOk(ctx, new LbmMeta());
      const canary = new Uint8Array(7).fill(0x5a);
      got.recv.push(ctx.pair().server.expose(canary, 7, BULK_EXPOSE));
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
      expect(untouched(canary, 0x5a)).to.equal(true);
      await nextArrivesIntact(103);
    });

    it('drops an unread message when the same meta receives the next one', async () => {
      await sendOk(ctx, xferMeta(ctx, ['never read'], numbered(1)));
      await sendOk(ctx, xferMeta(ctx, ['read'], numbered(2)));
      const meta = new RequestMeta();
      await recvOk(ctx, meta);
      expect(meta.requestId).to.equal(1);
      await recvOk(ctx, meta);
      expect(meta.requestId).to.equal(2);
      expect((await recvAll(ctx, meta)).map(text)).to.deep.equal(['read']);
    });

    it('lets a plain LbmMeta read the descriptors of a custom message', async () => {
      const m = xferMeta(ctx, ['Hello, World!'], new RequestMeta());
      m.requestId = 42;
      m.operation = 'test_op';
      await sendOk(ctx, m);
      const got = await recvOk(ctx, new LbmMeta());
      expect(got.send.map((b) => b.size)).to.deep.equal([13]);
      expect((await recvAll(ctx, got)).map(text)).to.deep.equal(['Hello, World!']);
    });

    it('resolves -1 for malformed metadata, drops that message, and the next arrives intact', async function () {
      const sendRaw = ctx.opts.sendRaw;
      if (sendRaw === undefined) this.skip();
      // Claims 2^40 send bulks: a hostile count.
      const lie = new Uint8Array(16);
      new DataView(lie.buffer).setBigUint64(0, 2n ** 40n, true);
      await sendRaw(ctx.pair(), [lie, utf8('orphan data frame')]);
      const rc = await ctx.pair().server.waitMetadata(new LbmMeta(), { timeoutMs: ctx.opts.timeoutMs });
      expect(rc).to.equal(-1);
      await nextArrivesIntact(104);
    });

    it('resolves -1 from recvBulks with no message pending when XFER entries are asked for', async () => {
      const meta = new LbmMeta();
      meta.recv.push(ctx.pair().server.expose(new Uint8Array(4), 4, BULK_XFER));
      expect(await ctx.pair().server.recvBulks(meta)).to.equal(-1);
      expect(await ctx.pair().server.recvBulks(new LbmMeta())).to.equal(0);
    });

    it('receives in place into an XFER recv entry without a buffer: a view of the bytes, held until release', async () => {
      await sendOk(ctx, xferMeta(ctx, ['in place', 'copied'], numbered(7)));
      const server = ctx.pair().server;
      const got = await recvOk(ctx, new RequestMeta());
      const copy = new Uint8Array(6);
      got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
      got.recv.push(server.expose(copy, 6, BULK_XFER));
      expect(await server.recvBulks(got)).to.equal(0);
      const view = got.recv[0].data;
      expect(view, 'in-place entry got a view').to.not.equal(null);
      expect(text(view!.ptr)).to.equal('in place');
      expect(text(copy)).to.equal('copied');
      server.release(got);
      server.release(got);
      // Released: the next message into the same meta arrives intact.
      await sendOk(ctx, xferMeta(ctx, ['after release'], numbered(8)));
      await recvOk(ctx, got);
      expect(got.requestId).to.equal(8);
      expect((await recvAll(ctx, got)).map(text)).to.deep.equal(['after release']);
    });

    it('never throws for XFER entries of recv that came from the wire: in place when they match, else -1, next intact', async () => {
      // A peer that fills its recv vector (the C++ API lets it): one XFER entry, one data frame.
      const m = xferMeta(ctx, ['abc'], numbered(9));
      m.recv.push({ data: null, size: 5, flags: BULK_XFER });
      await sendOk(ctx, m);
      const got = await recvOk(ctx, new RequestMeta());
      expect(await ctx.pair().server.recvBulks(got)).to.equal(0);
      expect(text(got.recv[0].data!.ptr)).to.equal('abc');
      // The same, with the receiver's own entry pushed after the wire's: 2 entries for 1 frame.
      await sendOk(ctx, m);
      const again = await recvOk(ctx, new RequestMeta());
      again.recv.push(ctx.pair().server.expose(new Uint8Array(3), 3, BULK_XFER));
      expect(await ctx.pair().server.recvBulks(again)).to.equal(-1);
      await nextArrivesIntact(110);
    });
  });
}
