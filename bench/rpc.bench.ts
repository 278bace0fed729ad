/**
 * RPC side by side in one run, every case once per round, round-robin, for `LBM_BENCH_ROUNDS`
 * rounds (default 5); figures are medians with their min-max; a ratio is that of the two medians
 * beside it, with the min-max of the per-round ratios.
 *
 * - kShm: `RpcWorkerPool.run('empty')` (1 worker) against piscina `run()` of an empty task
 *   (1 thread): the p50 of sequential round trips, and calls/s with 64 in flight.
 * - kZeroMq: `RpcClient.call('empty')` to an `RpcServer` in another process against a raw
 *   zeromq.js DEALER to a ROUTER echo in another process, tcp loopback: p50 round trip.
 *
 * The piscina peer is a plain `Piscina` (no shared memory handed to it), and it is first measured
 * alone, before our pool exists, for `LBM_BENCH_ROUNDS` rounds: the table prints that figure
 * beside the interleaved one, so a reader sees that the peer in the race is as fast as piscina on
 * its own. `LBM_BENCH_ONLY=shm` or `=zmq` runs one half; `LBM_BENCH_HOG=1` runs beside one
 * busy-looping process.
 *
 * Run: `npx tsx bench/rpc.bench.ts` (after `pnpm run build`). Goals (issue 20): shm round trip
 * <= 0.5x piscina; shm calls/s with 64 in flight >= 5x piscina; zmq round trip <= 1.1x raw.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LbmMeta, RpcClient, Transport } from '@lightbeam/core';
import { createRpcPool } from '@lightbeam/shm';
import { Piscina } from 'piscina';
import '@lightbeam/zmq-bridge';
import { Dealer } from 'zeromq';
import { human } from './support/ratio-table.js';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { hogFromEnv } from './support/hog.js';
import { fmtRange, interleave, ratioOfMedians, summary } from './support/rounds.js';
import type { RoundCase } from './support/rounds.js';

const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 5);
const RTT_CALLS = Number(process.env.LBM_BENCH_RPC_RTT ?? 2000);
const TPUT_CALLS = Number(process.env.LBM_BENCH_RPC_TPUT ?? 20000);
const IN_FLIGHT = 64;
/** Bytes of the raw peer's request: about an empty RPC request's metadata frame. */
const RAW_BYTES = 96;

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

function p50(samples: Float64Array): number {
  const s = Float64Array.from(samples).sort();
  return s[s.length >> 1] as number;
}

/** p50 in microseconds of `n` sequential awaits of `once`. */
async function rtt(n: number, one: () => Promise<unknown>): Promise<number> {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await one();
    samples[i] = (performance.now() - t0) * 1000;
  }
  return p50(samples);
}

/** Calls per second of `n` calls of `one` with `depth` in flight. */
async function rate(n: number, depth: number, one: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < n) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  return n / ((performance.now() - t0) / 1000);
}

