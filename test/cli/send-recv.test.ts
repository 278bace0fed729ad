/**
 * `lightbeam send` / `lightbeam recv` between two real processes over the ZeroMQ transport on
 * 127.0.0.1: a seeded random folder (with an empty file and a 64 MiB file) arrives with every
 * hash matching; ports in use and unreachable receivers end in one clear line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

const MiB = 1024 * 1024;

describe('lightbeam send/recv', function () {
  this.timeout(120000);
  let work: string;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-cli-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('moves a folder of seeded random files, an empty one and a 64 MiB one among them, with every SHA-256 matching', async () => {
    const seed = 20261125;
    const sizes: Record<string, number> = {
      'empty.bin': 0,
      'one.bin': 1,
      'small.txt': 4095,
      'nested/deeper/mid.bin': 3 * MiB + 17,
      'nested/page.bin': 4096,
      'big.bin': 64 * MiB,
    };
    const src = join(work, 'data');
    const expected = await writeTree(src, sizes, seed);
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '60000', '--json']);
    procs.push(recv);
    await recv.waitForStdout(/"event":"listening"/);

    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src], { timeoutMs: 90000 });
    expect(send.code, `seed ${seed}; send stderr: ${send.stderr}`).to.equal(0);
    expect(send.stdout).to.match(/sent 6 files \(64\.0 MiB\)|sent 6 files/);

    const r = await recv.done(90000);
    expect(r.code, `seed ${seed}; recv stderr: ${r.stderr}`).to.equal(0);
    const report = JSON.parse(linesOf(r.stdout).find((l) => l.includes('"event":"transfer"')) as string);
    expect(report.announced).to.equal(6);
    expect(report.refused).to.deep.equal([]);
    expect(report.received).to.have.length(6);

    const got = await hashTree(out);
    const want = new Map([...expected].map(([k, v]) => [`data/${k}`, v]));
    expect(Object.fromEntries(got), `seed ${seed}`).to.deep.equal(Object.fromEntries(want));
    for (const f of report.received as Array<{ path: string; sha256: string }>) expect(f.sha256).to.equal(want.get(f.path));
  });

  it('splits files across messages when --message-bytes is small, and still verifies every hash', async () => {
    const src = join(work, 'split');
    const expected = await writeTree(src, { 'a.bin': 100000, 'b.bin': 0, 'c.bin': 7 }, 7);
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--message-bytes', '4096', src]);
    expect(send.code, send.stderr).to.equal(0);
    expect(send.stdout).to.match(/in (2[5-9]|[3-9]\d) messages/);
    const r = await recv.done();
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/3 of 3 files, .*all SHA-256 verified/);
    expect(Object.fromEntries(await hashTree(out))).to.deep.equal(Object.fromEntries([...expected].map(([k, v]) => [`split/${k}`, v])));
  });

  it('says the port is in use, in one line with exit code 1, when recv cannot bind', async () => {
    const blocker: NetServer = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out'), '--timeout-ms', '1000']);
      expect(r.code).to.equal(1);
      expect(linesOf(r.stderr)).to.deep.equal([`lightbeam recv: cannot listen on 127.0.0.1:${port}: address already in use`]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('says the receiver is unreachable, in one line with exit code 1, when nothing listens', async () => {
    const src = join(work, 'x');
    await writeTree(src, { 'x.bin': 10 }, 1);
    const port = await freePort();
    const r = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '2000', src]);
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.deep.equal([`lightbeam send: cannot reach 127.0.0.1:${port}: connection refused (is "lightbeam recv" listening there?)`]);
  });

  it('ends recv with exit code 1 and a clear line when --timeout-ms passes before --count transfers', async () => {
    const port = await freePort();
    const r = await runCli(['recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out'), '--count', '1', '--timeout-ms', '300']);
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.deep.equal(['lightbeam recv: no message for 300 ms; 0 of 1 transfers finished']);
  });
});
