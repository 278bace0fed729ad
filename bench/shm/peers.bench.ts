/**
 * The round-trip peers of the shm bench on their own, for main<->worker and worker<->worker:
 * - `bare ring`: two plain-JS MPSC rings in a SharedArrayBuffer, both ends spinning
 *   (bench/shm/bare-ring.mjs) - the physical limit a shared-memory transport can approach;
 * - `postMessage spin`: a MessagePort with both ends spinning on `receiveMessageOnPort`
 *   (bench/shm/port-spin.mjs) - what a user picks for low latency without Lightbeam;
 * - `postMessage event`: a MessagePort with 'message' listeners (bench/shm/roles.mjs) - the
 *   default.
 * Every case runs once per round, round-robin over all six, and the table shows the median p50
 * over rounds with its min-max. Then the young GCs on the pinging thread over a run of unclocked
 * bare-ring round trips, which should be 0: the ring allocates nothing per message.
 *
 * Run: `npx tsx bench/shm/peers.bench.ts`. Environment: `LBM_PEERS_ROUNDS` (default 7),
 * `LBM_PEERS_N` (timed bare-ring round trips per run, default 20000; the port peers run a
 * quarter of that), `LBM_PEERS_GC_N` (round trips of the GC check, default 100000).
 */
import { MessageChannel } from 'node:worker_threads';
import * as roles from './roles.mjs';
import { bareRingPing, bareRingPingBatch, createBareRings } from './bare-ring.mjs';
import { portSpinPing } from './port-spin.mjs';
import { latency, newCtl, startRole, stopRoles } from './threads.js';
import type { RoleWorker } from './threads.js';
import { GcCounter } from '../support/gc-count.js';
import { fmtRange, interleave, summary } from '../support/rounds.js';

const ROUNDS = Number(process.env.LBM_PEERS_ROUNDS ?? 7);
const RING_N = Number(process.env.LBM_PEERS_N ?? 20_000);
const PORT_N = Math.max(1, RING_N >> 2);
const GC_N = Number(process.env.LBM_PEERS_GC_N ?? 100_000);
const SIZE = 64;
// A ctl word roles.mjs leaves free (it uses 0-3), for a worker to report its young-GC count.
const GC_WORD = 8;

type Pair = 'main<->worker' | 'worker<->worker';
type Peer = 'bare ring' | 'postMessage spin' | 'postMessage event';
const PAIRS: readonly Pair[] = ['main<->worker', 'worker<->worker'];
const PEERS: readonly Peer[] = ['bare ring', 'postMessage spin', 'postMessage event'];

const warmupFor = (n: number): number => Math.min(2000, n >> 2);

/** A pinger worker's times; throws if it exited without them. */
async function timesOf(w: RoleWorker): Promise<Float64Array> {
  const times = await w.result;
  if (times === null) throw new Error('pinger worker exited without its times');
  return times;
}

/**
 * Stops the workers, then surfaces an echo's failure (e.g. a sequence mismatch), which would
 * otherwise only show as the pinger timing out.
 */
async function finish(ctl: Int32Array, workers: readonly RoleWorker[]): Promise<void> {
  await stopRoles(ctl, workers);
  await Promise.all(workers.map((w) => w.result));
}

/** One run of `peer` between the threads of `pair`: the p50 of its round trips, in microseconds. */
async function p50(peer: Peer, pair: Pair): Promise<number> {
  const ctl = newCtl();
  const workers: RoleWorker[] = [];
  const onMain = pair === 'main<->worker';
  let times: Float64Array;
  try {
    if (peer === 'bare ring') {
      const ring = createBareRings();
      const args = { n: RING_N, warmup: warmupFor(RING_N) };
      workers.push(startRole('bare-ring-echo', { ctl, ring }, null));
      if (onMain) {
        await roles.awaitReady(ctl, 1);
        times = bareRingPing(ring, args.n, args.warmup);
      } else {
        const ping = startRole('bare-ring-ping', { ctl, ring, args }, null);
        workers.push(ping);
        times = await timesOf(ping);
      }
    } else {
      const { port1, port2 } = new MessageChannel();
      const spin = peer === 'postMessage spin';
      const args = { size: SIZE, transfer: false, n: PORT_N, warmup: warmupFor(PORT_N) };
      workers.push(startRole(spin ? 'port-spin-echo' : 'port-echo', { ctl, port: port2, transfer: false }, null, [port2]));
      if (onMain) {
        await roles.awaitReady(ctl, 1);
        times = spin ? portSpinPing(port1, args.size, args.n, args.warmup) : await roles.portPing(port1, args.size, false, args.n, args.warmup);
        // The event echo closes its port on 'stop'; the spinning one stops on ctl[STOP].
        if (!spin) port1.postMessage('stop');
        port1.close();
      } else {
        const ping = startRole(spin ? 'port-spin-ping' : 'port-ping', { ctl, port: port1, args }, null, [port1]);
        workers.push(ping);
        times = await timesOf(ping);
      }
    }
  } catch (err) {
    await stopRoles(ctl, workers);
    throw err;
  }
  await finish(ctl, workers);
  return latency(times).p50;
}

