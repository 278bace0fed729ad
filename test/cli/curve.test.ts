/**
 * Issue #13 item 8, command side: `lightbeam send` and `lightbeam recv` take CURVE keys (both the
 * data port and the reply port are encrypted and authenticated), `recv --curve-allow` admits only
 * the listed senders, and `lightbeam bridge --curve-allow` does the same for its ingress.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { curveKeyPair } from 'zeromq';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';
import type { BridgeChild } from '../bridge/support/bridge-process.js';
import { startBridge } from '../bridge/support/bridge-process.js';

describe('CURVE on lightbeam send / recv / bridge (issue #13 item 8)', function () {
  // The bridge cases make this thread's shared memory; leave the thread without it for the next file.
  after(() => MemoryManager.current()?.detach());
  this.timeout(90000);
  let work: string;
  const procs: Array<{ kill(): void }> = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-curve-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('delivers and confirms for an allowed sender; refuses a sender with another key pair, and one without CURVE', async () => {
    const recvKeys = curveKeyPair();
    const friend = curveKeyPair();
    const stranger = curveKeyPair();
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess([
      'recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '60000',
      '--curve-secret-key', recvKeys.secretKey, '--curve-public-key', recvKeys.publicKey, '--curve-allow', friend.publicKey,
    ]);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);

    const bad = join(work, 'bad');
    await writeTree(bad, { 'x.bin': 100 }, 1);
    const asStranger = await runCli([
      'send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '1500', '--curve-server-key', recvKeys.publicKey,
      '--curve-public-key', stranger.publicKey, '--curve-secret-key', stranger.secretKey, bad,
    ]);
    expect(asStranger.code).to.equal(1);
    expect(linesOf(asStranger.stderr)).to.have.length(1);
    expect(asStranger.stderr).to.match(/^lightbeam send: no answer on the reply path/);
    const plain = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '1500', bad]);
    expect(plain.code).to.equal(1);
    expect(plain.stderr).to.match(/^lightbeam send: no answer on the reply path/);

    const good = join(work, 'good');
    const expected = await writeTree(good, { 'a.bin': 70000 }, 2);
    const asFriend = await runCli([
      'send', '--to', `127.0.0.1:${port}`, '--curve-server-key', recvKeys.publicKey,
      '--curve-public-key', friend.publicKey, '--curve-secret-key', friend.secretKey, good,
    ]);
    expect(asFriend.code, `${asFriend.stderr} recv: ${recv.stdout} ${recv.stderr}`).to.equal(0);
    expect(asFriend.stdout).to.match(/every SHA-256 confirmed by the receiver/);
    const r = await recv.done(30000);
    expect(r.code, r.stderr).to.equal(0);
    expect(Object.fromEntries(await hashTree(out))).to.deep.equal({ 'good/a.bin': expected.get('a.bin') });
    expect(await readdir(out)).to.deep.equal(['good']);
  });

  it('lets any sender that knows the public key in without --curve-allow', async () => {
    const recvKeys = curveKeyPair();
    const port = await freePort();
    const recv = new CliProcess([
      'recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out'), '--count', '1', '--timeout-ms', '60000',
      '--curve-secret-key', recvKeys.secretKey, '--curve-public-key', recvKeys.publicKey,
    ]);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 10 }, 3);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--curve-server-key', recvKeys.publicKey, src]);
    expect(send.code, send.stderr).to.equal(0);
    expect((await recv.done(30000)).code).to.equal(0);
  });

  for (const [name, args, message] of [
    ['half a receiver key pair', ['recv', '--listen', '127.0.0.1:1', '--out', '/tmp/x', '--curve-secret-key', curveKeyPair().secretKey], 'CURVE needs both'],
    ['an allow-list without keys', ['recv', '--listen', '127.0.0.1:1', '--out', '/tmp/x', '--curve-allow', curveKeyPair().publicKey], '--curve-allow needs'],
    ['a key that is not Z85', ['send', '--to', '127.0.0.1:1', '--curve-server-key', 'short', '/tmp'], 'must be a 40-character Z85 key'],
    ['a sender pair without the server key', ['send', '--to', '127.0.0.1:1', '--curve-public-key', curveKeyPair().publicKey, '/tmp'], 'need --curve-server-key'],
  ] as const) {
    it(`exits 2 with one line for ${name}`, async () => {
      const r = await runCli([...args]);
      expect(r.code).to.equal(2);
      expect(linesOf(r.stderr)).to.have.length(1);
      expect(r.stderr).to.include(message);
    });
  }

  it('admits only the listed peer on "lightbeam bridge --curve-allow"', async () => {
    if (MemoryManager.current() === null) MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
    const far = curveKeyPair();
    const near = curveKeyPair();
    const stranger = curveKeyPair();
    const child: BridgeChild = await startBridge([
      '--listen', 'tcp://127.0.0.1:0', '--default-channel', 'in', '--curve-secret-key', far.secretKey, '--curve-public-key', far.publicKey,
      '--curve-allow', near.publicKey,
    ]);
    procs.push(child);
    const egresses: Bridge[] = [];
    try {
      for (const [who, keys] of [['stranger', stranger], ['near', near]] as const) {
        const egress = await Bridge.create({
          peer: `tcp://127.0.0.1:${child.port}`,
          channels: [{ local: `curve-cli-${process.pid}-${who}`, remote: 'in' }],
          curve: { ...keys, serverKey: far.publicKey },
          drainMs: 2000,
        });
        egresses.push(egress);
        const tx = new ShmClient(`curve-cli-${process.pid}-${who}`);
        const m = new LbmMeta();
        const body = new TextEncoder().encode(who);
        m.send.push(tx.expose(body, body.byteLength, BULK_XFER));
        expect(await tx.send(m, { timeoutMs: 5000 })).to.equal(0);
        await tx.close();
      }
      // The near egress's message is delivered (or held for "in", which nobody binds); the stranger's never arrives.
      const deadline = Date.now() + 20000;
      while (egresses[1].stats().egress.forwarded < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const e of egresses.splice(0)) await e.close();
      child.proc.kill('SIGTERM');
      expect(await child.exited(20000)).to.equal(0);
      expect(child.stats()?.ingress.received).to.equal(1);
    } finally {
      for (const e of egresses) await e.close();
    }
  });
});
