/**
 * Issue #22 item 10: `lightbeam bench` sat for minutes after a suite failed, because a child the
 * suite had started (there, `fi_pingpong`) outlived it and held the log pipe open. A failed suite
 * is now reported at once, the next suite runs, and nothing the failed suite started survives it.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { alive } from '../support/process-alive.js';
import { CliProcess, REPO_ROOT, linesOf, runCli } from './support/run-cli.js';

/** Starts a long sleeper that inherits stdout and stderr, writes its pid down, then throws. */
const ORPHANING_SUITE = `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const peer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300000)'], { stdio: 'inherit' });
writeFileSync(process.env.LIGHTBEAM_BENCH_OUT + '/peer.pid', String(peer.pid));
throw new Error('fi_pingpong printed no 64 B row');
`;

/** Starts a long sleeper, writes its pid down, then sleeps itself. */
const SLOW_SUITE = `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const peer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300000)'], { stdio: 'inherit' });
writeFileSync(process.env.LIGHTBEAM_BENCH_OUT + '/peer.pid', String(peer.pid));
console.log('started');
setTimeout(() => {}, 300000);
`;

const GOOD_SUITE = `
import { writeBenchResult } from './support/report-format.js';
await writeBenchResult('b-good', [{ task: 'ours size=64', side: 'ours', impl: 'lightbeam test', messageBytes: 64, opsPerSec: 1000, bytesPerSec: 64000 }]);
`;

describe('lightbeam bench with a failing suite (issue #22 item 10)', function () {
  this.timeout(120000);
  let root: string;
  let peerPid = 0;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lightbeam-bench-fail-'));
    await mkdir(join(root, 'bench'));
    await symlink(join(REPO_ROOT, 'bench', 'support'), join(root, 'bench', 'support'));
    await writeFile(join(root, 'bench', 'a-orphans.bench.ts'), ORPHANING_SUITE);
    await writeFile(join(root, 'bench', 'b-good.bench.ts'), GOOD_SUITE);
    await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
  });

  afterEach(async () => {
    if (peerPid > 0 && alive(peerPid)) process.kill(peerPid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('reports the failed suite, runs the next one, and leaves no child of the failed suite running', async function () {
    if (process.platform !== 'linux') this.skip();
    const out = join(root, 'out');
    // Without the fix the command waits for the 10-minute suite timeout: stopped here after 60 s.
    const r = await runCli(['bench', '--root', root, '--out', out, '--no-progress'], { timeoutMs: 60000 });
    peerPid = Number(await readFile(join(out, 'peer.pid'), 'utf8'));
    expect(r.code, `stdout: ${r.stdout} stderr: ${r.stderr}`).to.equal(1);
    expect(r.stdout).to.match(/a-orphans: exit 1, no result file/);
    expect(r.stdout, r.stdout).to.contain("b-good: exit 0, 1 rows");
    expect(await readFile(join(out, 'a-orphans.log'), 'utf8')).to.contain('fi_pingpong printed no 64 B row');
    expect(alive(peerPid), `the suite's child ${peerPid} still runs`).to.equal(false);
  });

  it('ends the running suite and what it started on SIGINT, with one line and exit 130', async function () {
    if (process.platform !== 'linux') this.skip();
    await rm(join(root, 'bench', 'a-orphans.bench.ts'));
    await writeFile(join(root, 'bench', 'a-slow.bench.ts'), SLOW_SUITE);
    const out = join(root, 'out');
    const bench = new CliProcess(['bench', '--root', root, '--out', out, '--no-progress']);
    try {
      // The suite leads its own process group, so a terminal's Ctrl-C reaches only lightbeam.
      for (let i = 0; i < 300 && !(await readFile(join(out, 'a-slow.log'), 'utf8').catch(() => '')).includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
      peerPid = Number(await readFile(join(out, 'peer.pid'), 'utf8'));
      bench.child.kill('SIGINT');
      const r = await bench.done(30000);
      expect(r.code, r.stderr).to.equal(130);
      expect(linesOf(r.stderr)).to.deep.equal(['lightbeam bench: stopped by SIGINT while suite a-slow ran (its processes were ended)']);
      expect(r.stdout).to.not.contain('running b-good');
      // Killed already; its exit may take a moment to show on a loaded machine.
      for (let i = 0; i < 50 && alive(peerPid); i++) await new Promise((res) => setTimeout(res, 100));
      expect(alive(peerPid), `the suite's child ${peerPid} still runs`).to.equal(false);
    } finally {
      bench.kill();
    }
  });
});
