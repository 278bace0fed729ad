/**
 * Issue #22 item 10: the fabric suite's `fi_pingpong` peer used a fixed (later a random) control
 * port; with it taken, the suite threw and left its server running. The port is now picked free
 * for each try, and both processes end with every try.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fiPingpongRow } from '../../bench/fabric/fi-pingpong.js';
import { alive } from '../support/process-alive.js';

/** fi_pingpong's default control port. */
const DEFAULT_PORT = 47592;

describe('bench/fabric fi_pingpong peer (issue #22 item 10)', function () {
  this.timeout(60000);
  let work: string;
  let blocker: net.Server | null = null;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lbm-fipp-'));
  });

  afterEach(async () => {
    if (blocker !== null) await new Promise<void>((r) => blocker!.close(() => r()));
    blocker = null;
    await rm(work, { recursive: true, force: true });
  });

  it("measures with fi_pingpong's default port taken", async function () {
    if (spawnSync('fi_pingpong', ['-h']).error !== undefined) this.skip();
    blocker = net.createServer();
    const taken = await new Promise<boolean>((resolve) => {
      blocker!.once('error', () => resolve(false));
      blocker!.listen(DEFAULT_PORT, () => resolve(true));
    });
    if (!taken) blocker = null; // someone else holds it: the condition under test holds anyway
    const row = await fiPingpongRow(['-p', 'tcp;ofi_rxm', '-e', 'rdm', '-S', '64', '-I', '10'], /^64\s/, { timeoutMs: 20000 });
    expect(row.trim().split(/\s+/)).to.have.length.above(6);
  });

  it('kills both processes of a try that never ends, and says which ports it tried', async function () {
    if (process.platform !== 'linux') this.skip();
    const pids = join(work, 'pids');
    const fake = join(work, 'fake-pingpong.sh');
    await writeFile(fake, `#!/bin/sh\necho $$ >> '${pids}'\nexec sleep 300\n`);
    await chmod(fake, 0o755);
    let err: Error | null = null;
    await fiPingpongRow(['-S', '64'], /^64\s/, { command: fake, timeoutMs: 300, attempts: 2, serverStartMs: 50 }).catch((e: Error) => (err = e));
    expect(String(err)).to.match(/printed no row matching .* on control port\(s\) \d+ \(timed out after 300 ms\), \d+ \(timed out/);
    const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(started).to.have.length(4);
    for (const pid of started) expect(alive(pid), `pid ${pid}`).to.equal(false);
  });
});
