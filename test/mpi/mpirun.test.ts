/**
 * The distributed example under a real launcher: `mpirun -n 4` (Debian's openmpi-bin) starts four
 * ranks that read their rank and world size from Open MPI's environment; rank 0 sends to every
 * other rank over ZeroMQ on 127.0.0.1, and every rank must print what it received.
 *
 * mpirun missing is a failure with a clear message, not a skip: .ci/run installs openmpi-bin.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
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

/** True when nothing listens on 127.0.0.1:`port` now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A base port in [20000, 32000) whose `n` consecutive ports are all free now. */
async function freeRun(n: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * (12000 - n));
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found in [20000, 32000)`);
}

describe('examples/distributed.ts under mpirun', function () {
  this.timeout(120000);

  it(`delivers rank 0's message to each of the other ${RANKS - 1} ranks`, async () => {
    const which = spawnSync('sh', ['-c', 'command -v mpirun'], { encoding: 'utf8' });
    if (which.status !== 0) {
      expect.fail('mpirun is not installed: install Debian\'s openmpi-bin (apt-get install -y openmpi-bin; .ci/run does this) to run this test');
    }
    // Consecutive ports below Linux's ephemeral range (32768+), where outgoing connections of
    // other processes cannot be holding them, each seen free just before; a base another process
    // took in between is tried once more elsewhere (the ranks bind their ports themselves).
    let r = { code: null as number | null, out: '' };
    for (let attempt = 0; attempt < 3; attempt++) {
      const basePort = await freeRun(RANKS);
      r = await run(
        'mpirun',
        ['-n', String(RANKS), '--oversubscribe', '--allow-run-as-root', process.execPath, '--import', 'tsx', 'examples/distributed.ts', '--base-port', String(basePort)],
        100000,
      );
      if (!r.out.includes('EADDRINUSE')) break;
    }
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain(`Rank 0 of ${RANKS} (Open MPI): sending to ${RANKS - 1} rank(s)`);
    for (let i = 1; i < RANKS; i++) expect(r.out, r.out).to.contain(`Rank ${i} received: Message to rank ${i}`);
  });
});
