// Where a 64 B round trip's time goes, thread by thread: the bridge (worker A -> bridge A -> tcp ->
// bridge B -> worker B and back) against the do-it-yourself pipeline (diy-proc.mjs), the same
// scripts bench/bridge.bench.ts runs. Each contender runs twice, with ROUNDS_LO and ROUNDS_HI
// timed round trips; every figure is the difference of the two runs divided by the difference of
// their round trips, so start-up, warm-up and exit cancel out.
//
// Per thread (both processes), from /proc/<pid>/task/<tid>/{schedstat,status}, sampled every
// SAMPLE_MS while the processes run (the last sample before exit is kept): CPU time, voluntary
// and involuntary context switches. With STRACE=1 every process runs under `strace -f` and the
// syscalls are counted per thread and per name (strace slows everything: use it for counts, not
// times). With HOOKS=1 every process preloads breakdown-hooks.mjs, which counts on each thread the
// async resources made (promises, immediates, timers, ...) and the Atomics.waitAsync calls, and
// prints them at exit. With PROF=1 every thread writes a --cpu-prof profile under PROF_DIR and the
// top self times are printed.
//
// Run: node bench/bridge/breakdown.mjs (after pnpm run build). Env: ROUNDS_LO (500), ROUNDS_HI
// (2500), CONTENDERS (ours,diy), STRACE, HOOKS, HOOKS_STACKS, PROF, PROF_DIR, THREADS, LBM_BIN,
// NODE_EXTRA (more node flags), KEEP_OUT (a folder to keep each process's stdout in).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
// LBM_BIN: another checkout's CLI (its bridge code), e.g. main's, for a before/after comparison.
const BIN = process.env.LBM_BIN ?? fileURLToPath(new URL('../../packages/cli/bin/lightbeam.js', import.meta.url));
const LO = Number(process.env.ROUNDS_LO ?? 500);
const HI = Number(process.env.ROUNDS_HI ?? 2500);
const SAMPLE_MS = 20;
const STRACE = process.env.STRACE === '1';
const HOOKS = process.env.HOOKS === '1';
const PROF = process.env.PROF === '1';
const CONTENDERS = (process.env.CONTENDERS ?? 'ours,diy').split(',');
if (!(Number.isInteger(LO) && Number.isInteger(HI) && LO > 0 && HI > LO)) {
  console.error(`ROUNDS_LO and ROUNDS_HI must be integers with 0 < ROUNDS_LO < ROUNDS_HI, got ${process.env.ROUNDS_LO} and ${process.env.ROUNDS_HI}`);
  process.exit(2);
}
for (const c of CONTENDERS) {
  if (!['ours', 'before', 'diy'].includes(c)) {
    console.error(`CONTENDERS lists ours, before and diy, got ${JSON.stringify(c)}`);
    process.exit(2);
  }
}

