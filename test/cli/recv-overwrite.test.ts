/**
 * Issue #14 ("tried as a new user would"): `lightbeam recv` replaced a file already in its output
 * folder without a word. Now such a file is refused (one line, the file kept as it was, the other
 * files of the transfer received, exit 1 on both sides as for any refusal) unless `--force`.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';
import { hashTree, writeTree } from './support/random-tree.js';

describe('lightbeam recv and files already in the output folder (issue #14)', function () {
  this.timeout(60000);
  let work: string;
  let src: string;
  let out: string;
  let expected: Map<string, string>;
  const procs: CliProcess[] = [];
  const KEPT = 'what the receiving user had\n';

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-overwrite-'));
    src = join(work, 'data');
    expected = await writeTree(src, { 'taken.bin': 2000, 'new.bin': 3000 }, 1414);
    out = join(work, 'out');
    await mkdir(join(out, 'data'), { recursive: true });
    await writeFile(join(out, 'data', 'taken.bin'), KEPT);
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  async function transfer(extra: string[]): Promise<{ send: Awaited<ReturnType<typeof runCli>>; recv: Awaited<ReturnType<CliProcess['done']>> }> {
    const port = await freePort();
    const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', out, '--count', '1', '--timeout-ms', '30000', ...extra]);
    procs.push(recv);
    await recv.waitForStdout(/^listening on /);
    const send = await runCli(['send', '--to', `127.0.0.1:${port}`, src], { timeoutMs: 30000 });
    return { send, recv: await recv.done(30000) };
  }

  it('refuses a file whose name is taken, keeps it, and receives the others', async () => {
    const { send, recv } = await transfer([]);
    const kept = await readFile(join(out, 'data', 'taken.bin'), 'utf8');
    expect(kept === KEPT, 'the file already in the output folder was replaced').to.equal(true);
    const got = await hashTree(out);
    expect(got.get('data/new.bin')).to.equal(expected.get('new.bin'));
    expect(linesOf(recv.stderr)).to.deep.equal([
      'lightbeam recv: refused "data/taken.bin": a file of that name exists in the output folder (recv --force replaces it)',
    ]);
    expect(recv.code).to.equal(1);
    expect(linesOf(send.stderr)).to.deep.equal([
      'lightbeam send: the receiver refused "data/taken.bin": a file of that name exists in the output folder (recv --force replaces it)',
    ]);
    expect(send.code).to.equal(1);
    // No temporary file left behind.
    expect([...got.keys()].sort()).to.deep.equal(['data/new.bin', 'data/taken.bin']);
  });

  it('replaces it with --force', async () => {
    const { send, recv } = await transfer(['--force']);
    expect(send.code, send.stderr).to.equal(0);
    expect(recv.code, recv.stderr).to.equal(0);
    const got = await hashTree(out);
    expect(Object.fromEntries(got)).to.deep.equal({ 'data/new.bin': expected.get('new.bin'), 'data/taken.bin': expected.get('taken.bin') });
  });
});
