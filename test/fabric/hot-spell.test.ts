/**
 * The idle progress thread (issue 23, CPU): an idle endpoint's progress thread wakes seldom, and a
 * message after the idle spell still arrives. The hot spell's stretch is checked in hot.test.ts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { expect } from 'chai';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { FabricClient, FabricServer } from '@lightbeam/fabric';
import { PROVIDERS, SKIP_NOTE, makeServer, skipWithoutFabric } from './support/fabric-pair.js';

/** Voluntary context switches of every thread of this process so far (Linux /proc). */
function wakeUps(): number {
  let n = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/self/task/${t}/status`, 'utf8'));
      if (m !== null) n += Number(m[1]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return n;
}

// tcp-based providers only: shm has no wait object, its idle thread polls every idleMaxUs by design.
for (const p of PROVIDERS.filter((x) => x.protocol === 'tcp')) {
  describe(`fabric ${p.label}: idle progress (issue 23)${SKIP_NOTE}`, function () {
    this.timeout(60_000);
    let server: FabricServer | undefined;
    let client: FabricClient | undefined;

    before(function () {
      skipWithoutFabric(this);
    });

    afterEach(async () => {
      await client?.close();
      await server?.close();
      client = undefined;
      server = undefined;
    });

    it('an idle server and client wake their progress threads seldom: under 150 wake-ups a second in this process', async function () {
      if (!existsSync('/proc/self/task')) this.skip();
      const s = await makeServer(p);
      server = s.server;
      client = (await TransportFactory.getClient(s.addr, Transport.kFabric, 'tcp', s.port)) as FabricClient;
      const m = new LbmMeta();
      m.send.push(client.expose(new Uint8Array(16), 16, BULK_XFER));
      expect(await client.send(m)).to.equal(0);
      expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 10_000 })).to.equal(0);
      const pending = server.waitMetadata(new LbmMeta(), { timeoutMs: 2500 });
      // Past the hot spell and the sleeps' growth.
      await new Promise((r) => setTimeout(r, 500));
      const w0 = wakeUps();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 1000));
      const rate = (wakeUps() - w0) / ((performance.now() - t0) / 1000);
      // A message still arrives at once after the long sleep.
      expect(await client.send(m)).to.equal(0);
      expect(await pending, 'the message sent after the idle second').to.equal(0);
      // Each endpoint's thread woke every 2 ms: about 1000 a second for the two.
      expect(rate, 'wake-ups a second').to.be.below(150);
    });
  });
}
