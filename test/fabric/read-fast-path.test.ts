/**
 * The per-message cost of `recvBulks` (issue 23, speed): a stream of messages whose bulks are
 * read from the sender asks the kernel whether the sender lives at most once per probe interval
 * (not once per message), and an shm read, which the provider copies inside the post, resolves
 * without waiting for an event-loop turn.
 */
import { expect } from 'chai';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { FabricClient, FabricServer } from '@lightbeam/fabric';
import { describeEachProvider } from './support/fabric-pair.js';

const KiB = 1 << 10;
/** The servers' probe interval (peer-gone.ts PROBE_MS). */
const PROBE_MS = 50;

describeEachProvider('recvBulks fast path (issue 23)', (p, open) => {
  it('asks whether the sender lives at most once per probe interval while a stream of 200 read bulks comes, every byte delivered', async () => {
    const pair = await open();
    const client = pair.client as FabricClient;
    const server = pair.server as FabricServer;
    const got = new Uint8Array(16 * KiB);
    const t0 = performance.now();
    const probes0 = server.stats().peerProbes;
    for (let i = 0; i < 200; i++) {
      const data = new Uint8Array(16 * KiB).fill(i & 0xff);
      const m = new LbmMeta();
      m.send.push(client.expose(data, data.byteLength, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 10_000 }), `send #${i}`).to.equal(0);
      const r = new LbmMeta();
      expect(await server.waitMetadata(r, { timeoutMs: 10_000 }), `metadata #${i}`).to.equal(0);
      r.recv.push(server.expose(got, got.byteLength, BULK_XFER));
      expect(await server.recvBulks(r), `recvBulks #${i}`).to.equal(0);
      expect(got[0] === (i & 0xff) && got[got.byteLength - 1] === (i & 0xff), `bytes of #${i}`).to.equal(true);
    }
    const probes = server.stats().peerProbes - probes0;
    const intervals = Math.ceil((performance.now() - t0) / PROBE_MS);
    // The client runs in this process, so the server can ask the kernel (it did, once a message).
    expect(probes, 'probes').to.be.above(0);
    expect(probes, `probes over ${intervals} intervals`).to.be.at.most(intervals + 1);
    expect(probes, 'fewer than one a message').to.be.below(200);
  });

  if (p.protocol === 'shm') {
    it('resolves recvBulks of an shm read within the task that called it (microtasks only, no event-loop turn)', async () => {
      const pair = await open();
      const client = pair.client as FabricClient;
      const server = pair.server as FabricServer;
      const got = new Uint8Array(64 * KiB);
      let within = 0;
      for (let i = 0; i < 100; i++) {
        const data = new Uint8Array(64 * KiB).fill((i % 250) + 1);
        const m = new LbmMeta();
        m.send.push(client.expose(data, data.byteLength, BULK_XFER));
        expect(await client.send(m, { timeoutMs: 10_000 })).to.equal(0);
        const r = new LbmMeta();
        expect(await server.waitMetadata(r, { timeoutMs: 10_000 })).to.equal(0);
        r.recv.push(server.expose(got, got.byteLength, BULK_XFER));
        let rc: number | undefined;
        const pending = server.recvBulks(r).then((x) => {
          rc = x;
        });
        // Only microtasks run here: a completion that needs a poll in a later turn, or the
        // progress thread's hand-off, cannot arrive.
        for (let k = 0; k < 50 && rc === undefined; k++) await Promise.resolve();
        if (rc !== undefined) within++;
        await pending;
        expect(rc, `recvBulks #${i}`).to.equal(0);
        expect(got[0] === (i % 250) + 1 && got[got.byteLength - 1] === (i % 250) + 1, `bytes of #${i}`).to.equal(true);
      }
      // The progress thread may hold the queue past the bounded retry (preempted under load): a later turn takes it then.
      expect(within, `reads resolved within the calling task (${within} of 100)`).to.be.at.least(95);
    });
  }
});