async function freePort() {
  const srv = createServer();
  await new Promise((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Reads every thread of `pid`: comm, CPU ns, voluntary and involuntary switches. */
function threads(pid) {
  const out = new Map();
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const [cpuNs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const vol = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)[1]);
      const invol = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)[1]);
      out.set(tid, { comm: Number(tid) === pid ? 'main' : comm, cpuNs, vol, invol });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** Starts one process; resolves with its last per-thread sample, its stdout, and its strace file. */
function proc(name, args, env, tmp) {
  const nodeArgs = [];
  if (HOOKS) nodeArgs.push('--import', here('./breakdown-hooks.mjs'));
  if (process.env.NODE_EXTRA) nodeArgs.push(...process.env.NODE_EXTRA.split(' '));
  if (PROF) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', join(process.env.PROF_DIR ?? tmp, name));
  const straceOut = join(tmp, `${name}.strace`);
  const [cmd, argv] = STRACE ? ['strace', ['-f', '-qq', '-Y', '-o', straceOut, process.execPath, ...nodeArgs, ...args]] : [process.execPath, [...nodeArgs, ...args]];
  const p = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  // Under strace the node process is strace's child: find it once it exists.
  let pid = STRACE ? -1 : p.pid;
  const last = new Map();
  const timer = setInterval(() => {
    if (pid < 0) {
      try {
        pid = Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(' ')[0]) || -1;
      } catch {
        return;
      }
    }
    for (const [tid, t] of threads(pid)) last.set(tid, t);
  }, SAMPLE_MS);
  return new Promise((resolve, reject) => {
    p.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${name} exited with ${code}\n${err}${out}`));
      if (process.env.KEEP_OUT) writeFileSync(join(process.env.KEEP_OUT, name + '.out'), out);
      resolve({ name, threads: last, out, err, strace: STRACE ? straceOut : null });
    });
  });
}

/** One run of a contender with `rounds` timed round trips: [process A, process B]. */
async function runOnce(contender, rounds, tmp) {
  const env = { ROUNDS: String(rounds), WARMUP: '200', RTT_SIZE: '64' };
  if (contender === 'diy') {
    const ports = { PORT_A: String(await freePort()), PORT_B: String(await freePort()), MODE: 'rtt' };
    const b = proc(`diy-B-${rounds}`, [here('./diy-proc.mjs')], { ...env, ...ports, ROLE: 'B' }, tmp);
    const a = proc(`diy-A-${rounds}`, [here('./diy-proc.mjs')], { ...env, ...ports, ROLE: 'A' }, tmp);
    return Promise.all([a, b]);
  }
  const [pa, pb] = [await freePort(), await freePort()];
  const url = (p) => `tcp://127.0.0.1:${p}`;
  const bin = contender === 'before' ? process.env.LBM_BIN_BEFORE : BIN;
  if (bin === undefined) throw new Error('the contender "before" needs LBM_BIN_BEFORE (another checkout\'s packages/cli/bin/lightbeam.js)');
  const b = proc(`${contender}-B-${rounds}`, [bin, 'bridge', '--listen', url(pb), '--peer', url(pa), '--channels', 'pong', '--worker', here('./echo.mjs'), '--exit-with-workers'], env, tmp);
  const a = proc(`${contender}-A-${rounds}`, [bin, 'bridge', '--listen', url(pa), '--peer', url(pb), '--channels', 'ping', '--worker', here('./ping.mjs'), '--exit-with-workers'], env, tmp);
  return Promise.all([a, b]);
}

/**
 * Folds a process's threads into roles: main, the JS worker, V8's and libuv's helper threads,
 * ZeroMQ's I/O thread, and the rest.
 */
function roles(threadMap) {
  const byRole = {};
  const add = (role, t) => {
    const r = (byRole[role] ??= { cpuNs: 0, vol: 0, invol: 0 });
    r.cpuNs += t.cpuNs;
    r.vol += t.vol;
    r.invol += t.invol;
  };
  // The JS worker is the `node`-named thread that parks most (once or twice per round trip); the
  // others are V8's platform threads (background compiles, parallel GC) and libuv's pool.
  let workerTid = -1;
  let most = -1;
  for (const [tid, t] of threadMap) {
    if (t.comm === 'node' && t.vol > most) {
      most = t.vol;
      workerTid = Number(tid);
    }
  }
  for (const [tid, t] of threadMap) {
    if (t.comm === 'main') add('main', t);
    else if (t.comm.startsWith('ZMQbg/IO')) add('zmq-io', t);
    else if (Number(tid) === workerTid) add('worker', t);
    else if (t.comm === 'node') add('v8+uv helpers', t);
    else add('other', t);
  }
  return byRole;
}

/**
 * Counts strace lines (`strace -f -Y`: each line starts with `tid<comm>`) per thread role and
 * syscall name; the process's main thread is its lowest tid.
 */
function straceCounts(file) {
  const counts = {};
  const lines = readFileSync(file, 'utf8').split('\n');
  let mainTid = Infinity;
  for (const line of lines) {
    const m = /^(\d+)</.exec(line);
    if (m !== null) mainTid = Math.min(mainTid, Number(m[1]));
  }
  for (const line of lines) {
    const m = /^(\d+)<([^>]*)>\s+(\w+)\(/.exec(line);
    if (m === null) continue; // "<... resumed>" halves and signals: counted at their start
    const comm = m[2];
    const role = Number(m[1]) === mainTid ? 'main' : comm.startsWith('ZMQbg/IO') ? 'zmq-io' : comm === 'node' || comm.startsWith('WorkerThread') ? 'worker' : comm;
    const key = `${role}:${m[3]}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Per round trip, from a pair of runs of LO and HI round trips: `A main` -> { cpu (us), vol, invol }. */
function perThread(lo, hi) {
  const n = HI - LO;
  const cells = {};
  for (let side = 0; side < 2; side++) {
    const rl = roles(lo[side].threads);
    const rh = roles(hi[side].threads);
    for (const role of Object.keys(rh)) {
      const a = rl[role] ?? { cpuNs: 0, vol: 0, invol: 0 };
      const b = rh[role];
      cells[`${side === 0 ? 'A' : 'B'} ${role}`] = { cpu: (b.cpuNs - a.cpuNs) / 1000 / n, vol: (b.vol - a.vol) / n, invol: (b.invol - a.invol) / n };
    }
  }
  return cells;
}

/** Per-round-trip figures of one contender's pair of runs ({@link perThread}), and the p50. */
async function perRoundTrip(c, tmp) {
  const lo = await runOnce(c, LO, tmp);
  const hi = await runOnce(c, HI, tmp);
  return { cells: perThread(lo, hi), p50: Number(/"p50Us":([\d.]+)/.exec(hi[0].out)?.[1]) };
}

const REPEAT = Number(process.env.REPEAT ?? 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (xs, d) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)})`;

const tmp = mkdtempSync(join(tmpdir(), 'lbm-breakdown-'));
try {
  if (REPEAT > 1) {
    // Interleaved rounds, every contender once per round; medians (min-max) over the rounds.
    const got = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
    for (let r = 0; r < REPEAT; r++) for (const c of CONTENDERS) got[c].push(await perRoundTrip(c, tmp));
    console.log(`per round trip, difference of ${HI} and ${LO} timed round trips, median (min-max) of ${REPEAT} interleaved rounds`);
    const keys = [...new Set(CONTENDERS.flatMap((c) => Object.keys(got[c][0].cells)))].filter((k) => !k.endsWith('other')).sort();
    const table = keys.map((k) => {
      const row = { 'process thread': k };
      for (const c of CONTENDERS) {
        const xs = got[c].map((g) => g.cells[k] ?? { cpu: 0, vol: 0, invol: 0 });
        row[`${c} cpu us`] = fmt(xs.map((x) => x.cpu), 1);
        row[`${c} vol/invol sw`] = `${median(xs.map((x) => x.vol)).toFixed(2)}/${median(xs.map((x) => x.invol)).toFixed(2)}`;
      }
      return row;
    });
    console.table(table);
    for (const c of CONTENDERS) console.log(`${c}: p50 round trip of the longer runs ${fmt(got[c].map((g) => g.p50), 0)} us`);
  }
  for (const c of REPEAT > 1 ? [] : CONTENDERS) {
    const lo = await runOnce(c, LO, tmp);
    const hi = await runOnce(c, HI, tmp);
    const n = HI - LO;
    console.log(`\n${c}: per round trip (difference of ${HI} and ${LO} timed round trips)`);
    const rows = Object.entries(perThread(lo, hi)).map(([k, v]) => ({ process: k.slice(0, 1), thread: k.slice(2), 'cpu us': v.cpu.toFixed(1), 'vol switches': v.vol.toFixed(2), 'invol switches': v.invol.toFixed(2) }));
    console.table(rows);
    if (process.env.THREADS === '1') {
      for (let side = 0; side < 2; side++) {
        const list = [...hi[side].threads].map(([tid, t]) => ({ tid, comm: t.comm, 'cpu ms': (t.cpuNs / 1e6).toFixed(1), vol: t.vol, invol: t.invol }));
        console.table(list.filter((r) => Number(r['cpu ms']) > 1));
      }
    }
    const p50 = (r) => /"p50Us":([\d.]+)/.exec(r.out)?.[1];
    console.log(`p50 round trip: ${p50(lo[0])} us (run of ${LO}), ${p50(hi[0])} us (run of ${HI})`);
    if (STRACE) {
      const sc = [];
      for (let side = 0; side < 2; side++) {
        const cl = straceCounts(lo[side].strace);
        const ch = straceCounts(hi[side].strace);
        for (const k of Object.keys(ch)) {
          const per = ((ch[k] - (cl[k] ?? 0)) / n);
          if (per >= 0.05) sc.push({ process: side === 0 ? 'A' : 'B', 'thread:syscall': k, 'per round trip': per.toFixed(2) });
        }
      }
      sc.sort((x, y) => (x.process + x['thread:syscall']).localeCompare(y.process + y['thread:syscall']));
      console.log('syscalls per round trip (strace -f)');
      console.table(sc);
    }
    if (HOOKS) {
      for (let side = 0; side < 2; side++) {
        const grab = (r) => r.err.split('\n').filter((l) => l.startsWith('{"hooks"')).map((l) => JSON.parse(l));
        const hl = grab(lo[side]);
        const hh = grab(hi[side]);
        for (const h of hh) {
          const l = hl.find((x) => x.thread === h.thread) ?? { counts: {} };
          const per = {};
          for (const [k, v] of Object.entries(h.counts)) {
            const d = (v - (l.counts[k] ?? 0)) / n;
            if (d >= 0.05) per[k] = Number(d.toFixed(2));
          }
          const gc = Object.fromEntries(Object.entries(h.counts).filter(([k]) => k.startsWith("gc")).map(([k, v]) => [k, Math.round(v)]));
          console.log(`hooks ${side === 0 ? "A" : "B"} ${h.thread}: per round trip ${JSON.stringify(per)}; whole run of ${HI}: ${JSON.stringify(gc)}`);
        }
      }
    }
  }
} finally {
  if (!PROF || process.env.PROF_DIR !== undefined) rmSync(tmp, { recursive: true, force: true });
}