/** Young GCs on the pinging thread of `pair` over GC_N unclocked bare-ring round trips. */
async function youngGcs(pair: Pair): Promise<{ young: number; meanUs: number }> {
  const ctl = newCtl();
  const ring = createBareRings();
  const warmup = 10_000;
  const workers = [startRole('bare-ring-echo', { ctl, ring }, null)];
  try {
    if (pair === 'main<->worker') {
      await roles.awaitReady(ctl, 1);
      bareRingPingBatch(ring, warmup);
      const gc = new GcCounter();
      gc.start();
      const us = bareRingPingBatch(ring, GC_N);
      const { young } = await gc.stop();
      return { young, meanUs: us / GC_N };
    }
    const ping = startRole('bare-ring-ping', { ctl, ring, args: { n: GC_N, warmup, gcWord: GC_WORD } }, null);
    workers.push(ping);
    const [meanUs] = await timesOf(ping);
    // Acquire the count the worker published before its result message.
    return { young: Atomics.load(ctl, GC_WORD), meanUs };
  } finally {
    await finish(ctl, workers);
  }
}

/** The same as `youngGcs('main<->worker')` but with the two clock reads per round trip of the timed runs. */
async function youngGcsClocked(): Promise<number> {
  const ctl = newCtl();
  const ring = createBareRings();
  const workers = [startRole('bare-ring-echo', { ctl, ring }, null)];
  try {
    await roles.awaitReady(ctl, 1);
    bareRingPing(ring, 10_000, 0);
    const gc = new GcCounter();
    gc.start();
    bareRingPing(ring, GC_N, 0);
    return (await gc.stop()).young;
  } finally {
    await finish(ctl, workers);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`round trip of one ${SIZE}-byte message, p50 per run; median over ${ROUNDS} interleaved rounds (min-max)`);
  const cases: Record<string, () => Promise<number>> = {};
  const names: Array<{ key: string; pair: Pair; peer: Peer; n: number }> = [];
  for (const pair of PAIRS) {
    for (const peer of PEERS) {
      const n = peer === 'bare ring' ? RING_N : PORT_N;
      const key = `${peer} size=${SIZE} n=${n} ${pair}`;
      cases[key] = () => p50(peer, pair);
      names.push({ key, pair, peer, n });
    }
  }
  const rounds = await interleave(ROUNDS, cases);
  const rows = names.map(({ key, pair, peer, n }) => {
    const s = summary(rounds[key]);
    const ring = summary(rounds[`bare ring size=${SIZE} n=${RING_N} ${pair}`]);
    return { pair, peer: `${peer} size=${SIZE} n=${n}`, 'p50 (min-max)': fmtRange(s, 'us'), 'x bare ring': `${(s.median / ring.median).toFixed(1)}x` };
  });
  console.table(rows);

  const onMain = await youngGcs('main<->worker');
  const onWorker = await youngGcs('worker<->worker');
  const clocked = await youngGcsClocked();
  console.log(`young GCs on the pinging thread over ${GC_N} unclocked bare-ring round trips: main<->worker ${onMain.young} (mean ${onMain.meanUs.toFixed(2)} us), worker<->worker ${onWorker.young} (mean ${onWorker.meanUs.toFixed(2)} us)`);
  console.log(`  the same on main with two performance.now() per round trip, as the timed runs: ${clocked} (Node 20's clock allocates; the unclocked count is the ring's own)`);
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
