/**
 * Contract part 3: everything that waits or ends: EAGAIN, timeouts, abort, close, concurrent
 * callers, the async iterator, and `getAddress()`.
 */
import { expect } from 'chai';
import { EAGAIN, ECANCELED, ESHUTDOWN, ETIMEDOUT, LbmMeta } from '@lightbeam/core';
import type { ContractContext } from './contract-context.js';
import { RequestMeta, numbered, recvAll, recvOk, sendOk, text, xferMeta } from './contract-context.js';

/** Registers the waiting and lifecycle rules. */
export function waitingRules(ctx: ContractContext): void {
  describe('waiting, abort and close', () => {
    it('resolves EAGAIN (11) from recvMetadata at once on an empty server', async () => {
      expect(EAGAIN).to.equal(11);
      expect(await ctx.pair().server.recvMetadata(new LbmMeta())).to.equal(EAGAIN);
    });

    it('recvMetadata picks up a message once it has arrived', async () => {
      await sendOk(ctx, numbered(5));
      // Wait for arrival without consuming: a waiting receive on a second meta would take it,
      // so poll recvMetadata, bounded by the suite's timeout.
      const meta = new RequestMeta();
      const until = Date.now() + ctx.opts.timeoutMs;
      let rc = await ctx.pair().server.recvMetadata(meta);
      while (rc === EAGAIN && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 2));
        rc = await ctx.pair().server.recvMetadata(meta);
      }
      expect(rc).to.equal(0);
      expect(meta.requestId).to.equal(5);
    });

    it('resolves ETIMEDOUT from waitMetadata when nothing arrives in time', async () => {
      expect(await ctx.pair().server.waitMetadata(new LbmMeta(), { timeoutMs: 20 })).to.equal(ETIMEDOUT);
      // A timed-out wait leaves nothing behind: the next message goes to the next caller.
      await sendOk(ctx, numbered(6));
      expect((await recvOk(ctx, new RequestMeta())).requestId).to.equal(6);
    });

    it('resolves ECANCELED from waitMetadata when its signal aborts, or was aborted before', async () => {
      const ac = new AbortController();
      const pending = ctx.pair().server.waitMetadata(new LbmMeta(), { signal: ac.signal, timeoutMs: 10 * ctx.opts.timeoutMs });
      setTimeout(() => ac.abort(), 5);
      expect(await pending).to.equal(ECANCELED);
      expect(await ctx.pair().server.waitMetadata(new LbmMeta(), { signal: ac.signal })).to.equal(ECANCELED);
      await sendOk(ctx, numbered(8));
      expect((await recvOk(ctx, new RequestMeta())).requestId).to.equal(8);
    });

    it('settles a pending waiter with ESHUTDOWN on close, and every later call too', async () => {
      const { server } = ctx.pair();
      const pending = server.waitMetadata(new LbmMeta());
      const queued = server.waitMetadata(new LbmMeta(), { timeoutMs: 10 * ctx.opts.timeoutMs });
      await server.close();
      expect(await pending).to.equal(ESHUTDOWN);
      expect(await queued).to.equal(ESHUTDOWN);
      expect(await server.recvMetadata(new LbmMeta())).to.equal(ESHUTDOWN);
      expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 10 })).to.equal(ESHUTDOWN);
      expect(server.closed).to.equal(true);
    });

    it('resolves ESHUTDOWN from send after the client closed', async () => {
      const { client } = ctx.pair();
      await client.close();
      expect(client.closed).to.equal(true);
      expect(await client.send(numbered(1))).to.equal(ESHUTDOWN);
    });

    it('closes idempotently: repeated and concurrent close calls all resolve', async () => {
      const { client, server } = ctx.pair();
      await Promise.all([client.close(), client.close(), server.close(), server.close()]);
      await client.close();
      await server.close();
      expect(client.closed && server.closed).to.equal(true);
    });
  });

  describe('concurrency, iteration, address', () => {
    it('delivers concurrent sends in call order', async () => {
      const n = 20;
      const sends = [];
      for (let i = 0; i < n; i++) sends.push(ctx.pair().client.send(xferMeta(ctx, [`data-${i}`], numbered(i)), { timeoutMs: ctx.opts.timeoutMs }));
      expect(await Promise.all(sends)).to.deep.equal(new Array(n).fill(0));
      for (let i = 0; i < n; i++) {
        const got = await recvOk(ctx, new RequestMeta());
        expect(got.requestId).to.equal(i);
        expect((await recvAll(ctx, got)).map(text)).to.deep.equal([`data-${i}`]);
      }
    });

    it('gives concurrent waiters one message each, in call order', async () => {
      const n = 5;
      const metas = Array.from({ length: n }, () => new RequestMeta());
      const waits = metas.map((m) => ctx.pair().server.waitMetadata(m, { timeoutMs: ctx.opts.timeoutMs }));
      for (let i = 0; i < n; i++) await sendOk(ctx, numbered(100 + i));
      expect(await Promise.all(waits)).to.deep.equal(new Array(n).fill(0));
      expect(metas.map((m) => m.requestId)).to.deep.equal([100, 101, 102, 103, 104]);
    });

    it('yields messages from the async iterator and ends it on close', async () => {
      const { server } = ctx.pair();
      for (let i = 0; i < 3; i++) await sendOk(ctx, xferMeta(ctx, [`it-${i}`], numbered(i)));
      const seen: Array<[number, string]> = [];
      const loop = (async () => {
        for await (const m of server.messages(() => new RequestMeta())) {
          seen.push([m.requestId, text((await recvAll(ctx, m))[0])]);
          if (seen.length === 3) void server.close();
        }
      })();
      const guard = setTimeout(() => void server.close(), 10 * ctx.opts.timeoutMs);
      await loop;
      clearTimeout(guard);
      expect(seen).to.deep.equal([
        [0, 'it-0'],
        [1, 'it-1'],
        [2, 'it-2'],
      ]);
    });

    it('iterates plain LbmMetas with for await over the server, ending when it closes', async () => {
      const { server } = ctx.pair();
      await sendOk(ctx, xferMeta(ctx, ['plain'], new LbmMeta()));
      const sizes: number[] = [];
      const guard = setTimeout(() => void server.close(), 10 * ctx.opts.timeoutMs);
      for await (const m of server) {
        sizes.push(m.send[0].size);
        void server.close();
      }
      clearTimeout(guard);
      expect(sizes).to.deep.equal([5]);
    });

    it('returns the bind address from getAddress()', () => {
      const pair = ctx.pair();
      const addr = pair.server.getAddress();
      expect(addr).to.be.a('string').and.not.equal('');
      if (pair.address !== undefined) expect(addr).to.equal(pair.address);
    });
  });
}
