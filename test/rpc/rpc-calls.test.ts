/**
 * RPC calls over every transport: replies with custom fields and bulks both ways, handler
 * failures as coded errors, unknown methods, timeouts, cancellation, the concurrency limit and
 * 10k calls in flight each matched to its own reply.
 */
import { expect } from 'chai';
import type { Archive } from '@lightbeam/core';
import { BULK_XFER, LbmMeta, LightbeamError } from '@lightbeam/core';
import type { RpcPair } from './support/rpc-pair.js';
import { RPC_TRANSPORTS } from './support/rpc-pair.js';
import { withOwnMemory } from './support/own-memory.js';

class NumMeta extends LbmMeta {
  n = 0;
  text = '';
  override serialize(ar: Archive): void {
    this.n = ar.i32(this.n);
    this.text = ar.string(this.text);
  }
}

function num(n: number, text = ''): NumMeta {
  const m = new NumMeta();
  m.n = n;
  m.text = text;
  return m;
}

async function rejection(p: Promise<unknown>): Promise<LightbeamError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(LightbeamError);
    return err as LightbeamError;
  }
  throw new Error('expected a rejection');
}

for (const t of RPC_TRANSPORTS) {
  describe(`RPC over ${t.name}`, function () {
    this.timeout(60_000);
    withOwnMemory();
    let p: RpcPair;
    afterEach(async () => p?.close());

    it('resolves the reply of a named handler, custom fields both ways', async () => {
      p = await t.make();
      p.server.handle<NumMeta>('double', (req) => num(req.n * 2, `${req.text}!`), { create: () => new NumMeta() });
      const reply = await p.client.call('double', num(21, 'hi'), { reply: () => new NumMeta(), timeoutMs: 10_000 });
      expect([reply.n, reply.text]).to.deep.equal([42, 'hi!']);
    });

    it('carries XFER bulks to the handler and back, the reply owned by the caller', async () => {
      p = await t.make();
      p.server.handle('reverse', (req) => {
        const out = new LbmMeta();
        for (const b of req.send) {
          const bytes = (b.data as { ptr: Uint8Array }).ptr.slice(0, b.size).reverse();
          out.send.push({ data: { ptr: bytes, shm: { allocId: { major: 0, minor: 0 }, off: 0 } }, size: bytes.byteLength, flags: BULK_XFER });
        }
        return out;
      });
      const req = new LbmMeta();
      const a = new TextEncoder().encode('abcdef');
      const b = new Uint8Array(300).map((_, i) => i & 0xff);
      req.send.push(p.client.requests.expose(a, a.byteLength, BULK_XFER), p.client.requests.expose(b, b.byteLength, BULK_XFER));
      const reply = await p.client.call('reverse', req, { timeoutMs: 10_000 });
      expect(reply.send.map((x) => x.size)).to.deep.equal([6, 300]);
      expect(new TextDecoder().decode(reply.send[0]?.data?.ptr)).to.equal('fedcba');
      expect([...(reply.send[1]?.data?.ptr ?? [])]).to.deep.equal([...b].reverse());
    });

    it('rejects with ERR_LBM_RPC_HANDLER carrying the message when the handler throws', async () => {
      p = await t.make();
      p.server.handle('boom', async () => {
        throw new Error('kaput');
      });
      const err = await rejection(p.client.call('boom', new LbmMeta(), { timeoutMs: 10_000 }));
      expect(err.code).to.equal('ERR_LBM_RPC_HANDLER');
      expect(err.message).to.contain('kaput');
    });

    it('rejects with ERR_LBM_RPC_NO_METHOD for a name nobody handles', async () => {
      p = await t.make();
      const err = await rejection(p.client.call('nope', new LbmMeta(), { timeoutMs: 10_000 }));
      expect(err.code).to.equal('ERR_LBM_RPC_NO_METHOD');
    });

    it('times out with ERR_LBM_RPC_TIMEOUT and the handler sees the deadline pass', async () => {
      p = await t.make();
      let sawAbort: Promise<boolean> | null = null;
      p.server.handle('hang', (_req, ctx) => {
        sawAbort = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(true)));
        return sawAbort.then(() => undefined);
      });
      const err = await rejection(p.client.call('hang', new LbmMeta(), { timeoutMs: 50 }));
      expect(err.code).to.equal('ERR_LBM_RPC_TIMEOUT');
      expect(err.errno).to.equal(110);
      expect(await (sawAbort as unknown as Promise<boolean>)).to.equal(true);
    });

    it('cancels with ERR_LBM_RPC_CANCELED and aborts the running handler', async () => {
      p = await t.make();
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      let aborted!: (why: unknown) => void;
      const abortSeen = new Promise<unknown>((r) => (aborted = r));
      p.server.handle('slow', (_req, ctx) => {
        started();
        return new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            aborted(ctx.signal.reason);
            resolve();
          }),
        );
      });
      const ac = new AbortController();
      const call = p.client.call('slow', new LbmMeta(), { signal: ac.signal, timeoutMs: 20_000 });
      await running;
      ac.abort();
      const err = await rejection(call);
      expect(err.code).to.equal('ERR_LBM_RPC_CANCELED');
      expect(String(await abortSeen)).to.contain('cancel');
      expect(p.client.inFlight).to.equal(0);
    });

    it('runs at most maxConcurrent handlers at once and queues the rest', async () => {
      p = await t.make({ maxConcurrent: 3 });
      let running = 0;
      let peak = 0;
      const gates: Array<() => void> = [];
      p.server.handle('gate', () => {
        running++;
        peak = Math.max(peak, running);
        return new Promise<void>((resolve) => gates.push(() => (running--, resolve())));
      });
      const calls = Array.from({ length: 10 }, () => p.client.call('gate', new LbmMeta(), { timeoutMs: 20_000 }));
      // Release handlers one by one as they start; bounded by the 10 calls.
      for (let released = 0; released < 10; ) {
        const g = gates.shift();
        if (g === undefined) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        g();
        released++;
      }
      await Promise.all(calls);
      expect(peak).to.equal(3);
    });

    it('answers ERR_LBM_RPC_OVERLOADED beyond maxQueued', async () => {
      p = await t.make({ maxConcurrent: 1, maxQueued: 1 });
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      p.server.handle('gate', () => gate);
      const calls = Array.from({ length: 4 }, () => p.client.call('gate', new LbmMeta(), { timeoutMs: 20_000 }).then(() => 'ok', (e: LightbeamError) => e.code));
      const first = await Promise.race(calls);
      release();
      const all = await Promise.all(calls);
      expect(first).to.equal('ERR_LBM_RPC_OVERLOADED');
      expect(all.filter((x) => x === 'ok')).to.have.length(2);
      expect(all.filter((x) => x === 'ERR_LBM_RPC_OVERLOADED')).to.have.length(2);
    });

    it('matches 10k concurrent calls each to its own reply', async () => {
      p = await t.make({ maxConcurrent: 256, maxQueued: 20_000 });
      p.server.handle<NumMeta>('echo', async (req) => {
        // Replies finish out of order: some handlers yield, some do not.
        if (req.n % 3 === 0) await new Promise((r) => setImmediate(r));
        return num(req.n, `r${req.n}`);
      }, { create: () => new NumMeta() });
      const N = 10_000;
      const calls: Promise<NumMeta>[] = [];
      for (let i = 0; i < N; i++) calls.push(p.client.call('echo', num(i), { reply: () => new NumMeta(), timeoutMs: 50_000 }));
      const replies = await Promise.all(calls);
      let matched = 0;
      for (let i = 0; i < N; i++) if (replies[i]?.n === i && replies[i]?.text === `r${i}`) matched++;
      expect(matched).to.equal(N);
      expect(p.client.stats.unmatched).to.equal(0);
    });

    it('rejects calls in flight with ERR_LBM_CLOSED when the client closes', async () => {
      p = await t.make();
      p.server.handle('hang', () => new Promise<void>(() => {}));
      const call = rejection(p.client.call('hang', new LbmMeta(), { timeoutMs: 20_000 }));
      await p.client.close();
      expect((await call).code).to.equal('ERR_LBM_CLOSED');
    });

    it('answers ERR_LBM_RPC_SHUTDOWN to calls running when the server closes', async () => {
      p = await t.make();
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      p.server.handle('hang', () => (started(), new Promise<void>(() => {})));
      const call = rejection(p.client.call('hang', new LbmMeta(), { timeoutMs: 20_000 }));
      await running;
      await p.server.close();
      expect((await call).code).to.equal('ERR_LBM_RPC_SHUTDOWN');
    });
  });
}
