/**
 * Issue #14 ("tried as a new user would"): `lightbeam demo-remote` doubled its prefix in what it
 * printed ("lightbeam demo-remote: demo-remote: cannot bind ..."), since its errors named the
 * command and main() names it again. Each error is one line, prefixed once.
 */
import { createServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import { expect } from 'chai';
import { freePort, linesOf, runCli } from '../cli/support/run-cli.js';

/** Holds a TCP port on 127.0.0.1 (resolves once listening). */
function hold(port: number): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('lightbeam demo-remote messages (issue #14)', function () {
  this.timeout(60000);
  let held: NetServer | null = null;

  afterEach(async () => {
    await new Promise<void>((resolve) => (held === null ? resolve() : held.close(() => resolve())));
    held = null;
  });

  for (const [what, offset] of [
    ['control', 0],
    ['bridge', 1],
  ] as const) {
    it(`names itself once when the ${what} port is in use, in one line, exit 1`, async () => {
      const port = await freePort();
      held = await hold(port + offset);
      const r = await runCli(['demo-remote', '--listen', `127.0.0.1:${port}`, '--once'], { timeoutMs: 30000 });
      expect(r.code, r.stderr).to.equal(1);
      const lines = linesOf(r.stderr);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^lightbeam demo-remote: cannot bind the ${what} port tcp://127\\.0\\.0\\.1:${port + offset}: .*in use`, 'i'));
      expect(lines[0]).not.to.match(/demo-remote: .*demo-remote:/);
    });
  }
});
