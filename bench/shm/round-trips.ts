/**
 * The `rt` section of bench/shm.bench.ts: 64 B round trips of ours and of every peer.
 */
import { MessageChannel } from 'node:worker_threads';
import { BULK_EXPOSE, BULK_XFER } from '@lightbeam/core';
import type { ShmServerOptions } from '@lightbeam/shm';
import * as roles from './roles.mjs';
import type { RoundTripMode } from './roles.mjs';
import { bareRingPing, createBareRings } from './bare-ring.mjs';
import { portSpinPing } from './port-spin.mjs';
import { finishRoles, latency, newCtl, resultOf, startRole } from './threads.js';
import type { RoleWorker } from './threads.js';
import { human } from '../support/ratio-table.js';
import type { BenchRowInput } from '../support/report-format.js';
import { fmtRange, summary } from '../support/rounds.js';
import type { RoundCase } from '../support/rounds.js';
import { fmtNum, fmtRatio, goal, goals, interleave, manager, ratioOf, results, ROUNDS, RT_CAPACITY, RT_ECHO, RT_PING, SMALL, warmupFor } from './context.js';

// ---- round trips ----------------------------------------------------------------------------

type Pair = 'main<->worker' | 'worker<->worker';
const PAIRS: readonly Pair[] = ['main<->worker', 'worker<->worker'];

/** Round trips of one shm end pair: ping on `pair`'s first thread, echo in a worker. */
async function shmRoundTrip(pair: Pair, n: number, flags: number, mode: RoundTripMode, spinUs?: number): Promise<Float64Array> {
  const ctl = newCtl();
  const warmup = warmupFor(n);
  const serverOptions: ShmServerOptions = { capacity: RT_CAPACITY, ...(spinUs === undefined ? {} : { spinUs }) };
  const args = { size: SMALL, flags, mode };
  const workers: RoleWorker[] = [startRole('shm-echo', { ctl, channel: RT_ECHO, reply: RT_PING, serverOptions, args: { ...args, count: warmup + n } }, manager)];
  try {
    if (pair === 'worker<->worker') {
      const ping = startRole('shm-ping', { ctl, channel: RT_PING, reply: RT_ECHO, serverOptions, args: { ...args, n, warmup, peers: 2 } }, manager);
      workers.push(ping);
      return await resultOf(ping);
    }
    const { server, client } = await roles.shmEnds(RT_PING, RT_ECHO, serverOptions);
    const kit = roles.shmKit({ server, client, size: SMALL, flags });
    try {
      await roles.awaitReady(ctl, 1);
      const times = new Float64Array(n);
      if (mode === 'async') await roles.shmPingAsync(kit, n, warmup, times);
      else roles.shmPingSync(kit, mode, n, warmup, times);
      return times;
    } finally {
      await client.close();
      await server.close();
      kit.dispose();
    }
  } finally {
    await finishRoles(ctl, workers);
  }
}

/** Round trips of the bare ring peer. */
async function bareRingRoundTrip(pair: Pair, n: number): Promise<Float64Array> {
  const ctl = newCtl();
  const ring = createBareRings();
  const warmup = warmupFor(n);
  const workers: RoleWorker[] = [startRole('bare-ring-echo', { ctl, ring }, null)];
  try {
    if (pair === 'worker<->worker') {
      const ping = startRole('bare-ring-ping', { ctl, ring, args: { n, warmup } }, null);
      workers.push(ping);
      return await resultOf(ping);
    }
    await roles.awaitReady(ctl, 1);
    return bareRingPing(ring, n, warmup);
  } finally {
    await finishRoles(ctl, workers);
  }
}

/** Round trips of `postMessage` with 'message' events (`spin: false`) or spinning ends. */
async function portRoundTrip(pair: Pair, n: number, spin: boolean): Promise<Float64Array> {
  const ctl = newCtl();
  const warmup = warmupFor(n);
  const { port1, port2 } = new MessageChannel();
  const workers: RoleWorker[] = [startRole(spin ? 'port-spin-echo' : 'port-echo', { ctl, port: port2, transfer: false }, null, [port2])];
  try {
    if (pair === 'worker<->worker') {
      const ping = startRole(spin ? 'port-spin-ping' : 'port-ping', { ctl, port: port1, args: { size: SMALL, transfer: false, n, warmup } }, null, [port1]);
      workers.push(ping);
      return await resultOf(ping);
    }
    await roles.awaitReady(ctl, 1);
    const times = spin ? portSpinPing(port1, SMALL, n, warmup) : await roles.portPing(port1, SMALL, false, n, warmup);
    // The event echo closes its port on 'stop'; the spinning one ends on ctl[STOP].
    if (!spin) port1.postMessage('stop');
    port1.close();
    return times;
  } finally {
    await finishRoles(ctl, workers);
  }
}

