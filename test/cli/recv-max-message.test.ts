/**
 * Issue #13 item 2: `lightbeam recv --max-message-bytes` used to be checked only once the whole
 * message was in memory (a 1 GiB message took the receiver's peak RSS past 1 GB). ZeroMQ's own
 * bound (ZMQ_MAXMSGSIZE) is now set on the socket: a peer sending a larger frame is disconnected
 * while its header is read, the message never reaches the receiver, and its memory never grows.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BULK_XFER, encodeMeta } from '@lightbeam/core';
import { FileBatchMeta, FileEntry } from '@lightbeam/cli';
import { Push } from 'zeromq';
import { CliProcess, freePort, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

const MiB = 1024 * 1024;

/** Peak resident memory of a process in bytes (Linux `VmHWM`). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** One piece of a file claiming `size` bytes: metadata frame plus a data frame of that size. */
function bigMessage(size: number): Uint8Array[] {
  const meta = new FileBatchMeta();
  meta.transferId = 'too-big';
  meta.fileCount = 1;
  meta.totalBytes = size;
  meta.final = true;
  const e = new FileEntry();
  e.path = 'big.bin';
  e.size = size;
  meta.files.push(e);
  meta.send.push({ data: null, size, flags: BULK_XFER });
  return [encodeMeta(meta), new Uint8Array(size)];
}

describe('lightbeam recv --max-message-bytes before memory (issue #13 item 2)', function () {
  this.timeout(90000);
  let work: string;
  const procs: CliProcess[] = [];
  let push: Push | null = null;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-maxmsg-'));
  });

  afterEach(async () => {
    push?.close();
    push = null;
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('never reads a 64 MiB frame past a 1 MiB limit: the sender is disconnected, memory stays flat, the next transfer arrives', async function () {
    if (process.platform !== 'linux') this.skip();
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '60000', '--max-message-bytes', String(MiB)]);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const before = peakRss(recv.child.pid!);

    push = new Push({ linger: 0 });
    // ZeroMQ drops a peer whose frame is too large by closing its connection: wait for that, or
    // for the receiver to report the message (what it did before the socket had the bound).
    const disconnected = new Promise<void>((resolve) => push!.events.on('disconnect', () => resolve()));
    push.connect(`tcp://127.0.0.1:${port}`);
    await push.send(bigMessage(64 * MiB));
    let poll: NodeJS.Timeout | undefined;
    const reported = new Promise<void>((resolve) => {
      poll = setInterval(() => {
        if (recv.stderr.includes('refused a message')) resolve();
      }, 20);
    });
    await Promise.race([disconnected, reported]).finally(() => clearInterval(poll));
    expect(recv.stderr).to.not.contain('refused a message');
    const growth = peakRss(recv.child.pid!) - before;
    expect(growth, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`).to.be.below(32 * MiB);

    const src = join(work, 'good');
    const expected = await writeTree(src, { 'a.bin': 300000 }, 2);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src], { timeoutMs: 30000 });
    expect(send.code, send.stderr).to.equal(0);
    const r = await recv.done(30000);
    expect(r.code, r.stderr).to.equal(0);
    expect(Object.fromEntries(await hashTree(out))).to.deep.equal({ 'good/a.bin': expected.get('a.bin') });
  });
});
