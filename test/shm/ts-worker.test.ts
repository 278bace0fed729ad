/**
 * Issue 22 item 8: `startWorker('./w.ts')` under tsx failed with `ERR_UNKNOWN_FILE_EXTENSION`
 * (Node 20 starts a worker's entry before the inherited tsx hooks apply). Now a TypeScript
 * worker runs when the parent runs under tsx (mocha here runs with `--import=tsx`), and a parent
 * without tsx is refused at once with a message saying what to do.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { ShmServer } from '@lightbeam/shm';
import { startWorker } from '@lightbeam/shm';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = new URL('../fixtures/ts-worker/echo-worker.ts', import.meta.url);
let serial = 0;

interface Echo {
  rc: number;
  keys: string[];
}

describe('startWorker with a TypeScript script (issue 22 item 8)', function () {
  // The worker compiles its script through tsx (esbuild) on start: seconds on a busy machine.
  this.timeout(60_000);
  let server: ShmServer | null = null;
  let worker: Worker | null = null;

  afterEach(async () => {
    await worker?.terminate();
    await server?.close();
    worker = null;
    server = null;
  });

  async function echoThrough(filename: string | URL): Promise<{ text: string; echo: Echo }> {
    const channel = `ts-worker-${process.pid}-${serial++}`;
    server = await TransportFactory.getServer(channel, Transport.kShm);
    const text = `hello from a .ts worker #${serial}`;
    // execArgv [] as the test runner's own flags must not leak: the bootstrap finds tsx by itself.
    worker = startWorker(filename, { workerData: { channel, text }, execArgv: [] });
    const w = worker;
    const echo = new Promise<Echo>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
    });
    const meta = new LbmMeta();
    const rc = await Promise.race([server.waitMetadata(meta, { timeoutMs: 45_000 }), echo.then(() => -99)]);
    expect(rc, 'metadata from the worker').to.equal(0);
    const buf = new Uint8Array(meta.send[0]!.size);
    meta.recv.push(server.expose(buf, buf.byteLength, BULK_XFER));
    expect(await server.recvBulks(meta)).to.equal(0);
    expect(new TextDecoder().decode(buf)).to.equal(text);
    return { text, echo: await echo };
  }

  it('runs a TypeScript worker given as a file URL when the parent runs under tsx, attached to the same shared memory', async () => {
    const { echo } = await echoThrough(WORKER);
    expect(echo.rc).to.equal(0);
    // The bootstrap's own key is gone: the script sees the caller's data and the memory handle only.
    expect(echo.keys).to.deep.equal(['channel', 'lightbeamShm', 'text']);
  });

  it('runs one given as a relative path string, as new Worker takes it', async () => {
    const rel = `./${relative(process.cwd(), fileURLToPath(WORKER))}`;
    const { echo } = await echoThrough(rel);
    expect(echo.rc).to.equal(0);
  });

  it('refuses a TypeScript worker at once when the parent does not run under tsx, saying what to do, and the process keeps running (fresh node process)', async () => {
    const script = `
      import { startWorker } from '@lightbeam/shm';
      try { startWorker(${JSON.stringify(WORKER.href)}); console.log(JSON.stringify({ started: true })); process.exit(3); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, env, timeout: 30_000 });
    const out = JSON.parse(stdout) as { code: string; message: string };
    expect(out.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(out.message).to.include('echo-worker.ts').and.include('does not run under tsx').and.include('npx tsx').and.include('.js');
  });
});
