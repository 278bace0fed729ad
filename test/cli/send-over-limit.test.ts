/**
 * Issue #22 item 4: a `send` whose messages are larger than the receiver's --max-message-bytes
 * (by more than the room kept for metadata) failed silently: ZeroMQ dropped the frame and the
 * sender's connection, the receiver said nothing, and the sender printed "sent" for every file
 * and then "no confirmation". The receiver now refuses such a transfer when the sender asks to be
 * watched, before any data leaves, and both sides print one line naming the limit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

const MiB = 1024 * 1024;

describe('lightbeam send above the receiver\'s --max-message-bytes (issue #22 item 4)', function () {
  this.timeout(90000);
  let work: string;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-overlimit-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('is refused before any data leaves, with one line on each side naming the limit', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '20000', '--max-message-bytes', '100', '--no-progress']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const src = join(work, 'src');
    await writeTree(src, { 'big.bin': 3 * MiB }, 4);

    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--timeout-ms', '20000', '--no-progress', join(src, 'big.bin')], { timeoutMs: 60000 });
    expect(send.code, send.stderr).to.equal(1);
    expect(send.stdout, 'nothing was sent').to.not.match(/^sent /m);
    expect(linesOf(send.stderr)).to.have.length(1);
    expect(send.stderr).to.match(/^lightbeam send: the receiver at 127\.0\.0\.1:\d+ refused the transfer before any data left: .*limit of 100 bytes per message \(recv --max-message-bytes\); send with --message-bytes 100 or less\n$/);

    const r = await recv.done(30000);
    expect(r.code, r.stderr).to.equal(1);
    expect(linesOf(r.stderr)).to.have.length(1);
    expect(r.stderr).to.match(/^lightbeam recv: refused transfer [\w-]+ before any data: its largest message carries 3145728 bytes of data, above the receiver's limit of 100 bytes/);
    expect(r.stdout).to.not.match(/no message for/);
    expect((await hashTree(out)).size).to.equal(0);
  });

  it('goes through once the sender keeps under the limit, as the line says', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '20000', '--max-message-bytes', String(MiB), '--no-progress']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const src = join(work, 'src');
    const expected = await writeTree(src, { 'big.bin': 3 * MiB }, 5);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, '--message-bytes', String(MiB), '--no-progress', join(src, 'big.bin')], { timeoutMs: 60000 });
    expect(send.code, send.stderr).to.equal(0);
    expect((await recv.done(30000)).code).to.equal(0);
    expect(Object.fromEntries(await hashTree(out))).to.deep.equal({ 'big.bin': expected.get('big.bin') });
  });
});
