/**
 * RPC side by side in one run, every case once per round, round-robin, for `LBM_BENCH_ROUNDS`
 * rounds (default 5); figures are medians with their min-max, ratios taken per round.
 *
 * - kShm: `RpcWorkerPool.run('empty')` (1 worker) against piscina `run()` of an empty task
 *   (1 thread): the p50 of sequential round trips, and calls/s with 64 in flight.
 * - kZeroMq: `RpcClient.call('empty')` to an `RpcServer` in another process against a raw
 *   zeromq.js DEALER to a ROUTER echo in another process, tcp loopback: p50 round trip.
 *
 * Run: `npx tsx bench/rpc.bench.ts` (after `pnpm run build`). Goals: shm round trip <= 0.3x
 * piscina; shm calls/s with 64 in flight >= 5x piscina; zmq round trip <= 1.1x raw.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LbmMeta, RpcClient, Transport } from '@lightbeam/core';
import { createPool, createRpcPool } from '@lightbeam/shm';
import '@lightbeam/zmq-bridge';
import { Dealer } from 'zeromq';
import { human } from './support/ratio-table.js';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { fmtRange, interleave, summary } from './support/rounds.js';

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
const pool = createRpcPool(here('./rpc/pool-worker.mjs'), { workers: 1, concurrency: IN_FLIGHT });
await pool.started();
const piscina = createPool({ filename: here('./shm/piscina-echo.mjs'), minThreads: 1, maxThreads: 1 });
const empty = new LbmMeta();
const ours = (): Promise<unknown> => pool.run('empty', empty);
const theirs = (): Promise<unknown> => piscina.run(null);

const rpcProc = await child('./rpc/zmq-server.mjs');
const rawProc = await child('./rpc/raw-router.mjs');
const rpc = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: rpcProc.port });
const dealer = new Dealer({ linger: 0 });
dealer.connect(`tcp://127.0.0.1:${rawProc.port}`);
const rawReq = Buffer.alloc(RAW_BYTES, 1);
const zmqOurs = (): Promise<unknown> => rpc.call('empty', empty);
const zmqRaw = async (): Promise<unknown> => {
  await dealer.send(rawReq);
  return dealer.receive();
};

// Warm-up: JIT, connections, worker start.
await rtt(500, ours);
await rtt(500, theirs);
await rtt(500, zmqOurs);
await rtt(500, zmqRaw);

const r = await interleave(ROUNDS, {
  shmRtt: () => rtt(RTT_CALLS, ours),
  piscinaRtt: () => rtt(RTT_CALLS, theirs),
  shmRate: () => rate(TPUT_CALLS, IN_FLIGHT, ours),
  piscinaRate: () => rate(TPUT_CALLS >> 2, IN_FLIGHT, theirs),
  zmqRtt: () => rtt(RTT_CALLS, zmqOurs),
  rawRtt: () => rtt(RTT_CALLS, zmqRaw),
});

const ratio = (a: number[], b: number[]) => summary(a.map((x, i) => x / (b[i] as number)));
const rttShm = ratio(r.shmRtt, r.piscinaRtt);
const rateShm = ratio(r.shmRate, r.piscinaRate);
const rttZmq = ratio(r.zmqRtt, r.rawRtt);

console.log(`\nrpc: ${ROUNDS} interleaved rounds, medians (min-max)`);
console.table([
  { task: 'call rtt transport=shm handler=empty workers=1', value: fmtRange(summary(r.shmRtt), 'us'), peer: `piscina run() empty: ${fmtRange(summary(r.piscinaRtt), 'us')}`, ratio: fmtRange(rttShm, 'x') },
  { task: `calls/s transport=shm in-flight=${IN_FLIGHT} workers=1`, value: human(summary(r.shmRate).median), peer: `piscina: ${human(summary(r.piscinaRate).median)}`, ratio: fmtRange(rateShm, 'x') },
  { task: 'call rtt transport=zmq tcp handler=empty', value: fmtRange(summary(r.zmqRtt), 'us'), peer: `raw DEALER/ROUTER ${RAW_BYTES} B: ${fmtRange(summary(r.rawRtt), 'us')}`, ratio: fmtRange(rttZmq, 'x') },
]);
console.log('\ngoals:');
console.table([
  { goal: 'shm rtt <= 0.3x piscina run()', measured: fmtRange(rttShm, 'x'), result: rttShm.median <= 0.3 ? 'met' : 'NOT met' },
  { goal: `shm calls/s (${IN_FLIGHT} in flight) >= 5x piscina`, measured: fmtRange(rateShm, 'x'), result: rateShm.median >= 5 ? 'met' : 'NOT met' },
  { goal: 'zmq rtt <= 1.1x raw DEALER/ROUTER', measured: fmtRange(rttZmq, 'x'), result: rttZmq.median <= 1.1 ? 'met' : 'NOT met' },
]);

const RTT_SHM = 'call rtt transport=shm handler=empty workers=1';
const RATE_SHM = `calls/s transport=shm in-flight=${IN_FLIGHT} workers=1`;
const RTT_ZMQ = 'call rtt transport=zmq tcp handler=empty';
const rttFamily = { measure: 'RPC call round trip, empty handler', unit: 'calls' };
const rateFamily = { measure: `RPC calls with ${IN_FLIGHT} in flight, empty handler`, unit: 'calls' };
// Peer rows carry ours/peer in operations per second (above 1: ours better), and goals in that
// direction: a round trip at most 0.3x the peer's time is at least 1/0.3 as many calls per second.
const rows: BenchRowInput[] = [
  { task: RTT_SHM, side: 'ours', impl: 'lightbeam rpc shm', messageBytes: 0, opsPerSec: 1e6 / summary(r.shmRtt).median, bytesPerSec: 0, ...rttFamily },
  { task: 'piscina run() empty rtt threads=1', side: 'peer', impl: 'piscina', messageBytes: 0, opsPerSec: 1e6 / summary(r.piscinaRtt).median, bytesPerSec: 0, ratio: 1 / rttShm.median, vs: RTT_SHM, goal: 1 / 0.3, ...rttFamily },
  { task: RATE_SHM, side: 'ours', impl: 'lightbeam rpc shm', messageBytes: 0, opsPerSec: summary(r.shmRate).median, bytesPerSec: 0, ...rateFamily },
  { task: `piscina run() empty in-flight=${IN_FLIGHT} threads=1`, side: 'peer', impl: 'piscina', messageBytes: 0, opsPerSec: summary(r.piscinaRate).median, bytesPerSec: 0, ratio: rateShm.median, vs: RATE_SHM, goal: 5, ...rateFamily },
  { task: RTT_ZMQ, side: 'ours', impl: 'lightbeam rpc zmq', messageBytes: 0, opsPerSec: 1e6 / summary(r.zmqRtt).median, bytesPerSec: 0, ...rttFamily },
  { task: `raw zeromq.js DEALER/ROUTER rtt size=${RAW_BYTES}B`, side: 'peer', impl: 'zeromq.js raw', messageBytes: RAW_BYTES, opsPerSec: 1e6 / summary(r.rawRtt).median, bytesPerSec: RAW_BYTES * (1e6 / summary(r.rawRtt).median), ratio: 1 / rttZmq.median, vs: RTT_ZMQ, goal: 1 / 1.1, ...rttFamily },
];
console.log(`\nwrote ${await writeBenchResult('rpc', rows)}`);

await Promise.all([pool.close(), piscina.destroy(), rpc.close()]);
dealer.close();
rpcProc.proc.disconnect();
rawProc.proc.disconnect();
