/**
 * The bridge against what a user would build without it, and against raw zeromq.js, in one run
 * (issue 11 "Numbers to reach"). Every contender is a pair of processes on
 * tcp loopback; every case runs once per round, round-robin (`BRIDGE_BENCH_ROUNDS`, default 5),
 * and each figure is the median over the rounds with its min-max, never the best round.
 *
 * Contenders (scripts in bench/bridge/, protocol in bench/bridge/common.mjs):
 * - ours: a worker thread in process A -> `lightbeam bridge` A -> tcp -> `lightbeam bridge` B ->
 *   a worker thread in process B. Throughput twice: "move + in place" (the sender writes each
 *   payload into a fresh slab block and sends it by move, the receiver reads it in place and
 *   releases it) and "copy" (plain `expose` of a private buffer, `recvBulks` into another).
 * - DIY: worker A -> `postMessage` (transfer) -> main A -> zeromq.js PUSH -> tcp -> PULL main B ->
 *   `postMessage` -> worker B. zeromq.js receives frames over 128 bytes into buffers Node cannot
 *   detach (a transfer list silently clones them), so main B copies each 1 MiB frame once into a
 *   fresh ArrayBuffer and transfers that: see bench/bridge/diy-proc.mjs.
 * - raw: zeromq.js PUSH/PULL (throughput) and REQ/REP (round trip) between the main threads of two
 *   processes: the floor.
 *
 * Measures: 1 MiB one-way throughput (messages/s timed by the receiving thread;
 * `BRIDGE_BENCH_COUNT` messages per run, default 800), 64 B one-way messages/s with the same
 * window of 32 in flight (`BRIDGE_BENCH_SMALL_COUNT` per run, default 20000; ours in its copy
 * mode: `expose` of a private buffer, `recvBulks` into another, the plain two-phase way), and a
 * 64 B round trip worker A -> worker B -> worker A (p50 of one run, in microseconds). Same sizes and the same
 * flow control everywhere: the sending thread keeps at most `WINDOW` (32) messages not yet
 * consumed by the receiving thread, which grants credits back every 8 messages along the reverse
 * path of the same contender (for ours: through both bridges). Ours' own bounds (ring capacity
 * 1024, high-water mark 1000) are far larger, so the window is what bounds every contender. Every
 * message is checked on arrival (sequence number and last byte).
 *
 * Two network namespaces: `bench/bridge/netns.sh` makes two namespaces joined by a veth pair with
 * `tc netem` delay and rate, and runs this bench with `BRIDGE_BENCH_NETNS=nsA:addrA,nsB:addrB`:
 * every A process then runs in nsA (`ip netns exec`) and every B process in nsB, talking over the
 * veth pair instead of loopback (both "hosts" still share this machine's cores).
 *
 * Goals (issue 21; ratio above 1 = ours better): 1 MiB ours >= 1.2x DIY and >= 0.8x raw; 64 B
 * messages/s ours >= 2x DIY; 64 B round trip ours <= 1.0x DIY's time (stretch 0.7x). Every ratio
 * is the ratio of the two medians printed beside it; the spread after it is that of the per-round
 * ratios (each round saw one machine state). `LBM_BENCH_HOG=1` runs it all beside one
 * busy-looping process (and writes no result file). Run: `npx tsx bench/bridge.bench.ts` after
 * `pnpm run build`. About two minutes on two cores; every child process is killed after
 * `BRIDGE_BENCH_RUN_TIMEOUT_S` (60), and the whole bench gives up after `BRIDGE_BENCH_BUDGET_S`
 * (400).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { hogFromEnv } from './support/hog.js';
import type { Summary } from './support/rounds.js';
import { fmtRange, interleave, summary } from './support/rounds.js';

const BIN = fileURLToPath(new URL('../packages/cli/bin/lightbeam.js', import.meta.url));
const script = (f: string): string => fileURLToPath(new URL(`./bridge/${f}`, import.meta.url));
const envNum = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
  return v;
};
const ROUNDS = envNum('BRIDGE_BENCH_ROUNDS', 5);
/** 1 MiB messages per throughput run; the first WINDOW are not timed. */
const COUNT = envNum('BRIDGE_BENCH_COUNT', 800);
/** 64 B messages per one-way run; the first WINDOW are not timed. */
const SMALL_COUNT = envNum('BRIDGE_BENCH_SMALL_COUNT', 20000);
/** Timed round trips per run. */
const RTT_ROUNDS = envNum('BRIDGE_BENCH_RTT', 2000);
/**
 * Untimed round trips before them, in each fresh pair of processes. Short by default: the timed
 * ones then include V8's warm-up (background optimising compiles, unoptimised code), which costs
 * a path through more JavaScript (ours) more than a short one; a larger value measures the steady
 * state of every contender alike.
 */
