/**
 * Issue #14 ("tried as a new user would"): zeromq.js's "Waiting for queued ZeroMQ messages to be
 * delivered" warning leaked from `lightbeam send`. zeromq.js prints it when terminating its
 * context at process exit takes over 500 ms, that is when a socket still holds queued messages
 * and a linger to wait for them: `send --no-confirm` to a port that accepts TCP but never completes
 * ZeroMQ's handshake (a stopped receiver, another service, other CURVE keys) queued its messages
 * for nobody, exited 0 as if they were sent, then sat out the linger and printed the warning.
 * Now nothing is queued before the handshake (ZMQ_IMMEDIATE): the first message times out with
 * one line, exit 1, and the process leaves at once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliProcess, freePort, linesOf, runCli } from './support/run-cli.js';

const WARNING = /Waiting for queued ZeroMQ messages/;

describe('lightbeam send and zeromq.js\'s queued-messages warning (issue #14)', function () {
  this.timeout(60000);
  let work: string;
  let file: string;
  let silent: NetServer | null = null;
  const accepted: Socket[] = [];
  const procs: CliProcess[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lightbeam-queued-'));
    file = join(work, 'a.txt');
    await writeFile(file, 'hello\n');
  });

  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill();
    for (const s of accepted.splice(0)) s.destroy();
    await new Promise<void>((resolve) => (silent === null ? resolve() : silent.close(() => resolve())));
    silent = null;
    await rm(work, { recursive: true, force: true });
  });

  it('reports a peer that accepts TCP but never speaks ZeroMQ in one line, exit 1, without the warning', async () => {
    // Accepts connections and never answers ZeroMQ's greeting, as a stopped receiver would.
    silent = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => (silent as NetServer).listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const r = await runCli(['send', '--no-confirm', '--no-progress', '--timeout-ms', '1500', '--to', `127.0.0.1:${port}`, file], { timeoutMs: 30000 });
    expect(r.stderr).not.to.match(WARNING);
    expect(linesOf(r.stderr)).to.deep.equal([
      `lightbeam send: the receiver at 127.0.0.1:${port} accepted the connection but did not complete ZeroMQ's handshake within 1500 ms ` +
        '(is it a "lightbeam recv", running, with the same CURVE keys?)',
    ]);
    expect(r.code).to.equal(1);
  });

  for (const confirm of [true, false]) {
    it(`prints nothing on stderr when a receiver takes everything (${confirm ? 'confirmed' : '--no-confirm'})`, async () => {
      const port = await freePort();
      const recv = new CliProcess(['recv', '--listen', `127.0.0.1:${port}`, '--out', join(work, 'out'), '--count', '1', '--timeout-ms', '30000']);
      procs.push(recv);
      await recv.waitForStdout(/^listening on /);
      const r = await runCli(['send', '--no-progress', ...(confirm ? [] : ['--no-confirm']), '--to', `127.0.0.1:${port}`, file], { timeoutMs: 30000 });
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect((await recv.done(30000)).code).to.equal(0);
    });
  }
});
