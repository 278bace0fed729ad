/**
 * A peer process killed with SIGKILL mid-stream, over tcp;ofi_rxm and shm: the survivor does not
 * crash or hang, settles every call with a code, and keeps working with a new peer.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { BULK_XFER, ECONNRESET, ETIMEDOUT, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import type { FabricServer } from '@lightbeam/fabric';
import { PROVIDERS, SKIP_NOTE, makeServer, skipWithoutFabric } from './support/fabric-pair.js';

const PEER = fileURLToPath(new URL('../fixtures/fabric/peer.mjs', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the peer and resolves with its first output line. */
async function startPeer(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [PEER, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await Promise.race([once(rl, 'line'), once(child, 'exit').then(() => ['exited'])])) as [string];
  return { child, line };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = once(child, 'exit');
    child.kill('SIGKILL');
    await gone;
  }
  // A killed process cannot unlink its shm provider regions (named "<pid>:<uid>:<index>"): do it for it.
  const pid = child.pid;
  if (pid !== undefined && existsSync('/dev/shm')) {
    for (const f of readdirSync('/dev/shm')) if (f.startsWith(`${pid}:`)) rmSync(join('/dev/shm', f), { force: true });
  }
}

for (const p of PROVIDERS) {
  describe(`fabric ${p.label}: a killed peer process${SKIP_NOTE}`, function () {
    this.timeout(60_000);
    let child: ChildProcess | undefined;
    let server: FabricServer | undefined;
    let client: Client | undefined;

    before(function () {
      skipWithoutFabric(this);
    });

    afterEach(async () => {
      if (child !== undefined) await kill(child);
      await client?.close();
      await server?.close();
      child = undefined;
      client = undefined;
      server = undefined;
    });

    it('a server outlives a client killed mid-stream: every call settles with a code, and a new client is received intact', async () => {
      const s = await makeServer(p, { bulkTimeoutMs: 500 });
      server = s.server;
      const peer = await startPeer(['client', p.protocol, s.addr, String(s.port)]);
      child = peer.child;
      expect(peer.line).to.equal('ready');
      // Receive a few of its 1 MiB messages, then kill it while it is still sending.
      const buf = new Uint8Array(1 << 20);
      for (let i = 0; i < 3; i++) {
        const m = new LbmMeta();
        expect(await server.waitMetadata(m, { timeoutMs: 10_000 })).to.equal(0);
        m.recv.push(server.expose(buf, buf.byteLength, BULK_XFER));
        expect(await server.recvBulks(m)).to.equal(0);
        expect(buf[0]).to.equal(7);
      }
      await kill(child);
      // Drain what it left: each message settles (0, ECONNRESET once its connection is found gone, or ETIMEDOUT); bounded.
      const codes: number[] = [];
      for (let i = 0; i < 64; i++) {
        const m = new LbmMeta();
        const rc = await server.waitMetadata(m, { timeoutMs: 300 });
        if (rc === ETIMEDOUT) break;
        expect(rc).to.equal(0);
        m.recv.push(server.expose(buf, buf.byteLength, BULK_XFER));
        codes.push(await server.recvBulks(m));
      }
      for (const c of codes) expect([0, ETIMEDOUT, ECONNRESET]).to.include(c);
      // A new client is served as if nothing had happened.
      client = await TransportFactory.getClient(s.addr, Transport.kFabric, p.protocol, s.port);
      const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 255);
      const out = new LbmMeta();
      out.send.push(client.expose(data, data.byteLength, BULK_XFER));
      expect(await client.send(out, { timeoutMs: 5000 })).to.equal(0);
      // A message of the killed client may still surface after the drain's quiet spell: it settles
      // with a code like the others (ECONNRESET, its sender being gone), and the new client's
      // message must come intact after it.
      const got = new Uint8Array(1 << 20);
      let intact = false;
      for (let i = 0; i < 64 && !intact; i++) {
        const m = new LbmMeta();
        expect(await server.waitMetadata(m, { timeoutMs: 10_000 })).to.equal(0);
        got.fill(0);
        m.recv.push(server.expose(got, got.byteLength, BULK_XFER));
        const rc = await server.recvBulks(m);
        intact = rc === 0 && Buffer.compare(got, data) === 0;
        if (!intact) expect([0, ETIMEDOUT, ECONNRESET], `a late message of the killed client settled with ${rc}`).to.include(rc);
      }
      expect(intact, 'the new client\'s message arrived intact').to.equal(true);
    });

    it('a client outlives a killed server: sends settle with a code, none hangs, close resolves', async () => {
      const addr = p.protocol === 'tcp' ? '127.0.0.1' : `killed-${process.pid}`;
      const peer = await startPeer(['server', p.protocol, addr]);
      child = peer.child;
      expect(peer.line).to.match(/^port \d+$/);
      const port = Number(peer.line.split(' ')[1]);
      client = await TransportFactory.getClient(addr, Transport.kFabric, p.protocol, port);
      const data = new Uint8Array(64 << 10).fill(3);
      const send = async (): Promise<number> => {
        const m = new LbmMeta();
        m.send.push((client as Client).expose(data, data.byteLength, BULK_XFER));
        return (client as Client).send(m, { timeoutMs: 500 });
      };
      expect(await send()).to.equal(0);
      await kill(child);
      // Every send after the kill settles (bounded count, each with a timeout), with 0 while the
      // provider still queues, or an errno; the process neither crashes nor hangs.
      const codes: number[] = [];
      for (let i = 0; i < 20; i++) codes.push(await send());
      for (const c of codes) expect(c).to.be.a('number').and.to.be.at.least(0);
      await client.close();
      expect(client.closed).to.equal(true);
      rmSync(`/dev/shm/lightbeam-${addr}-0`, { force: true });
    });
  });
}
