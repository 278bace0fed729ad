/**
 * Issue #13 item 1: a message `lightbeam recv` refuses (file entries not matching the bulks) whose
 * recv vector on the wire holds a BULK_XFER entry used to stop the receiver with a TypeError from
 * `recvBulks`. It must be refused with one line, and the receiver must keep running and take the
 * next transfer intact.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BULK_XFER, Transport, TransportFactory, expose } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { FileBatchMeta } from '@lightbeam/cli';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

describe('lightbeam recv refusing a message whose wire recv vector carries BULK_XFER (issue #13 item 1)', function () {
  this.timeout(60000);
  let work: string;
  let client: Client | null = null;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-refusal-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await client?.close();
    client = null;
    await rm(work, { recursive: true, force: true });
  });

  it('refuses it in one line, keeps running, and receives the next transfer intact', async () => {
    const port = await freePort();
    const out = join(work, 'out');
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);

    // About 100 bytes on the wire: one data bulk, no file entry, and a recv entry with BULK_XFER.
    client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
    const hostile = new FileBatchMeta();
    hostile.transferId = 'hostile';
    const data = new Uint8Array(16).fill(7);
    hostile.send.push(expose(data, data.byteLength, BULK_XFER));
    hostile.recv.push({ data: null, size: 16, flags: BULK_XFER });
    expect(await client.send(hostile, { timeoutMs: 5000 })).to.equal(0);

    const src = join(work, 'good');
    const expected = await writeTree(src, { 'a.bin': 5000 }, 13);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src], { timeoutMs: 30000 });
    expect(send.code, send.stderr).to.equal(0);

    const r = await recv.done(30000);
    expect(linesOf(r.stderr)).to.deep.equal(['lightbeam recv: refused a message with 0 file entries for 1 bulks']);
    expect(r.stdout).to.match(/1 of 1 files, .*all SHA-256 verified/);
    expect(Object.fromEntries(await hashTree(out))).to.deep.equal({ 'good/a.bin': expected.get('a.bin') });
    // The refusal makes the run unclean: exit 1, but only after the legitimate transfer finished.
    expect(r.code).to.equal(1);
  });
});
