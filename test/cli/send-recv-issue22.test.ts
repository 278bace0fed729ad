/**
 * Issue #22 item 11, the file-transfer part: `recv --out` creates nothing before a file arrives;
 * file modes arrive as sent; `send` stopped by SIGINT says so in one line; and a `send` with
 * several files refused names them all.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { LbmMeta, decodeMeta, encodeMeta } from '@lightbeam/core';
import type { Archive } from '@lightbeam/core';
import { FileBatchMeta, FileEntry } from '@lightbeam/cli';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

describe('lightbeam send/recv (issue #22 item 11)', function () {
  this.timeout(90000);
  let work: string;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-i22-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('recv --out into a new tree creates nothing until a file arrives, then the tree and the file', async () => {
    const port = await freePort();
    const out = join(work, 'new', 'dir', 'x');
    const idle = await runCli(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '300', '--no-progress']);
    expect(idle.code, idle.stderr).to.equal(1);
    expect(idle.stdout).to.contain('(created when the first file arrives)');
    expect(existsSync(join(work, 'new')), 'a receiver that got nothing left a tree behind').to.equal(false);

    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000', '--no-progress']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    expect(existsSync(join(work, 'new'))).to.equal(false);
    const src = join(work, 'src');
    const expected = await writeTree(src, { 'a.bin': 1000 }, 3);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--no-progress', join(src, 'a.bin')]);
    expect(send.code, send.stderr).to.equal(0);
    expect((await recv.done(30000)).code).to.equal(0);
    expect(Object.fromEntries(await hashTree(out))).to.deep.equal({ 'a.bin': expected.get('a.bin') });
  });

  it('recv --out under a file is refused at once, naming it', async () => {
    await writeFile(join(work, 'plain'), 'x');
    const r = await runCli(['recv', '--listen', `127.0.0.1:${await freePort()}`, '--out', join(work, 'plain', 'x'), '--no-progress']);
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.deep.equal([`lightbeam recv: cannot create the output folder ${join(work, 'plain', 'x')}: ${join(work, 'plain')} is not a folder`]);
  });

  it('keeps file modes: 755 arrives 755, 600 arrives 600, and no setuid bit crosses', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const src = join(work, 'src');
    await writeTree(src, { 'run.sh': 10, 'secret.txt': 20, 'plain.txt': 30 }, 6);
    await chmod(join(src, 'run.sh'), 0o4755);
    await chmod(join(src, 'secret.txt'), 0o600);
    await chmod(join(src, 'plain.txt'), 0o644);
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000', '--no-progress']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--no-progress', src]);
    expect(send.code, send.stderr).to.equal(0);
    expect((await recv.done(30000)).code).to.equal(0);
    // The test process's umask is the receiver's too: the modes above survive the usual 022.
    const mode = async (n: string): Promise<string> => ((await stat(join(out, 'src', n))).mode & 0o7777).toString(8);
    expect({ run: await mode('run.sh'), secret: await mode('secret.txt'), plain: await mode('plain.txt') }).to.deep.equal({ run: '755', secret: '600', plain: '644' });
  });

  it('reads messages with and without modes: an older sender gives none, an older receiver skips them', () => {
    const meta = new FileBatchMeta();
    meta.transferId = 't';
    meta.files.push(Object.assign(new FileEntry(), { path: 'a', size: 1 }));
    meta.modes.push(0o755);
    const withModes = encodeMeta(meta);
    const back = new FileBatchMeta();
    expect(decodeMeta(withModes, back)).to.equal(0);
    expect(back.modes).to.deep.equal([0o755]);
    // The same message as an older sender wrote it: no modes vector at the end.
    const without = withModes.subarray(0, withModes.byteLength - 12);
    const old = new FileBatchMeta();
    expect(decodeMeta(without, old)).to.equal(0);
    expect(old.modes).to.deep.equal([]);
    expect(old.files[0].path).to.equal('a');
    // An older receiver declares the fields up to `files` only and ignores what follows.
    class OlderMeta extends LbmMeta {
      files: FileEntry[] = [];
      override serialize(ar: Archive): void {
        super.serialize(ar);
        ar.string('');
        ar.u32(0);
        ar.usize(0);
        ar.bool(false);
        this.files = ar.vector(this.files, (a, e) => a.object(e, () => new FileEntry()));
      }
    }
    const older = new OlderMeta();
    expect(decodeMeta(withModes, older)).to.equal(0);
    expect(older.files[0].path).to.equal('a');
  });

  it('send stopped by SIGINT says where it was, in one line, and exits 130', async () => {
    const port = await freePort();
    // Accepts TCP on the data port (the reachability probe passes) while nothing answers on the
    // reply path: send then waits there, with its signal handling in place.
    let connected: () => void = () => {};
    const reached = new Promise<void>((r) => (connected = r));
    const silent: NetServer = createServer((sock) => {
      connected();
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    try {
      const src = join(work, 'src');
      await writeTree(src, { 'a.bin': 100, 'b.bin': 100 }, 8);
      const send = new CliProcess(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '30000', '--no-progress', src]);
      procs.push(send);
      await reached;
      send.child.kill('SIGINT');
      const r = await send.done(20000);
      expect(r.code).to.equal(130);
      expect(linesOf(r.stderr)).to.have.length(1);
      expect(r.stderr).to.match(/^lightbeam send: stopped by SIGINT while (reaching the receiver|waiting for the receiver's reply path), 0 of 2 files queued; /);
    } finally {
      silent.close();
    }
  });

  it('send names every refused file when several are refused, and the others still arrive', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const names = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'];
    // Each name is taken in the output folder: recv refuses all five, and receives new.txt.
    await mkdir(join(out, 'src'), { recursive: true });
    for (const n of names) await writeFile(join(out, 'src', n), 'kept');
    const src = join(work, 'src');
    const expected = await writeTree(src, Object.fromEntries([...names, 'new.txt'].map((n) => [n, 64])), 9);
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000', '--no-progress']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '20000', '--no-progress', src]);
    expect(send.code).to.equal(1);
    expect(linesOf(send.stderr)).to.deep.equal([
      'lightbeam send: the receiver refused 5 of 6 files: src/a.txt, src/b.txt, src/c.txt, src/d.txt, src/e.txt; ' +
        'the first: refused "src/a.txt": a file of that name exists in the output folder (recv --force replaces it)',
    ]);
    expect((await recv.done(30000)).code).to.equal(1);
    const got = await hashTree(out);
    expect(got.get('src/new.txt')).to.equal(expected.get('new.txt'));
  });
});