async function child(script: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(here(script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = (await once(proc, 'message')) as [{ port: number }];
  return { proc, port: msg.port };
}

// ---- setup --------------------------------------------------------------------------------------
const ONLY = process.env.LBM_BENCH_ONLY?.split(',') ?? ['shm', 'zmq'];
const unknownOnly = ONLY.filter((o) => o !== 'shm' && o !== 'zmq');
if (unknownOnly.length > 0) throw new Error(`LBM_BENCH_ONLY names unknown halves ${unknownOnly.join(', ')}; known: shm, zmq`);
const runShm = ONLY.includes('shm');
const runZmq = ONLY.includes('zmq');
const hog = await hogFromEnv('rpc');
const empty = new LbmMeta();

// The peer alone first: nothing of ours exists yet in this process.
const piscina = new Piscina({ filename: here('./shm/piscina-echo.mjs'), minThreads: 1, maxThreads: 1 });
const theirs = (): Promise<unknown> => piscina.run(null);
const piscinaAlone: number[] = [];
if (runShm) {
  await rtt(500, theirs);
  for (let i = 0; i < ROUNDS; i++) piscinaAlone.push(await rtt(RTT_CALLS, theirs));
}

const pool = runShm ? createRpcPool(here('./rpc/pool-worker.mjs'), { workers: 1, concurrency: IN_FLIGHT }) : null;
await pool?.started();
const ours = (): Promise<unknown> => (pool as NonNullable<typeof pool>).run('empty', empty);

const rpcProc = runZmq ? await child('./rpc/zmq-server.mjs') : null;
const rawProc = runZmq ? await child('./rpc/raw-router.mjs') : null;
const rpc = rpcProc === null ? null : await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: rpcProc.port });
const dealer = new Dealer({ linger: 0 });
if (rawProc !== null) dealer.connect(`tcp://127.0.0.1:${rawProc.port}`);
const rawReq = Buffer.alloc(RAW_BYTES, 1);
const zmqOurs = (): Promise<unknown> => (rpc as RpcClient).call('empty', empty);
const zmqRaw = async (): Promise<unknown> => {
  await dealer.send(rawReq);
  return dealer.receive();
};

// Warm-up: JIT, connections, worker start.
if (runShm) {
  await rtt(500, ours);
  await rtt(500, theirs);
}
if (runZmq) {
  await rtt(500, zmqOurs);
  await rtt(500, zmqRaw);
}

const cases: Record<string, RoundCase> = {};
if (runShm) {
  cases.shmRtt = () => rtt(RTT_CALLS, ours);
  cases.piscinaRtt = () => rtt(RTT_CALLS, theirs);
  cases.shmRate = () => rate(TPUT_CALLS, IN_FLIGHT, ours);
  cases.piscinaRate = () => rate(TPUT_CALLS >> 2, IN_FLIGHT, theirs);
}
if (runZmq) {
  cases.zmqRtt = () => rtt(RTT_CALLS, zmqOurs);
  cases.rawRtt = () => rtt(RTT_CALLS, zmqRaw);
}
const r = (await interleave(ROUNDS, cases)) as Record<string, number[]>;
const ratio = ratioOfMedians;

