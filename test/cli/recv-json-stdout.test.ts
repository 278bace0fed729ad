/**
 * Issue #14 ("tried as a new user would"): `lightbeam recv --json` printed its per-file text lines
 * ("received a.bin ... verified") among the JSON lines on stdout, so a consumer parsing stdout line
 * by line failed. With --json, stdout carries JSON lines only; the lines for people go to stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { writeTree } from './support/random-tree.js';

describe('lightbeam recv --json (issue #14)', function () {
  this.timeout(60000);
  let work: string;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-json-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('prints only JSON lines on stdout, and the per-file lines on stderr', async () => {
    const src = join(work, 'data');
    await writeTree(src, { 'a.bin': 3000, 'sub/b.bin': 0 }, 14);
    const port = await freePort();
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out'), '--count', '1', '--timeout-ms', '30000', '--json']);
    procs.push(recv);
    await recv.waitForStdout(/"event":"listening"/);

    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src], { timeoutMs: 30000 });
    expect(send.code, send.stderr).to.equal(0);
    const r = await recv.done(30000);
    expect(r.code, r.stderr).to.equal(0);

    const events = linesOf(r.stdout).map((line) => {
      let parsed: { event?: unknown };
      try {
        parsed = JSON.parse(line) as { event?: unknown };
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
      return parsed.event;
    });
    expect(events).to.deep.equal(['listening', 'transfer']);
    // Nothing lost: the lines for people are still printed, on stderr.
    expect(linesOf(r.stderr).filter((l) => l.startsWith('received '))).to.have.length(2);
  });
});
