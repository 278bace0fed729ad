/**
 * Issue #22 item 11, the file-transfer part: `recv --out` creates nothing before a file arrives;
 * file modes arrive as sent; `send` stopped by SIGINT says so in one line; and a `send` with
 * several files refused names them all.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
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
});
