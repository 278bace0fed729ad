/**
 * Issue #14 ("tried as a new user would"): `bridge` took `tcp://` URLs while `send` and `recv`
 * took `host:port`, so an address copied from one command failed in the other. Every address
 * option takes both forms, and the help says so.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';

describe('lightbeam addresses as host:port or tcp://host:port (issue #14)', function () {
  this.timeout(60000);
  let work: string;
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-address-'));
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    await rm(work, { recursive: true, force: true });
  });

  it('send --to and recv --listen take tcp://host:port', async () => {
    const file = join(work, 'a.txt');
    await writeFile(file, 'over tcp://\n');
    const port = await freePort();
    const recv = new CliProcess(['recv', '--listen', `tcp://127.0.0.1:${port}`, '--out', join(work, 'out'), '--count', '1', '--timeout-ms', '30000']);
    procs.push(recv);
    await recv.waitForStdout(/^listening on tcp:\/\/127\.0\.0\.1:\d+,/);
    const send = await runCli(['send', '--to', `tcp://127.0.0.1:${port}`, file], { timeoutMs: 30000 });
    expect(send.code, send.stderr).to.equal(0);
    const r = await recv.done(30000);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/1 of 1 files, .*all SHA-256 verified/);
  });

  it('bridge --listen and --peer take host:port', async () => {
    const port = await freePort();
    const listen = new CliProcess(['bridge', '--listen', `127.0.0.1:${port}`]);
    procs.push(listen);
    expect(await listen.waitForStdout(/^bridge ready /)).to.include(`listen=tcp://127.0.0.1:${port} `);
    const peer = new CliProcess(['bridge', '--peer', `127.0.0.1:${port}`, '--channels', 'a']);
    procs.push(peer);
    expect(await peer.waitForStdout(/^bridge ready /)).to.include(`peer=tcp://127.0.0.1:${port} `);
  });

  it('refuses another scheme where only TCP makes sense, in one line, exit 2', async () => {
    const r = await runCli(['recv', '--listen', 'udp://127.0.0.1:9000', '--out', join(work, 'out')]);
    expect(r.code).to.equal(2);
    expect(linesOf(r.stderr)).to.deep.equal([
      'lightbeam recv: --listen: expected host:port or tcp://host:port, got "udp://127.0.0.1:9000" (udp:// is not supported here)',
    ]);
  });

  for (const [sub, option] of [
    ['send', '--to'],
    ['recv', '--listen'],
    ['demo', '--remote'],
    ['demo-remote', '--listen'],
    ['bridge', '--listen'],
    ['bridge', '--peer'],
  ] as const) {
    it(`says in ${sub} --help that ${option} takes both forms`, async () => {
      const r = await runCli([sub, '--help']);
      expect(r.code).to.equal(0);
      // The option's entry in the Options list, up to the next option (Commander wraps it).
      const entry = new RegExp(`\\n  ${option} <[^>]+>([\\s\\S]*?)\\n  -`).exec(r.stdout);
      expect(entry, `${option} in ${sub} --help`).not.to.equal(null);
      const described = (entry as RegExpExecArray)[1].replace(/\s+/g, ' ');
      expect(described).to.include('host:port');
      expect(described).to.include('tcp://host:port');
    });
  }
});