/** Round trips of the raw Atomics ping-pong. */
async function atomicsRoundTrip(pair: Pair, n: number, how: 'spin' | 'wait' | 'async'): Promise<Float64Array> {
  const ctl = newCtl();
  const warmup = warmupFor(n);
  const workers: RoleWorker[] = [startRole('atomics-echo', { ctl, how }, null)];
  try {
    if (pair === 'worker<->worker') {
      const ping = startRole('atomics-ping', { ctl, how, args: { n, warmup } }, null);
      workers.push(ping);
      return await resultOf(ping);
    }
    await roles.awaitReady(ctl, 1);
    return await roles.atomicsPing(ctl, how, n, warmup);
  } finally {
    await finishRoles(ctl, workers);
  }
}

/** One round-trip case: what it is and how to run it once. */
interface RtKind {
  /** Short key used in tables and goals. */
  key: string;
  /** Task name, carrying its parameters. */
  task: string;
  side: 'ours' | 'peer';
  /** Timed round trips per run. */
  n: number;
  run: (pair: Pair, n: number) => Promise<Float64Array>;
}

const RT_KINDS: readonly RtKind[] = [
  { key: 'ours sync XFER', task: `sendNow/recvMetadataNow spinning XFER size=${SMALL}B`, side: 'ours', n: 20_000, run: (p, n) => shmRoundTrip(p, n, BULK_XFER, 'spin') },
  { key: 'ours sync EXPOSE', task: `sendNow/recvMetadataNow spinning EXPOSE slab block size=${SMALL}B`, side: 'ours', n: 20_000, run: (p, n) => shmRoundTrip(p, n, BULK_EXPOSE, 'spin') },
  { key: 'ours async', task: `send/waitMetadata tight loop spinUs=20 XFER size=${SMALL}B`, side: 'ours', n: 10_000, run: (p, n) => shmRoundTrip(p, n, BULK_XFER, 'async') },
  { key: 'ours parked blocking', task: `sendNow/waitMetadataSync spinUs=0 XFER size=${SMALL}B`, side: 'ours', n: 3000, run: (p, n) => shmRoundTrip(p, n, BULK_XFER, 'block', 0) },
  { key: 'ours parked async', task: `send/waitMetadata spinUs=0 XFER size=${SMALL}B`, side: 'ours', n: 3000, run: (p, n) => shmRoundTrip(p, n, BULK_XFER, 'async', 0) },
  { key: 'bare ring', task: 'bare SharedArrayBuffer ring spinning descriptor=16B', side: 'peer', n: 20_000, run: (p, n) => bareRingRoundTrip(p, n) },
  { key: 'postMessage event', task: `postMessage 'message' events copy size=${SMALL}B`, side: 'peer', n: 3000, run: (p, n) => portRoundTrip(p, n, false) },
  { key: 'postMessage spin', task: `postMessage receiveMessageOnPort spinning copy size=${SMALL}B`, side: 'peer', n: 5000, run: (p, n) => portRoundTrip(p, n, true) },
  { key: 'atomics spin', task: 'raw Atomics.load spin ping-pong', side: 'peer', n: 20_000, run: (p, n) => atomicsRoundTrip(p, n, 'spin') },
  { key: 'atomics wait', task: 'raw Atomics.wait ping-pong', side: 'peer', n: 3000, run: (p, n) => atomicsRoundTrip(p, n, 'wait') },
  { key: 'atomics waitAsync', task: 'raw Atomics.waitAsync ping-pong', side: 'peer', n: 3000, run: (p, n) => atomicsRoundTrip(p, n, 'async') },
];

/** Which of ours a peer row's `ratio` in the result file compares with. */
const RT_OURS_FOR: Readonly<Record<string, string>> = {
  'bare ring': 'ours sync XFER',
  'postMessage event': 'ours sync XFER',
  'postMessage spin': 'ours sync XFER',
  'atomics spin': 'ours sync XFER',
  'atomics wait': 'ours parked blocking',
  'atomics waitAsync': 'ours parked async',
};

