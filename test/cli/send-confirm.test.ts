/**
 * Issue #13 item 5: `lightbeam send` used to exit 0 and print "sent" when nothing arrived (the
 * receiver killed mid-transfer, or the port held by another service). The receiver now confirms
 * each file's verified SHA-256 on its reply path (data port + 1), and `send` exits 1 with one
 * line on stderr unless every file is confirmed in time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { Pull, Router } from 'zeromq';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { writeTree } from './support/random-tree.js';

const MiB = 1024 * 1024;

/** Whether a TCP port on 127.0.0.1 could be bound a moment ago (closed again before this resolves). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A TCP port whose successor is free too (the data port and the reply port). */
async function freePair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && (await canBind(p + 1))) return p;
  }
  throw new Error('no free pair of ports');
}

/**
 * A receiver of our own making: takes the data, answers `watch`, and confirms what `confirm`
 * says (path → SHA-256 hex to claim) once the transfer's final message arrived.
 */
async function fakeReceiver(port: number, confirm: (paths: string[]) => Record<string, string>): Promise<{ close(): Promise<void> }> {
  const data = await ZeroMqServer.create('127.0.0.1', 'tcp', port);
  const reply = new Router({ linger: 0 });
  await reply.bind(`tcp://127.0.0.1:${port + 1}`);
  let watcher: Buffer | null = null;
  let transferId = '';
  const stop = new AbortController();
  const replies = (async () => {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await reply.receive();
      } catch {
        return;
      }
      const req = JSON.parse(frames[1].toString()) as { transferId: string };
      watcher = frames[0];
      transferId = req.transferId;
      await reply.send([watcher, JSON.stringify({ event: 'watching', transferId })]);
    }
  })();
  const intake = (async () => {
    const { FileBatchMeta } = await import('@lightbeam/cli');
    const paths: string[] = [];
    for (;;) {
      const m = new FileBatchMeta();
      const rc = await data.waitMetadata(m, { signal: stop.signal });
      if (rc !== 0) return;
      for (const f of m.files) paths.push(f.path);
      m.recv = [];
      await data.recvBulks(m);
      if (m.final && watcher !== null) {
        for (const [path, sha256] of Object.entries(confirm([...new Set(paths)]))) {
          await reply.send([watcher, JSON.stringify({ event: 'file', transferId, path, sha256 })]);
        }
      }
    }
  })();
  return {
    async close() {
      stop.abort();
      await intake;
      reply.close();
      await replies;
      await data.close();
    },
  };
}

describe('lightbeam send confirmation (issue #13 item 5)', function () {
  this.timeout(120000);
  let work: string;
  const procs: CliProcess[] = [];
  const closers: Array<{ close(): unknown }> = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-confirm-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    for (const c of closers.splice(0)) await c.close();
    await rm(work, { recursive: true, force: true });
  });

  it('says every SHA-256 was confirmed by the receiver when it was', async () => {
    const port = await freePair();
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out'), '--count', '1', '--timeout-ms', '30000']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on .*\(confirmations on port \d+\)/);
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 1000, 'b/c.bin': 2 * MiB + 3, 'e.bin': 0 }, 5);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--message-bytes', String(MiB), src]);
    expect(send.code, send.stderr).to.equal(0);
    expect(send.stdout).to.match(/sent 3 files .* every SHA-256 confirmed by the receiver/);
    expect((await recv.done()).code).to.equal(0);
  });

  it('exits 1 with one line when the port belongs to another service that swallows the data', async () => {
    const port = await freePair();
    const other = new Pull({ linger: 0 });
    closers.push(other);
    await other.bind(`tcp://127.0.0.1:${port}`);
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 5000 }, 6);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '1500', src]);
    expect(send.code).to.equal(1);
    expect(linesOf(send.stderr)).to.deep.equal([
      `lightbeam send: no answer on the reply path at 127.0.0.1:${port + 1} within 1500 ms (is "lightbeam recv" listening there, with the same CURVE keys? --no-confirm sends without confirmation)`,
    ]);
  });

  it('exits 1 with one line when the receiver takes the data but never confirms it', async () => {
    const port = await freePair();
    closers.push(await fakeReceiver(port, () => ({})));
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 5000, 'b.bin': 7 }, 7);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '1500', src]);
    expect(send.code).to.equal(1);
    expect(linesOf(send.stderr)).to.deep.equal([
      `lightbeam send: no confirmation from the receiver at 127.0.0.1:${port + 1} within 1500 ms: 0 of 2 files confirmed (was it stopped?)`,
    ]);
  });

  it('exits 1 naming the file when the receiver confirms a different SHA-256', async () => {
    const port = await freePair();
    const wrong = 'ab'.repeat(32);
    closers.push(await fakeReceiver(port, (paths) => Object.fromEntries(paths.map((p) => [p, wrong]))));
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 5000 }, 8);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '5000', src]);
    expect(send.code).to.equal(1);
    const err = linesOf(send.stderr);
    expect(err).to.have.length(1);
    expect(err[0]).to.match(new RegExp(`^lightbeam send: the receiver confirmed src/a\\.bin with SHA-256 ${wrong}, but [0-9a-f]{64} was sent$`));
  });

  it('exits 1 with one line when the receiver is killed mid-transfer', async () => {
    const port = await freePair();
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out')]);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 10, 'z.bin': 48 * MiB }, 9);
    const send = new CliProcess(['send', '--to', `127.0.0.1:${port}`, '--message-bytes', String(MiB), '--timeout-ms', '3000', src]);
    procs.push(send);
    await recv.waitForStdout(/^received src\/a\.bin/);
    recv.child.kill('SIGKILL');
    const r = await send.done(60000);
    expect(r.code).to.equal(1);
    const err = linesOf(r.stderr);
    expect(err).to.have.length(1);
    // "received src/a.bin" is printed just before its confirmation is queued: the kill can beat it out.
    expect(err[0]).to.match(/^lightbeam send: (no confirmation from the receiver at .* within 3000 ms: [01] of 2 files confirmed|the receiver at .* took nothing for 3000 ms)/);
    expect(r.stdout).to.not.match(/confirmed by the receiver/);
  });

  it('sends without waiting with --no-confirm, and says so', async () => {
    const port = await freePair();
    const other = new Pull({ linger: 0 });
    closers.push(other);
    await other.bind(`tcp://127.0.0.1:${port}`);
    const src = join(work, 'src');
    await writeTree(src, { 'a.bin': 10 }, 10);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--no-confirm', src]);
    expect(send.code, send.stderr).to.equal(0);
    expect(send.stdout).to.match(/not confirmed \(--no-confirm\)/);
    // The data went out as usual: one metadata frame and one data frame.
    expect(await other.receive()).to.have.length(2);
  });
});