console.log(`\nrpc: ${ROUNDS} interleaved rounds, medians (min-max); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}${hog === null ? '' : ', beside one busy-looping process'}`);
const table: Array<Record<string, string>> = [];
const goals: Array<Record<string, string>> = [];
const rows: BenchRowInput[] = [];
const RTT_SHM = 'call rtt transport=shm handler=empty workers=1';
const RATE_SHM = `calls/s transport=shm in-flight=${IN_FLIGHT} workers=1`;
const RTT_ZMQ = 'call rtt transport=zmq tcp handler=empty';
const rttFamily = { measure: 'RPC call round trip, empty handler', unit: 'calls' };
const rateFamily = { measure: `RPC calls with ${IN_FLIGHT} in flight, empty handler`, unit: 'calls' };
// Peer rows carry ours/peer in operations per second (above 1: ours better), and goals in that
// direction: a round trip at most 0.5x the peer's time is at least 1/0.5 as many calls per second.
if (runShm) {
  const [shmRtt, piscinaRtt, shmRate, piscinaRate] = [r.shmRtt, r.piscinaRtt, r.shmRate, r.piscinaRate] as number[][];
  const rttShm = ratio(shmRtt, piscinaRtt);
  const rateShm = ratio(shmRate, piscinaRate);
  table.push({ task: 'piscina run() empty, alone (before our pool exists)', value: fmtRange(summary(piscinaAlone), 'us'), peer: '', ratio: '' });
  table.push({ task: RTT_SHM, value: fmtRange(summary(shmRtt), 'us'), peer: `piscina run() empty: ${fmtRange(summary(piscinaRtt), 'us')}`, ratio: fmtRange(rttShm, 'x') });
  table.push({ task: RATE_SHM, value: human(summary(shmRate).median), peer: `piscina: ${human(summary(piscinaRate).median)}`, ratio: fmtRange(rateShm, 'x') });
  goals.push({ goal: 'shm rtt <= 0.5x piscina run()', measured: fmtRange(rttShm, 'x'), result: rttShm.median <= 0.5 ? 'met' : 'NOT met' });
  goals.push({ goal: 'piscina peer in the race as fast as alone (ratio <= 1.1)', measured: fmtRange(summary([summary(piscinaRtt).median / summary(piscinaAlone).median]), 'x'), result: summary(piscinaRtt).median <= 1.1 * summary(piscinaAlone).median ? 'met' : 'NOT met' });
  goals.push({ goal: `shm calls/s (${IN_FLIGHT} in flight) >= 5x piscina`, measured: fmtRange(rateShm, 'x'), result: rateShm.median >= 5 ? 'met' : 'NOT met' });
  rows.push({ task: RTT_SHM, side: 'ours', impl: 'lightbeam rpc shm', messageBytes: 0, opsPerSec: 1e6 / summary(shmRtt).median, bytesPerSec: 0, ...rttFamily });
  rows.push({ task: 'piscina run() empty rtt threads=1', side: 'peer', impl: 'piscina', messageBytes: 0, opsPerSec: 1e6 / summary(piscinaRtt).median, bytesPerSec: 0, ratio: 1 / rttShm.median, vs: RTT_SHM, goal: 1 / 0.5, ...rttFamily });
  rows.push({ task: RATE_SHM, side: 'ours', impl: 'lightbeam rpc shm', messageBytes: 0, opsPerSec: summary(shmRate).median, bytesPerSec: 0, ...rateFamily });
  rows.push({ task: `piscina run() empty in-flight=${IN_FLIGHT} threads=1`, side: 'peer', impl: 'piscina', messageBytes: 0, opsPerSec: summary(piscinaRate).median, bytesPerSec: 0, ratio: rateShm.median, vs: RATE_SHM, goal: 5, ...rateFamily });
}
if (runZmq) {
  const [zmqRtt, rawRtt] = [r.zmqRtt, r.rawRtt] as number[][];
  const rttZmq = ratio(zmqRtt, rawRtt);
  table.push({ task: RTT_ZMQ, value: fmtRange(summary(zmqRtt), 'us'), peer: `raw DEALER/ROUTER ${RAW_BYTES} B: ${fmtRange(summary(rawRtt), 'us')}`, ratio: fmtRange(rttZmq, 'x') });
  goals.push({ goal: 'zmq rtt <= 1.1x raw DEALER/ROUTER', measured: fmtRange(rttZmq, 'x'), result: rttZmq.median <= 1.1 ? 'met' : 'NOT met' });
  rows.push({ task: RTT_ZMQ, side: 'ours', impl: 'lightbeam rpc zmq', messageBytes: 0, opsPerSec: 1e6 / summary(zmqRtt).median, bytesPerSec: 0, ...rttFamily });
  rows.push({ task: `raw zeromq.js DEALER/ROUTER rtt size=${RAW_BYTES}B`, side: 'peer', impl: 'zeromq.js raw', messageBytes: RAW_BYTES, opsPerSec: 1e6 / summary(rawRtt).median, bytesPerSec: RAW_BYTES * (1e6 / summary(rawRtt).median), ratio: 1 / rttZmq.median, vs: RTT_ZMQ, goal: 1 / 1.1, ...rttFamily });
}
console.table(table);
console.log('\ngoals:');
console.table(goals);
// A run beside the hog is a stress figure, not the suite's result: it does not replace rpc.json.
if (hog === null) console.log(`\nwrote ${await writeBenchResult('rpc', rows)}`);
else console.log('\nbeside the hog: no result file written (bench/results/rpc.json keeps the idle run)');

await Promise.all([pool?.close(), piscina.destroy(), rpc?.close()]);
await hog?.stop();
dealer.close();
rpcProc?.proc.disconnect();
rawProc?.proc.disconnect();
