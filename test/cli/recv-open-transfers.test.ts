/**
 * Issue #13 item 4: `lightbeam recv` used to keep an open file and a `.lbpart` for every file
 * started and never finished, with no cap and no expiry: 1,500 hostile ~100-byte messages under
 * `ulimit -n 1024`, and a legitimate file then failed with EMFILE. Files being written and
 * transfers in progress are now capped (the transfer silent the longest gives way), silent
 * transfers expire, and an abandoned transfer leaves no handle and no `.lbpart` behind.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BULK_XFER, Transport, TransportFactory, expose } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { FileBatchMeta, FileEntry } from '@lightbeam/cli';
import { CLI_MAIN, CliProcess, freePort, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

/** The first 100 bytes of a 1000-byte file, in a transfer of its own that never finishes. */
function unfinished(i: number): FileBatchMeta {
  const m = new FileBatchMeta();
  m.transferId = `hostile-${i}`;
  m.fileCount = 1;
  m.totalBytes = 1000;
  const e = new FileEntry();
  e.path = `h/${i}.bin`;
  e.size = 1000;
  e.sha256 = new Uint8Array(createHash('sha256').update(String(i)).digest());
  m.files.push(e);
  const data = new Uint8Array(100).fill(i & 0xff);
  m.send.push(expose(data, data.byteLength, BULK_XFER));
  return m;
}

/** `.lbpart` files anywhere under `dir`. */
async function partials(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.lbpart')) out.push(join(d, e.name));
    }
  };
  await walk(dir);
  return out;
}

/** Open file descriptors of a process (Linux). */
function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resolves once `count` lines of stderr match `re` (bounded by `ms`). */
async function stderrLines(p: CliProcess, re: RegExp, count: number, ms = 30000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const n = p.stderr.split('\n').filter((l) => re.test(l)).length;
    if (n >= count) return;
    if (Date.now() > deadline) throw new Error(`${n} of ${count} stderr lines matching ${re} within ${ms} ms; stderr tail: ${p.stderr.slice(-500)}`);
    if (p.child.exitCode !== null) throw new Error(`recv exited (${p.child.exitCode}); stderr tail: ${p.stderr.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lightbeam recv open transfers (issue #13 item 4)', function () {
  this.timeout(120000);
  let work: string;
  let client: Client | null = null;
  const procs: CliProcess[] = [];

  beforeEach(async function () {
    if (process.platform !== 'linux') this.skip();
    work = await mkdtemp(join(tmpdir(), 'lightbeam-open-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await client?.close();
    client = null;
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  async function sendHostile(port: number, n: number): Promise<void> {
    client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
    for (let i = 0; i < n; i++) expect(await client.send(unfinished(i), { timeoutMs: 10000 })).to.equal(0);
  }

  it('keeps at most --max-open-files partial files and handles, abandoning the transfers silent the longest', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--max-open-files', '8', '--max-transfers', '1000']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const baseFds = fdCount(recv.child.pid!);
    await sendHostile(port, 50);
    await stderrLines(recv, /^lightbeam recv: transfer hostile-\d+ abandoned after 0 of 1 files: 8 files were being written at once/, 42);
    expect(await partials(out)).to.have.length(8);
    expect(fdCount(recv.child.pid!) - baseFds).to.be.at.most(8 + 2);
  });

  it('abandons silent transfers after --idle-ms, closing and removing their partial files', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--idle-ms', '300']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const baseFds = fdCount(recv.child.pid!);
    await sendHostile(port, 5);
    await stderrLines(recv, /^lightbeam recv: transfer hostile-\d+ abandoned after 0 of 1 files: no message for 300 ms$/, 5);
    expect(await partials(out)).to.deep.equal([]);
    expect(fdCount(recv.child.pid!)).to.be.at.most(baseFds + 2);
  });

  it('still takes a legitimate file after 1,500 hostile messages under ulimit -n 256', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const argv = [CLI_MAIN, 'recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '60000'];
    // The shell lowers the descriptor limit, then becomes the receiver.
    const recv = new CliProcess(['-c', `ulimit -n 256 && exec "${process.execPath}" ${argv.map((a) => `'${a}'`).join(' ')}`], undefined, '/bin/sh');
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    await sendHostile(port, 1500);
    // --max-transfers 16 by default: every new hostile transfer abandons the oldest.
    await stderrLines(recv, /^lightbeam recv: transfer hostile-\d+ abandoned/, 1500 - 16, 60000);
    const src = join(work, 'good');
    const expected = await writeTree(src, { 'a.bin': 100000, 'b.bin': 10 }, 4);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src], { timeoutMs: 30000 });
    expect(send.code, send.stderr).to.equal(0);
    const r = await recv.done(30000);
    expect(r.stderr).to.not.match(/EMFILE|too many open files/i);
    expect(r.stdout).to.match(/2 of 2 files, .*all SHA-256 verified/);
    const got = Object.fromEntries([...(await hashTree(out))].filter(([k]) => k.startsWith('good/')));
    expect(got).to.deep.equal({ 'good/a.bin': expected.get('a.bin'), 'good/b.bin': expected.get('b.bin') });
    expect(await partials(out)).to.deep.equal([]);
  });
});
