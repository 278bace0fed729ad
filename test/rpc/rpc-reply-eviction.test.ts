/**
 * Issue 22.3: the RPC server keeps at most `maxReplyClients` reply clients; evicting one while
 * replies are still queued on it must not lose them (it used to close the client at once, and
 * its queued replies resolved ESHUTDOWN while the callers waited for their deadlines).
 */
import { expect } from 'chai';
import { RpcClient, RpcServer, Transport } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { NumMeta } from './support/num-meta.js';

const num = (n: number): NumMeta => Object.assign(new NumMeta(), { n });

/** Waits (bounded: 10 s) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).to.equal(true);
}

describe('RPC reply clients evicted with replies queued (issue 22.3)', function () {
  this.timeout(30_000);
  let server: RpcServer | undefined;
  let clients: RpcClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    clients = [];
    server = undefined;
  });

  for (const protocol of ['tcp', 'ipc'] as const) {
    it(`answers all 20 calls of 4 callers with maxReplyClients 2 (${protocol})`, async () => {
      const addr = protocol === 'tcp' ? '127.0.0.1' : `${(await import('node:os')).tmpdir()}/lbm-zmq-evict-${process.pid}.sock`;
      server = await RpcServer.listen(Transport.kZeroMq, addr, { protocol, port: 0, maxReplyClients: 2 });
      // Every handler waits until all 20 have started, so the 20 replies go out together: several
      // queued on each reply client while the other callers' replies evict it.
      let started = 0;
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      server.handle<NumMeta>(
        'inc',
        async (req) => {
          if (++started === 20) open();
          await gate;
          return num(req.n + 1);
        },
        { create: () => new NumMeta() },
      );
      const port = protocol === 'tcp' ? ((server.server as unknown as { port: number }).port) : 0;
      clients = await Promise.all([0, 1, 2, 3].map(() => RpcClient.connect(Transport.kZeroMq, addr, { protocol, port })));
      // Five calls per caller, each caller's arriving before the next one's (ZeroMQ would
      // interleave them otherwise): their replies queue one behind the other on that caller's
      // reply client, which the third caller's reply evicts.
      const calls: Promise<number>[] = [];
      for (let i = 0; i < 20; i++) {
        const c = clients[Math.floor(i / 5)] as RpcClient;
        calls.push(c.call('inc', num(i), { reply: () => new NumMeta(), timeoutMs: 5_000 }).then((r) => r.n, () => -1));
        if (i % 5 === 4) await until(() => started === i + 1);
      }
      const got = await Promise.all(calls);
      expect(got).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(server.stats.repliesDropped).to.equal(0);
      expect(server.stats.handled).to.equal(20);
      // Still bounded: the retired clients close once their replies settled.
      const replies = (server as unknown as { replies: { open: number } }).replies;
      await until(() => replies.open <= 2);
    });
  }
});
