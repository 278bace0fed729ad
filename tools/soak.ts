/**
 * `pnpm soak -- --minutes N`: the demo's Lightbeam pipeline run without pause (a producer over
 * kShm to a piscina pool, the results over the bridge to a second process, which verifies every
 * checksum), printing every 30 s the messages verified, lost and corrupted so far and the RSS of
 * both processes. Not part of CI. Exits 1 when anything was lost or corrupted.
 *
 * Options: `--minutes N` (default 10), `--round N` messages per verdict (default 2000),
 * `--size BYTES` (default 65536, the demo's), `--workers N` (default 2), `--every S` seconds between lines
 * (default 30).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MemoryManager, createPool } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { DEMO_WORKER, RESULTS_CHANNEL } from '@lightbeam/cli';
import { ControlClient } from '../packages/cli/dist/demo/control.js';
import { LIGHTBEAM_BIN } from '../packages/cli/dist/demo/child.js';
import { runShmPath } from '../packages/cli/dist/demo/shm-run.js';

// `pnpm soak -- --minutes 5` may hand the script the `--` itself.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    minutes: { type: 'string', default: '10' },
    round: { type: 'string', default: '2000' },
    size: { type: 'string', default: '65536' },
    workers: { type: 'string', default: '2' },
    every: { type: 'string', default: '30' },
  },
});
const minutes = Number(values.minutes);
const round = Number(values.round);
const size = Number(values.size);
const workers = Number(values.workers);
const everyMs = Number(values.every) * 1000;
const TIMEOUT_MS = 30_000;
const MiB = 1024 * 1024;

/** Resident memory of a process in MiB (Linux `VmRSS`; this process's own elsewhere). */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m !== null) return Number(m[1]) / 1024;
  } catch {
    // not Linux, or the process is gone
  }
  return pid === process.pid ? process.memoryUsage().rss / MiB : NaN;
}

/** Starts `lightbeam demo-remote` serving runs until its stdin closes; resolves with its ports. */
function startFar(): Promise<{ child: ChildProcess; control: number; bridge: number; pid: number }> {
  const child = spawn(process.execPath, [LIGHTBEAM_BIN, 'demo-remote', '--listen', '127.0.0.1:0', '--exit-with-stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the far process was not ready within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`the far process exited (${code}) before it was ready`)));
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /control port (\d+), bridge port (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve({ child, control: Number(m[1]), bridge: Number(m[2]), pid: child.pid! });
      }
    });
  });
}

async function main(): Promise<number> {
  const far = await startFar();
  const control = new ControlClient('127.0.0.1', far.control, TIMEOUT_MS);
  const hello = (await control.call({ op: 'hello' })).hello!;
  const perWorker = 32;
  const manager = MemoryManager.create({ regionBytes: 256 * MiB });
  const pool = createPool({ manager, filename: DEMO_WORKER, minThreads: workers, maxThreads: workers, idleTimeout: 60_000, execArgv: [] });
  const bridge = await Bridge.create({ peer: `tcp://127.0.0.1:${hello.bridgePort}`, channels: [RESULTS_CHANNEL], ring: { capacity: perWorker * 2 } });
  const totals = { messages: 0, lost: 0, corrupted: 0, unexpected: 0, rounds: 0 };
  const start = { local: rssMiB(process.pid), far: rssMiB(far.pid) };
  const t0 = performance.now();
  // The far side's breakdown comes over the control link, between rounds (REQ/REP: one call at a time).
  let farMemory = '';
  const line = (): void => {
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(
      `t=${s}s messages=${totals.messages} lost=${totals.lost} corrupted=${totals.corrupted} unexpected=${totals.unexpected} ` +
        `rss local=${rssMiB(process.pid).toFixed(1)}MiB far=${rssMiB(far.pid).toFixed(1)}MiB${farMemory}`,
    );
  };
  console.log(`soak: ${minutes} min, rounds of ${round} messages of ${size} bytes, ${workers} workers, far pid ${far.pid}`);
  line();
  const ticker = setInterval(line, everyMs);
  try {
    while (performance.now() - t0 < minutes * 60_000) {
      const key = (Math.random() * 2 ** 32) >>> 0;
      await control.call({ op: 'expect', run: 'shm', expect: { count: round, size, key } });
      await runShmPath(
        { manager, pool, workers, perWorker, count: round, size, key, corruptEvery: 0, timeoutMs: TIMEOUT_MS, onProgress: () => {} },
        bridge,
        RESULTS_CHANNEL,
      );
      const v = (await control.call({ op: 'result', run: 'shm', idleMs: TIMEOUT_MS }, TIMEOUT_MS * 2)).verdict!;
      totals.messages += v.received;
      totals.lost += v.lost;
      totals.corrupted += v.mismatches;
      totals.unexpected += v.unexpected;
      totals.rounds++;
      const m = (await control.call({ op: 'memory' })).memory!;
      farMemory = ` (far heap ${(m.heapUsed / MiB).toFixed(1)} external ${(m.external / MiB).toFixed(1)} slab in use ${(m.slabBytesInUse / MiB).toFixed(1)} MiB)`;
    }
  } finally {
    clearInterval(ticker);
  }
  line();
  const end = { local: rssMiB(process.pid), far: rssMiB(far.pid) };
  console.log(
    `soak done: ${totals.messages} messages in ${totals.rounds} rounds, ${totals.lost} lost, ${totals.corrupted} corrupted; ` +
      `RSS local ${start.local.toFixed(1)} -> ${end.local.toFixed(1)} MiB, far ${start.far.toFixed(1)} -> ${end.far.toFixed(1)} MiB`,
  );
  await control.call({ op: 'bye' });
  control.close();
  await bridge.close();
  await pool.destroy();
  far.child.stdin!.end();
  manager.detach();
  return totals.lost + totals.corrupted + totals.unexpected === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`soak: ${(err as Error).message}`);
    process.exit(1);
  },
);
