/**
 * The distributed example under a real launcher: `mpirun -n 4` (Debian's openmpi-bin) starts four
 * ranks that read their rank and world size from Open MPI's environment; rank 0 sends to every
 * other rank over ZeroMQ on 127.0.0.1, and every rank must print what it received.
 *
 * mpirun missing is a failure with a clear message, not a skip: .ci/run installs openmpi-bin.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RANKS = 4;

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('examples/distributed.ts under mpirun', function () {
  this.timeout(120000);

  it(`delivers rank 0's message to each of the other ${RANKS - 1} ranks`, async () => {
    const which = spawnSync('sh', ['-c', 'command -v mpirun'], { encoding: 'utf8' });
    if (which.status !== 0) {
      expect.fail('mpirun is not installed: install Debian\'s openmpi-bin (apt-get install -y openmpi-bin; .ci/run does this) to run this test');
    }
    // Four consecutive ports from a random base, away from the ones other tests pick.
    const basePort = 40000 + Math.floor(Math.random() * 20000);
    const r = await run(
      'mpirun',
      ['-n', String(RANKS), '--oversubscribe', '--allow-run-as-root', process.execPath, '--import', 'tsx', 'examples/distributed.ts', '--base-port', String(basePort)],
      100000,
    );
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain(`Rank 0 of ${RANKS} (Open MPI): sending to ${RANKS - 1} rank(s)`);
    for (let i = 1; i < RANKS; i++) expect(r.out, r.out).to.contain(`Rank ${i} received: Message to rank ${i}`);
  });
});