const RTT_WARMUP = envNum('BRIDGE_BENCH_WARMUP', 200);
const RUN_TIMEOUT_MS = envNum('BRIDGE_BENCH_RUN_TIMEOUT_S', 60) * 1000;
const BUDGET_MS = envNum('BRIDGE_BENCH_BUDGET_S', 400) * 1000;
const MIB = 1 << 20;
const RTT_SIZE = 64;
const WINDOW = 32;
const CREDIT_EVERY = 8;
/** `nsA:addrA,nsB:addrB` (netns.sh sets it): the namespace and address of each side. */
const NETNS = parseNetns(process.env.BRIDGE_BENCH_NETNS);
const HOST = { A: NETNS?.A.addr ?? '127.0.0.1', B: NETNS?.B.addr ?? '127.0.0.1' };

function parseNetns(v: string | undefined): { A: { ns: string; addr: string }; B: { ns: string; addr: string } } | null {
  if (v === undefined || v === '') return null;
  const m = /^([\w.-]+):([\d.]+),([\w.-]+):([\d.]+)$/.exec(v);
  if (m === null) throw new Error(`BRIDGE_BENCH_NETNS must be nsA:addrA,nsB:addrB, got ${v}`);
  return { A: { ns: m[1], addr: m[2] }, B: { ns: m[3], addr: m[4] } };
}
/** What every child gets: the protocol's parameters (bench/bridge/common.mjs reads them). */
const PROTOCOL_ENV = { HOST_A: HOST.A, HOST_B: HOST.B, SIZE: String(MIB), COUNT: String(COUNT), WINDOW: String(WINDOW), CREDIT_EVERY: String(CREDIT_EVERY), ROUNDS: String(RTT_ROUNDS), WARMUP: String(RTT_WARMUP), RTT_SIZE: String(RTT_SIZE) };

/** Children still running, killed if the bench fails, times out or is interrupted. */
const live = new Set<ChildProcess>();
const killAll = (): void => {
  for (const p of live) p.kill('SIGKILL');
};
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}
const budget = setTimeout(() => {
  console.error(`bridge bench: over its budget of ${BUDGET_MS / 1000} s, giving up`);
  killAll();
  process.exit(1);
}, BUDGET_MS);
budget.unref();

/** One child process: its exit, and the JSON result lines it printed. */
interface Proc {
  readonly name: string;
  readonly done: Promise<void>;
  result(kind: string): Record<string, number>;
  kill(): void;
}

/**
 * Starts `node args` on `side` (in its namespace on netns runs) with the protocol environment;
 * killed (and failed) after RUN_TIMEOUT_MS.
 */
