/**
 * The receiver refuses names that would write outside its output folder (absolute paths, `..`,
 * NUL bytes, backslashes, symbolic links planted in the folder), says so, and stays up for the
 * next transfer. The hostile sender is this test process, speaking the core API directly.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BULK_XFER, Transport, TransportFactory, expose } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { FileBatchMeta, FileEntry, UnsafePathError, checkRelativePath, prepareTarget } from '@lightbeam/cli';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree } from './support/random-tree.js';

function entry(path: string, data: Uint8Array): FileEntry {
  const e = new FileEntry();
  e.path = path;
  e.size = data.byteLength;
  e.sha256 = new Uint8Array(createHash('sha256').update(data).digest());
  e.offset = 0;
  return e;
}

function hostileMeta(names: readonly string[], data: Uint8Array): FileBatchMeta {
  const meta = new FileBatchMeta();
  meta.transferId = 'hostile-1';
  meta.fileCount = names.length;
  meta.totalBytes = names.length * data.byteLength;
  meta.final = true;
  for (const n of names) {
    meta.files.push(entry(n, data));
    meta.send.push(expose(data, data.byteLength, BULK_XFER));
  }
  return meta;
}

describe('lightbeam recv path safety', function () {
  this.timeout(60000);
  let work: string;
  let client: Client | null = null;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-paths-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await client?.close();
    client = null;
    await rm(work, { recursive: true, force: true });
  });

  it('refuses traversal names and a planted symlink, writes nothing outside, and keeps receiving', async () => {
    const out = join(work, 'out');
    const outside = join(work, 'outside');
    await mkdir(out, { recursive: true });
    await mkdir(outside);
    // A link planted in the output folder, pointing out of it.
    await symlink(outside, join(out, 'escape'));
    const port = await freePort();
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '2', '--timeout-ms', '30000', '--json']);
    procs.push(recv);
    await recv.waitForStdout(/"event":"listening"/);

    const evil = ['../evil.txt', '/tmp/lightbeam-abs-evil.txt', 'a/../../evil2.txt', 'nul\0byte.txt', 'back\\..\\slash.txt', 'escape/pwned.txt', 'ok-in-hostile.txt'];
    const data = new TextEncoder().encode('you should not see this outside\n');
    client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
    expect(await client.send(hostileMeta(evil, data), { timeoutMs: 10000 })).to.equal(0);

    // The next, honest transfer must still arrive.
    const src = join(work, 'honest');
    await mkdir(src);
    await writeFile(join(src, 'good.txt'), 'fine\n');
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src]);
    expect(send.code, send.stderr).to.equal(0);

    const r = await recv.done();
    // Something was refused, so the receiver's exit code says so.
    expect(r.code).to.equal(1);
    // With --json the per-file lines for people ("received ...") share stderr with the errors.
    const errors = linesOf(r.stderr).filter((l) => !l.startsWith('received '));
    expect(errors).to.have.length(6);
    for (const l of errors) expect(l).to.match(/^lightbeam recv: refused /);
    expect(r.stderr).to.contain('"../evil.txt": it leaves the output folder through ".."');
    expect(r.stderr).to.contain('"/tmp/lightbeam-abs-evil.txt": absolute paths are not allowed');
    expect(r.stderr).to.contain('contains a NUL byte');
    expect(r.stderr).to.contain('contains a backslash');
    expect(r.stderr).to.contain('"escape" is a symbolic link');

    const reports = linesOf(r.stdout).filter((l) => l.includes('"event":"transfer"')).map((l) => JSON.parse(l));
    expect(reports).to.have.length(2);
    expect(reports[0].received.map((f: { path: string }) => f.path)).to.deep.equal(['ok-in-hostile.txt']);
    expect(reports[0].refused).to.have.length(6);
    expect(reports[1].refused).to.deep.equal([]);
    expect(reports[1].received.map((f: { path: string }) => f.path)).to.deep.equal(['honest/good.txt']);

    expect(await readdir(outside)).to.deep.equal([]);
    expect(await stat('/tmp/lightbeam-abs-evil.txt').then(() => true, () => false)).to.equal(false);
    expect(await readdir(work)).to.have.members(['out', 'outside', 'honest']);
    expect([...(await hashTree(out)).keys()].sort()).to.deep.equal(['honest/good.txt', 'ok-in-hostile.txt']);
  });

  it('refuses a message whose entries do not match its bulks, and drops its data', async () => {
    const out = join(work, 'out');
    const port = await freePort();
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const data = new Uint8Array([1, 2, 3]);
    const meta = hostileMeta(['a.bin'], data);
    meta.send.push(expose(data, 3, BULK_XFER));
    client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
    expect(await client.send(meta, { timeoutMs: 10000 })).to.equal(0);
    const r = await recv.done();
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.deep.equal(['lightbeam recv: refused a message with 1 file entries for 2 bulks']);
    expect(await hashTree(out)).to.have.property('size', 0);
  });
});

describe('lightbeam recv hash check', function () {
  this.timeout(60000);
  let work: string;
  let client: Client | null = null;
  let recv: CliProcess | null = null;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-hash-'));
  });

  afterEach(async () => {
    recv?.kill();
    await client?.close();
    client = null;
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a file whose SHA-256 does not match, leaves no file or temporary behind', async () => {
    const out = join(work, 'out');
    const port = await freePort();
    recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000']);
    await recv.waitForStdout(/^listening on /);
    const data = new TextEncoder().encode('the real content');
    const meta = hostileMeta(['liar.txt', 'honest.txt'], data);
    meta.files[0].sha256 = new Uint8Array(32).fill(7);
    client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
    expect(await client.send(meta, { timeoutMs: 10000 })).to.equal(0);
    const r = await recv.done();
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.have.length(1);
    expect(linesOf(r.stderr)[0]).to.match(/^lightbeam recv: liar\.txt: SHA-256 mismatch: expected 0707/);
    expect(await readdir(out)).to.deep.equal(['honest.txt']);
  });
});

describe('checkRelativePath / prepareTarget', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lightbeam-safe-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const bad of ['', '..', '../x', 'a/..', 'a/../b', '/etc/passwd', 'C:/x', 'c:x', 'a\\b', 'a\0b', 'a//b', './a', 'a/.', 'x'.repeat(5000)]) {
    it(`refuses ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 8)}... (${bad.length} chars)` : bad)}`, () => {
      expect(() => checkRelativePath(bad)).to.throw(UnsafePathError);
    });
  }

  it('accepts plain nested names and dots inside names', () => {
    expect(checkRelativePath('a/b/c.txt')).to.deep.equal(['a', 'b', 'c.txt']);
    expect(checkRelativePath('..hidden/x..y')).to.deep.equal(['..hidden', 'x..y']);
  });

  it('creates the parent folders inside the root and returns the target', async () => {
    expect(await prepareTarget(root, 'a/b/c.txt')).to.equal(join(root, 'a', 'b', 'c.txt'));
    expect((await readdir(join(root, 'a'))).sort()).to.deep.equal(['b']);
  });

  it('refuses a symbolic link as a parent or as the target, and a file as a parent', async () => {
    await symlink(tmpdir(), join(root, 'link'));
    await writeFile(join(root, 'file'), 'x');
    await symlink(join(root, 'file'), join(root, 'filelink'));
    for (const [name, why] of [
      ['link/x', 'is a symbolic link'],
      ['filelink', 'the target is a symbolic link'],
      ['file/x', 'is not a folder'],
    ]) {
      const err = await prepareTarget(root, name).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).to.be.instanceOf(UnsafePathError);
      expect((err as Error).message).to.contain(why);
    }
  });
});
