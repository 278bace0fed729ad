/**
 * The hot spell and the idle progress thread (issue 23, speed and CPU): a ping-pong whose answers
 * come later than `spinUs` still has them read on the JavaScript thread (the spell stretches to
 * the recent answer times), and an idle endpoint's progress thread wakes seldom.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { FabricClient, FabricServer } from '@lightbeam/fabric';
import { PROVIDERS, SKIP_NOTE, makeServer, skipWithoutFabric } from './support/fabric-pair.js';

const ECHO = fileURLToPath(new URL('../fixtures/fabric/slow-echo.mjs', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

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

for (const p of PROVIDERS) {
  describe(`fabric ${p.label}: hot spell and idle progress (issue 23)${SKIP_NOTE}`, function () {
    this.timeout(60_000);
    let child: ChildProcess | undefined;
    let server: FabricServer | undefined;
    let client: FabricClient | undefined;

    before(function () {
      skipWithoutFabric(this);
    });

    afterEach(async () => {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.kill('SIGKILL');
        await gone;
        const pid = child.pid;
        if (p.protocol === 'shm' && pid !== undefined && existsSync('/dev/shm')) {
          // Its provider regions ("<pid>:...") and its server's name file: a killed process unlinks neither.
          for (const f of readdirSync('/dev/shm')) if (f.startsWith(`${pid}:`) || f.startsWith(`lightbeam-slow-echo-${pid}-`)) rmSync(join('/dev/shm', f), { force: true });
        }
      }
      await client?.close();
      await server?.close();
      child = undefined;
      client = undefined;
      server = undefined;
    });

    it('reads most answers of a ping-pong whose peer answers 500 us late on the JavaScript thread (spinUs 250), every answer delivered', async () => {
      const s = await makeServer(p);
      server = s.server;
      child = spawn(process.execPath, [ECHO, p.protocol, '500'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
      const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [string];
      const [addr, port] = line.split(' ');
      (child.stdin as NodeJS.WritableStream).write(`${s.addr} ${s.port}\n`);
      client = (await TransportFactory.getClient(addr, Transport.kFabric, p.protocol, Number(port), { spinUs: 250 })) as FabricClient;
      const data = new Uint8Array(64).fill(5);
      const out = new LbmMeta();
      out.send.push(client.expose(data, 64, BULK_XFER));
      const got = new Uint8Array(64);
      const m = new LbmMeta();
      const roundTrip = async (i: number): Promise<void> => {
        got.fill(0);
        expect(await client?.send(out, { timeoutMs: 10_000 }), `send #${i}`).to.equal(0);
        expect(await server?.waitMetadata(m, { timeoutMs: 10_000 }), `answer #${i}`).to.equal(0);
        m.recv.push(server?.expose(got, 64, BULK_XFER) as never);
        expect(await server?.recvBulks(m), `recvBulks #${i}`).to.equal(0);
        expect(got[63], `bytes of #${i}`).to.equal(5);
      };
      for (let i = 0; i < 20; i++) await roundTrip(i);
      const before = server.stats();
      for (let i = 0; i < 100; i++) await roundTrip(i);
      const after = server.stats();
      const polled = after.polledEvents - before.polledEvents;
      const byThread = after.threadEvents - before.threadEvents;
      expect(polled + byThread, 'every answer came').to.be.at.least(100);
      // A 250 us spell ends before each answer: every one came through the progress thread. On a
      // loaded machine many answers take milliseconds (the peer preempted) and miss any spell, so
      // only a floor is asserted here; hot.test.ts checks the stretch itself.
      expect(polled, `answers polled (${polled}) against handed over (${byThread})`).to.be.at.least(5);
    });

    if (p.protocol === 'tcp') {
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
    }
  });
}
