// Where a default kZeroMq send's time goes in steady state, per message, for 1 MiB and 64 KiB:
// the real `ZeroMqClient` (copyXfer left at its default: every XFER bulk copied, a new meta per
// message, sends awaited one by one) against raw zeromq.js sending the caller's own buffer, both
// to a PULL in a child process. Per message: wall time until the receiver had all (`total`) and
// until the last send resolved (`queue`), this process's CPU time (all its threads, libzmq's I/O
// thread included), minor page faults (/proc/self/stat), the share of copies into reused memory,
// the most copy memory lent at once (zeromq.js or the collector still holding it), collections by
// kind ('gc' PerformanceObserver) and their time, and the helper's idle memory after.
// Modes interleaved per round. Run: node bench/zmq/default-send-steady.mjs (after pnpm run build);
// LBM_BENCH_ROUNDS (default 3), LBM_BENCH_SIZES=1MiB,64KiB; LBM_TRACE=1 prints lent and idle
// memory every 8 messages.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Push } from 'zeromq';

const { BULK_XFER, LbmMeta, encodeMeta, expose } = await import('@lightbeam/core');
const { ZeroMqClient, zmqSendCopyStats } = await import('@lightbeam/zmq-bridge');
const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 3);
const SIZES = (process.env.LBM_BENCH_SIZES ?? '1MiB,64KiB').split(',');
const TRACE = process.env.LBM_TRACE !== undefined;
const child = fork(fileURLToPath(new URL('./count-receiver.mjs', import.meta.url)), [], { execArgv: [] });
const [{ port }] = await once(child, 'message');
const push = new Push({ sendHighWaterMark: 1000, linger: 0 });
push.connect(`tcp://127.0.0.1:${port}`);
const client = await ZeroMqClient.create('127.0.0.1', 'tcp', port, { highWaterMark: 1000, linger: 0, negotiation: false });
const gc = { minor: 0, major: 0, incremental: 0, ms: 0 };
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    const k = e.detail?.kind;
    if (k === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else if (k === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    else if (k === constants.NODE_PERFORMANCE_GC_INCREMENTAL) gc.incremental++;
    gc.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
const minflt = () => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);
const wait = { timeoutMs: 60_000 };

async function sample(mode, size, n) {
  const payload = Buffer.alloc(size, 0x5a);
  const m0 = new LbmMeta();
  m0.send.push(expose(payload, size, BULK_XFER));
  const header = encodeMeta(m0);
  const armed = once(child, 'message');
  child.send({ count: n });
  await armed;
  let received = 0;
  const done = new Promise((resolve) => {
    const h = (m) => {
      if (m.got !== undefined) received = m.got;
      if (m.done !== undefined) {
        child.off('message', h);
        resolve();
      }
    };
    child.on('message', h);
  });
  for (const k of Object.keys(gc)) gc[k] = 0;
  const s0 = zmqSendCopyStats();
  const f0 = minflt();
  const c0 = process.cpuUsage();
  let maxLent = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (mode === 'raw') await push.send([header, payload]);
    else {
      const meta = new LbmMeta();
      meta.send.push(client.expose(payload, size, BULK_XFER));
      const rc = await client.send(meta, wait);
      if (rc !== 0) throw new Error(`send failed: ${rc}`);
      if ((i & 7) === 0) {
        const st = zmqSendCopyStats();
        maxLent = Math.max(maxLent, st.lentBytes);
        if (TRACE) console.log(`i=${i} backlog~${i - received} lent=${(st.lentBytes / 2 ** 20).toFixed(0)}MiB idle=${(st.idleBytes / 2 ** 20).toFixed(0)}MiB reused=${st.reused} fresh=${st.fresh} minor=${gc.minor} major=${gc.major}`);
      }
    }
  }
  const tq = performance.now();
  await done;
  const t1 = performance.now();
  const cpu = process.cpuUsage(c0);
  const s1 = zmqSendCopyStats();
  const us = (ms) => (ms * 1000) / n;
  return {
    total: us(t1 - t0),
    queue: us(tq - t0),
    cpu: (cpu.user + cpu.system) / n,
    minflt: (minflt() - f0) / n,
    reused: mode === 'raw' ? NaN : (s1.reused - s0.reused) / n,
    lentMiB: maxLent / 2 ** 20,
    minorGc: gc.minor,
    majorGc: gc.major,
    gcUs: us(gc.ms),
    idleMiB: s1.idleBytes / 2 ** 20,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [label, size, n] of [['1MiB', 1 << 20, 1000], ['64KiB', 65536, 5000]].filter(([l]) => SIZES.includes(l))) {
  for (const m of ['lbm', 'raw']) await sample(m, size, n >> 2); // warm-up
  const rows = { raw: [], lbm: [] };
  for (let r = 0; r < ROUNDS; r++) for (const m of ['raw', 'lbm']) rows[m].push(await sample(m, size, n));
  const table = {};
  for (const m of ['raw', 'lbm']) {
    const row = {};
    for (const k of Object.keys(rows[m][0])) {
      const xs = rows[m].map((x) => x[k]);
      if (Number.isNaN(xs[0])) row[k] = '';
      else if (k === 'reused') row[k] = `${(median(xs) * 100).toFixed(0)}%`;
      else row[k] = `${median(xs).toFixed(k === 'minflt' ? 2 : 0)} (${Math.min(...xs).toFixed(k === 'minflt' ? 1 : 0)}-${Math.max(...xs).toFixed(k === 'minflt' ? 1 : 0)})`;
    }
    table[`${m === 'raw' ? 'raw zeromq.js, caller buffer' : 'default kZeroMq send'} ${label}`] = row;
  }
  console.log(`\n${label}: per message (us, faults), median (min-max) over ${ROUNDS} rounds of ${n}; collections counted per round`);
  console.table(table);
}
push.close();
await client.close();
child.disconnect();