/** Report fields of a round-trip row: its family, and for a peer the ours row and goal its ratio refers to. */
function rtLinks(k: RtKind, pair: Pair): Partial<BenchRowInput> {
  const oursKey = RT_OURS_FOR[k.key];
  const ours = RT_KINDS.find((x) => x.key === oursKey);
  // Goals as ratios above 1 = ours better (peer time / ours time): "within 2x" is >= 0.5.
  const goal = ({ 'bare ring': 0.5, 'postMessage event': 20, 'postMessage spin': 5, 'atomics wait': 1 / 1.2, 'atomics waitAsync': 1 / 1.2 } as Record<string, number>)[k.key];
  return { measure: `round trip ${SMALL} B ${pair}`, unit: 'round trips', ...(ours === undefined ? {} : { vs: `round trip ${ours.task} ${pair}`, goal: goal ?? null }) };
}

export async function roundTrips(): Promise<void> {
  const cases: Record<string, RoundCase> = {};
  const p99s = new Map<string, number[]>();
  const name = (k: RtKind, pair: Pair): string => `${k.key} ${pair}`;
  for (const pair of PAIRS) {
    for (const k of RT_KINDS) {
      const key = name(k, pair);
      p99s.set(key, []);
      cases[key] = async () => {
        const l = latency(await k.run(pair, k.n));
        p99s.get(key)!.push(l.p99);
        return l.p50;
      };
    }
  }
  const p50s = await interleave(cases);
  const p50 = (key: string, pair: Pair): number[] => p50s[`${key} ${pair}`];
  const med = (key: string, pair: Pair): number => summary(p50(key, pair)).median;
  for (const pair of PAIRS) {
    console.log(`\nround trip of one ${SMALL} B message ${pair}: p50 per run in microseconds, median over ${ROUNDS} rounds (min-max)`);
    const bare = med('bare ring', pair);
    console.table(
      RT_KINDS.map((k) => {
        const s = summary(p50(k.key, pair));
        return {
          case: k.key,
          task: `${k.task} n=${k.n}`,
          'p50 us (min-max)': fmtNum(s),
          'p99 us': summary(p99s.get(name(k, pair))!).median.toFixed(2),
          'x bare ring': `${(s.median / bare).toFixed(2)}x`,
          'round trips/s': human(1e6 / s.median),
        };
      }),
    );
    for (const k of RT_KINDS) {
      const us = med(k.key, pair);
      const oursKey = RT_OURS_FOR[k.key];
      const ratio = oursKey === undefined ? undefined : med(k.key, pair) / med(oursKey, pair);
      const bytes = 2 * SMALL;
      results.push({ task: `round trip ${k.task} ${pair}`, side: k.side, impl: k.side === 'ours' ? `lightbeam shm ${k.key.slice(5)}` : k.key, messageBytes: SMALL, opsPerSec: 1e6 / us, bytesPerSec: (bytes * 1e6) / us, ...(ratio === undefined ? {} : { ratio }), ...rtLinks(k, pair) });
    }
    const sync = p50('ours sync XFER', pair);
    const fmtUs = (key: string): string => fmtRange(summary(p50(key, pair)), 'us');
    const within = (oursKey: string, peerKey: string, limit: number, what: string): void => {
      const r = ratioOf(p50(oursKey, pair), p50(peerKey, pair));
      goal(`${pair}: ${what} <= ${limit}x ${peerKey}`, `${peerKey} ${fmtUs(peerKey)}`, `${oursKey} ${fmtUs(oursKey)}`, `ours/peer ${fmtRatio(r)}`, r.median <= limit);
    };
    const faster = (peerKey: string, limit: number): void => {
      const r = ratioOf(p50(peerKey, pair), sync);
      goal(`${pair}: active >= ${limit}x faster than ${peerKey}`, `${peerKey} ${fmtUs(peerKey)}`, `ours sync XFER ${fmtUs('ours sync XFER')}`, `peer/ours ${fmtRatio(r)}`, r.median >= limit);
    };
    within('ours sync XFER', 'bare ring', 2, 'active (sync, XFER)');
    within('ours sync EXPOSE', 'bare ring', 2, 'active (sync, EXPOSE descriptor)');
    faster('postMessage event', 20);
    faster('postMessage spin', 5);
    const s = summary(sync);
    goal(`${pair}: stretch, active p50 <= 1 us`, '-', `ours sync XFER ${fmtRange(s, 'us')}`, '-', s.median <= 1);
    within('ours async', 'ours sync XFER', 3, 'async API tight loop');
    within('ours parked blocking', 'atomics wait', 1.2, 'parked blocking receive');
    within('ours parked async', 'atomics waitAsync', 1.2, 'parked async receive');
  }
}

