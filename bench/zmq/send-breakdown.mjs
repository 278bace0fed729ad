// Where a default kZeroMq send's time goes, per message, for 1 MiB and 64 KiB: the copy's
// destination (fresh Buffer: malloc + the kernel faulting in and zeroing its pages on first touch;
// reused memory from the native helper), the copy itself, zeromq.js's send, and the collector
// (PerformanceObserver 'gc' durations), against raw zeromq.js sending the caller's own buffer.
// One PUSH here, one PULL in a child process that acknowledges each batch; awaited one by one,
// as the bench's default-send case; modes interleaved per round, medians over rounds.
// Run: node bench/zmq/send-breakdown.mjs (after pnpm run build); LBM_BENCH_ROUNDS (default 5).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Push } from 'zeromq';

const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 5);
let helper = null;
try {
  helper = createRequire(import.meta.url)('../../packages/zmq-bridge/native/build/send_copy.node');
} catch {
  console.log('the native send-copy helper is not built: the reused-memory mode is skipped');
}
const child = fork(fileURLToPath(new URL('./count-receiver.mjs', import.meta.url)), [], { execArgv: [] });
const [{ port }] = await once(child, 'message');
const push = new Push({ sendHighWaterMark: 1000, linger: 0 });
push.connect(`tcp://127.0.0.1:${port}`);
let gcMs = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const header = new Uint8Array(28);

/** One sample: per-message microseconds of each part, and the whole until the receiver had all. */
async function sample(mode, size, n) {
  const payload = Buffer.alloc(size, 0x5a);
  const armed = once(child, 'message');
  child.send({ count: n });
  await armed;
  const done = once(child, 'message');
  let tAlloc = 0;
  let tCopy = 0;
  let tSend = 0;
  gcMs = 0;
  const before = helper?.stats();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    let out = payload;
    if (mode === 'fresh') out = Buffer.allocUnsafeSlow(size);
    const b = performance.now();
    if (mode === 'fresh') out.set(payload);
    else if (mode === 'reused') out = helper.copy(payload); // take a chunk + memcpy, in one call
    const c = performance.now();
    await push.send([header, out]);
    tAlloc += b - a;
    tCopy += c - b;
    tSend += performance.now() - c;
  }
  await done;
  const us = (ms) => (ms * 1000) / n;
  const after = helper?.stats();
  return {
    total: us(performance.now() - t0),
    alloc: us(tAlloc),
    'copy (+first touch)': us(tCopy),
    send: us(tSend),
    gc: us(gcMs),
    reused: mode === 'reused' ? (after.reused - before.reused) / n : NaN,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const modes = ['raw', 'fresh', ...(helper === null ? [] : ['reused'])];
for (const [label, size, n] of [['1MiB', 1 << 20, 200], ['64KiB', 65536, 2000]]) {
  for (const m of modes) await sample(m, size, n >> 2); // warm-up
  const rows = Object.fromEntries(modes.map((m) => [m, []]));
  for (let r = 0; r < ROUNDS; r++) for (const m of modes) rows[m].push(await sample(m, size, n));
  const table = {};
  for (const m of modes) {
    const row = {};
    for (const k of Object.keys(rows[m][0])) {
      const xs = rows[m].map((x) => x[k]);
      row[k] = Number.isNaN(xs[0]) ? '' : k === 'reused' ? `${(median(xs) * 100).toFixed(0)}%` : `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
    }
    table[`${m === 'raw' ? 'raw zeromq.js, caller buffer' : m === 'fresh' ? 'copy into fresh Buffer' : 'copy into reused memory (helper)'} ${label}`] = row;
  }
  console.log(`\n${label}: microseconds per message, median (min-max) over ${ROUNDS} rounds of ${n}; total = until the receiver had all`);
  console.table(table);
}
push.close();
child.disconnect();