function run(name: string, side: 'A' | 'B', args: string[], env: Record<string, string>): Proc {
  const [cmd, argv] = NETNS === null ? [process.execPath, args] : ['ip', ['netns', 'exec', NETNS[side].ns, process.execPath, ...args]];
  const p = spawn(cmd, argv, { env: { ...process.env, ...PROTOCOL_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(p);
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${name} timed out after ${RUN_TIMEOUT_MS} ms\n${err}`));
    }, RUN_TIMEOUT_MS);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(p);
      if (code === 0) resolve();
      else reject(new Error(`${name} exited with ${code ?? signal}\n${err}${out}`));
    });
  });
  const result = (kind: string): Record<string, number> => {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      const o = JSON.parse(line) as Record<string, number> & { kind?: string };
      if (o.kind === kind) return o;
    }
    throw new Error(`${name} printed no ${kind} result:\n${out}`);
  };
  return { name, done, result, kill: () => p.kill('SIGKILL') };
}

/** Waits for both processes of a pair; if one fails, the other is killed at once. */
async function pair(a: Proc, b: Proc): Promise<void> {
  try {
    await Promise.all([a.done, b.done]);
  } catch (err) {
    a.kill();
    b.kill();
    await Promise.allSettled([a.done, b.done]);
    throw err;
  }
}

/** A TCP port free on 127.0.0.1 now (the OS picks it; a child binds it right after). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * Runs two bridge processes that forward to each other until their workers exit: A serves
 * `aChannel` (forwarded into B's channel of that name), B serves `bChannel` (forwarded to A);
 * each runs one worker script.
 */
async function bridges(aChannel: string, aWorker: string, bChannel: string, bWorker: string, env: Record<string, string>): Promise<[Proc, Proc]> {
  const [pa, pb] = [await freePort(), await freePort()];
  const url = (side: 'A' | 'B', p: number): string => `tcp://${HOST[side]}:${p}`;
  const b = run(`bridge B (${bWorker})`, 'B', [BIN, 'bridge', '--listen', url('B', pb), '--peer', url('A', pa), '--channels', bChannel, '--worker', script(bWorker), '--exit-with-workers'], env);
  const a = run(`bridge A (${aWorker})`, 'A', [BIN, 'bridge', '--listen', url('A', pa), '--peer', url('B', pb), '--channels', aChannel, '--worker', script(aWorker), '--exit-with-workers'], env);
  await pair(a, b);
  return [a, b];
}

/** The environment of a 64 B one-way run (the throughput protocol at another size). */
const SMALL_ENV = { SIZE: String(RTT_SIZE), COUNT: String(SMALL_COUNT) };

/** Ours, one way: messages/s received by worker B (1 MiB, or 64 B with `small`). */
async function oursThroughput(mode: 'move' | 'copy', small = false): Promise<number> {
  const [, b] = await bridges('tput', 'tput-sender.mjs', 'credit', 'tput-receiver.mjs', { MODE: mode, ...(small ? SMALL_ENV : {}) });
  return b.result('tput').opsPerSec;
}

/** Ours, 64 B: p50 round trip of worker A, in microseconds. */
async function oursRoundTrip(): Promise<number> {
  const [a] = await bridges('ping', 'ping.mjs', 'pong', 'echo.mjs', {});
  return a.result('rtt').p50Us;
}

/** DIY, either measure: the number its result line carries (`small`: 64 B one way). */
async function diy(mode: 'tput' | 'rtt', small = false): Promise<number> {
  const ports = { PORT_A: String(await freePort()), PORT_B: String(await freePort()), MODE: mode, ...(small ? SMALL_ENV : {}) };
  const b = run(`DIY B ${mode}`, 'B', [script('diy-proc.mjs')], { ...ports, ROLE: 'B' });
  const a = run(`DIY A ${mode}`, 'A', [script('diy-proc.mjs')], { ...ports, ROLE: 'A' });
  await pair(a, b);
  return mode === 'tput' ? b.result('tput').opsPerSec : a.result('rtt').p50Us;
}

/** Raw zeromq.js, PUSH/PULL with the same credits: messages/s received (1 MiB, or 64 B with `small`). */
async function rawThroughput(small = false): Promise<number> {
  const ports = { PORT_A: String(await freePort()), PORT_B: String(await freePort()), ...(small ? SMALL_ENV : {}) };
  const pull = run('raw PULL', 'B', [script('raw-pull.mjs')], ports);
  const push = run('raw PUSH', 'A', [script('raw-push.mjs')], ports);
  await pair(push, pull);
  return pull.result('tput').opsPerSec;
}

/** Raw zeromq.js, 64 B REQ/REP: p50 round trip in microseconds. */
async function rawRoundTrip(): Promise<number> {
  const env = { PORT: String(await freePort()) };
  const rep = run('raw REP', 'B', [script('raw-rep.mjs')], env);
  const req = run('raw REQ', 'A', [script('raw-req.mjs')], env);
  await pair(req, rep);
  return req.result('rtt').p50Us;
}

const CASES = {
  'tput ours move': () => oursThroughput('move'),
  'tput ours copy': () => oursThroughput('copy'),
  'tput diy': () => diy('tput'),
  'tput raw': () => rawThroughput(),
  'small ours': () => oursThroughput('copy', true),
  'small diy': () => diy('tput', true),
  'small raw': () => rawThroughput(true),
  'rtt ours': oursRoundTrip,
  'rtt diy': () => diy('rtt'),
  'rtt raw': rawRoundTrip,
};
type Case = keyof typeof CASES;

const hog = await hogFromEnv('bridge');
const started = performance.now();
console.log(
  `bridge: ${NETNS === null ? 'tcp loopback' : `two network namespaces (${NETNS.A.ns} ${HOST.A}, ${NETNS.B.ns} ${HOST.B}) over a veth pair`}, Node ${process.version}, ${cpus().length} cpus, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ` +
    `${ROUNDS} interleaved rounds, median (min-max); 1 MiB x ${COUNT} and 64 B x ${SMALL_COUNT} per one-way run (first ${WINDOW} untimed), ` +
    `${RTT_ROUNDS} timed 64 B round trips per run after ${RTT_WARMUP} untimed; window ${WINDOW} messages end to end, credits every ${CREDIT_EVERY}` +
    (hog === null ? '' : '; beside one busy-looping process'),
);
// One untimed pass, so the first round does not pay for cold caches and a first build of sockets.
for (const c of Object.values(CASES)) await c();
// Progress after each round: a full run takes minutes, and a stalled one should be visible.
let round = 0;
const timed = Object.fromEntries(
  Object.entries(CASES).map(([name, c]) => [
    name,
    async () => {
      const v = await c();
      if (name === 'rtt raw') console.log(`round ${++round}/${ROUNDS} done at ${((performance.now() - started) / 1000).toFixed(0)} s`);
      return v;
    },
  ]),
) as Record<Case, () => Promise<number>>;
const got = await interleave(ROUNDS, timed);

/**
 * The ratio of the two medians (so it agrees with the figures printed beside it), with the spread
 * of the per-round ratios as its min-max (each round saw one machine state).
 */
const ratio = (num: number[], den: number[]): Summary => {
  const perRound = summary(num.map((x, i) => x / den[i]));
  return { ...perRound, median: summary(num).median / summary(den).median };
};
const oursT = got['tput ours move'];
const oursR = got['rtt ours'];
const tputRatio = (peer: Case): Summary => ratio(oursT, got[peer]);
// Round trip: the peer's time over ours, so that above 1 is ours better here too.
const rttRatio = (peer: Case): Summary => ratio(got[peer], oursR);
const human = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const mibRange = (s: Summary): string => `${human(s.median)} MiB/s (${human(s.min)}-${human(s.max)})`;

const tputRows: Array<[Case, string, string]> = [
  ['tput ours move', 'ours: worker -> bridge -> tcp -> bridge -> worker, move + in place', 'lightbeam bridge (move, in place)'],
  ['tput ours copy', 'ours: same, expose copy + recvBulks copy', 'lightbeam bridge (copy)'],
  ['tput diy', 'DIY: worker -> postMessage -> zeromq.js -> postMessage -> worker', 'postMessage + zeromq.js'],
  ['tput raw', 'raw zeromq.js PUSH/PULL, process -> process', 'zeromq.js raw'],
];
const count = (s: Summary): string => `${s.median.toFixed(0)} (${s.min.toFixed(0)}-${s.max.toFixed(0)})`;
console.log('\n1 MiB one-way throughput (ratios: ours / this peer, per round, above 1 = ours better)');
console.table(
  tputRows.map(([c, label]) => {
    const s = summary(got[c]);
    const peer = c === 'tput diy' || c === 'tput raw';
    return {
      contender: label,
      'msg/s': count(s),
      'MiB/s': mibRange(s),
      'ours move+in place / this': peer ? fmtRange(tputRatio(c), 'x') : '',
      'ours copy / this': peer ? fmtRange(ratio(got['tput ours copy'], got[c]), 'x') : '',
    };
  }),
);
const smallRows: Array<[Case, string]> = [
  ['small ours', 'ours: worker -> bridge -> tcp -> bridge -> worker, expose copy + recvBulks copy'],
  ['small diy', 'DIY: worker -> postMessage -> zeromq.js -> postMessage -> worker'],
  ['small raw', 'raw zeromq.js PUSH/PULL, process -> process'],
];
console.log(`\n64 B one-way messages/s, ${WINDOW} in flight (ratio: ours / this peer, above 1 = ours better)`);
console.table(
  smallRows.map(([c, label]) => ({
    contender: label,
    'msg/s': count(summary(got[c])),
    'ours / this': c === 'small ours' ? '' : fmtRange(ratio(got['small ours'], got[c]), 'x'),
  })),
);
const rttRows: Array<[Case, string, string]> = [
  ['rtt ours', 'ours: worker A -> bridges -> worker B -> bridges -> worker A', 'lightbeam bridge'],
  ['rtt diy', 'DIY: worker/postMessage/zeromq.js both ways', 'postMessage + zeromq.js'],
  ['rtt raw', 'raw zeromq.js REQ/REP, process <-> process', 'zeromq.js raw'],
];
console.log('\n64 B round trip, p50 per run (ratio: this time / ours, above 1 = ours better)');
console.table(
  rttRows.map(([c, label]) => ({
    contender: label,
    'p50 round trip': fmtRange(summary(got[c]), 'us', 1),
    'this / ours (time)': c === 'rtt ours' ? '' : fmtRange(rttRatio(c), 'x'),
  })),
);

const goals = [
  { goal: '1 MiB throughput: ours >= 1.2x DIY', target: 1.2, measured: tputRatio('tput diy') },
  { goal: '1 MiB throughput: ours >= 0.8x raw zeromq.js', target: 0.8, measured: tputRatio('tput raw') },
  { goal: '64 B messages/s, 32 in flight: ours >= 2x DIY', target: 2, measured: ratio(got['small ours'], got['small diy']) },
  { goal: "64 B round trip: ours <= 1.0x DIY's time", target: 1, measured: rttRatio('rtt diy') },
  { goal: "64 B round trip (stretch): ours <= 0.7x DIY's time", target: 1 / 0.7, measured: rttRatio('rtt diy') },
];
console.log('\ngoals (ratio above 1 = ours better; ratio of the medians, min-max of the per-round ratios)');
console.table(goals.map((g) => ({ goal: g.goal, 'ratio needed': `>= ${g.target.toFixed(2)}`, ratio: fmtRange(g.measured, 'x'), 'met?': g.measured.median >= g.target ? 'met' : 'NOT met' })));
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);

const rateRow = (c: Case, task: string, side: 'ours' | 'peer', impl: string, bytes: number, ratioOf?: Summary, links: Partial<BenchRowInput> = {}): BenchRowInput => {
  const s = summary(got[c]);
  const ops = c.startsWith('rtt') ? 1e6 / s.median : s.median;
  // The report's families: throughput in messages/s, round trips in round trips/s (1e6 / p50 us).
  const family = c.startsWith('rtt')
    ? { measure: '64 B round trip worker A -> B -> A over tcp loopback (p50)', unit: 'round trips' }
    : c.startsWith('small')
      ? { measure: '64 B one-way worker A -> B over tcp loopback, window 32', unit: 'messages' }
      : { measure: '1 MiB one-way worker A -> B over tcp loopback, window 32', unit: 'messages' };
  return { task, side, impl, messageBytes: bytes, opsPerSec: ops, bytesPerSec: ops * bytes, ...(ratioOf === undefined ? {} : { ratio: ratioOf.median }), ...family, ...links };
};
const TPUT_MOVE = 'bridge xfer size=1MiB window=32 A->B move+in-place';
const RTT_OURS = 'bridge round trip size=64B A->B->A p50';
const SMALL_OURS = 'bridge xfer size=64B window=32 A->B copy';
const rows = [
  rateRow('tput ours move', TPUT_MOVE, 'ours', tputRows[0][2], MIB),
  rateRow('tput ours copy', 'bridge xfer size=1MiB window=32 A->B copy', 'ours', tputRows[1][2], MIB),
  rateRow('tput diy', 'postMessage+zeromq.js size=1MiB window=32 A->B', 'peer', tputRows[2][2], MIB, tputRatio('tput diy'), { vs: TPUT_MOVE, goal: 1.2 }),
  rateRow('tput raw', 'raw zeromq.js push/pull size=1MiB window=32', 'peer', tputRows[3][2], MIB, tputRatio('tput raw'), { vs: TPUT_MOVE, goal: 0.8 }),
  rateRow('rtt ours', RTT_OURS, 'ours', rttRows[0][2], RTT_SIZE),
  rateRow('rtt diy', 'postMessage+zeromq.js round trip size=64B A->B->A p50', 'peer', rttRows[1][2], RTT_SIZE, rttRatio('rtt diy'), { vs: RTT_OURS, goal: 1 }),
  rateRow('rtt raw', 'raw zeromq.js req/rep size=64B p50', 'peer', rttRows[2][2], RTT_SIZE, rttRatio('rtt raw'), { vs: RTT_OURS }),
  rateRow('small ours', SMALL_OURS, 'ours', 'lightbeam bridge (copy)', RTT_SIZE),
  rateRow('small diy', 'postMessage+zeromq.js size=64B window=32 A->B', 'peer', 'postMessage + zeromq.js', RTT_SIZE, ratio(got['small ours'], got['small diy']), { vs: SMALL_OURS, goal: 2 }),
  rateRow('small raw', 'raw zeromq.js push/pull size=64B window=32', 'peer', 'zeromq.js raw', RTT_SIZE, ratio(got['small ours'], got['small raw']), { vs: SMALL_OURS }),
];
// A run beside the hog or across namespaces is another measure, not the suite's loopback result.
if (hog === null && NETNS === null) console.log(`\nwrote ${await writeBenchResult('bridge', rows)}`);
else console.log('\nbeside the hog or across namespaces: no result file written (bench/results/bridge.json keeps the loopback run)');
await hog?.stop();
