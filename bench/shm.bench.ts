/**
 * The shared-memory transport (`Transport.kShm`) against its peers, every figure the median over
 * `LBM_BENCH_ROUNDS` (default 7) interleaved rounds with its min-max: each round runs every case
 * of a section once, ours and the peers alike, in an order that rotates from round to round, so
 * a burst of load on this shared 2-core machine spreads over all of them instead of landing on
 * one (bench/support/rounds.ts, bench/support/rotated-rounds.ts).
 *
 * Sections (`LBM_BENCH_ONLY=rt,rate,gc,xfer,expose,pipeline` selects some):
 * - `rt`: round trip of a 64 B message, main<->worker and worker<->worker, p50 per run. Ours on
 *   the synchronous API spinning (`sendNow` / `recvMetadataNow`; an XFER bulk, and an EXPOSE of a
 *   slab block, the descriptor-only message a descriptor ring carries), the async API in a tight
 *   loop (`send` + `waitMetadata`, default `spinUs`), parked on the blocking receive
 *   (`waitMetadataSync`, `spinUs: 0`) and parked on the async API (`waitMetadata`, `spinUs: 0`).
 *   Peers: a bare SharedArrayBuffer ring (bench/shm/bare-ring.mjs), `postMessage` with 'message'
 *   events, `postMessage` with both ends spinning on `receiveMessageOnPort`, and raw Atomics
 *   ping-pongs (spin, `Atomics.wait`, `Atomics.waitAsync`).
 * - `rate`: one-way 64 B messages main -> worker: `sendNow` bursts into a draining sink, and
 *   `await send` into a `waitMetadata` sink, against `postMessage` (transfer and copy). Every
 *   stream has at most 32 messages in flight: ours through a 32-slot ring, the peers because the
 *   sender waits for the sink's acknowledgements (a SharedArrayBuffer counter); a flood without
 *   flow control would measure the port's queue, not the transport.
 * - `gc`: young GCs per 100k messages on the synchronous path, counted on both threads over
 *   loops that read no clock per message (Node 20's `performance.now()` allocates).
 * - `xfer`, `expose`, `pipeline`: the bulk-data figures of issue 11 (1 MiB XFER against a
 *   flow-controlled `postMessage` copy and a same-thread memcpy of one cache-resident buffer;
 *   EXPOSE hand-off at 1 KiB and 1 MiB; the piscina pipeline against plain piscina). Their shm
 *   sinks spin on `recvMetadataNow`, so the figures show the data path, not wake-ups.
 *
 * Every Lightbeam end reuses its metas and bulks and allocates nothing per message on the
 * synchronous path (bench/shm/roles.mjs); every message carries a sequence number that the other
 * end checks. Every loop is bounded in count and time.
 *
 * Run: `npx tsx bench/shm.bench.ts` (after `pnpm run build`).
 *
 * Goals (issue 10): active round trip <= 2x the bare ring, >= 20x faster than event-driven
 * `postMessage`, >= 5x faster than spinning `postMessage`, stretch p50 <= 1 us; async API <= 3x
 * the synchronous one; parked <= 1.2x raw `Atomics.wait` (blocking receive) and
 * `Atomics.waitAsync` (async API); small-message rate >= 10x `postMessage` transfer (sync API),
 * >= 4x (async API); <= 1 young GC per 100k messages. Issue 11: 1 MiB XFER >= 4x `postMessage`
 * copy and >= 0.5x memcpy; EXPOSE hand-off 1 MiB within 10% of 1 KiB.
 */
import { loadavg } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { BULK_EXPOSE, BULK_XFER } from '@lightbeam/core';
import { MemoryManager, ShmClient, createPool } from '@lightbeam/shm';
import type { ShmServerOptions } from '@lightbeam/shm';
import * as roles from './shm/roles.mjs';
import type { PortStreamKind, RoundTripMode, SinkMode } from './shm/roles.mjs';
import { bareRingPing, bareRingPingBatch, createBareRings } from './shm/bare-ring.mjs';
import { portSpinPing } from './shm/port-spin.mjs';
import { finishRoles, latency, newCtl, resultOf, startRole } from './shm/threads.js';
import type { RoleWorker } from './shm/threads.js';
import { GcCounter } from './support/gc-count.js';
import { human } from './support/ratio-table.js';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { fmtRange, summary } from './support/rounds.js';
import { interleaveRotated } from './support/rotated-rounds.js';
import type { RoundCase, Summary } from './support/rounds.js';
import { PIPELINE_WORKER, ShmPipeline, makePlainJobs, makeShmJobs, processPlain, refillPlain, refillShmJobs } from '../examples/piscina-pipeline-run.js';

const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 7);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new RangeError(`LBM_BENCH_ROUNDS must be an integer >= 1, got ${process.env.LBM_BENCH_ROUNDS}`);
const SMALL = 64;
const KiB = 1024;
const MiB = 1 << 20;
/** Messages a flow-controlled postMessage sender lets be unacknowledged. */
const PM_WINDOW = 32;
/** Ring slots of the round-trip channels: a ping-pong holds one message, so a small ring will do. */
const RT_CAPACITY = 64;
/** Messages per GC count: the goal is per 100k. */
const GC_N = 100_000;
const GC_WARMUP = 20_000;

// 256 MiB: 32 staged 1 MiB XFER messages in flight, plus every ring and block of the run.
const manager = MemoryManager.create({ regionBytes: 256 << 20 });
const results: BenchRowInput[] = [];

/** One line of the closing goals table. */
interface Goal {
  goal: string;
  peer: string;
  ours: string;
  ratio: string;
  met: boolean;
}
const goals: Goal[] = [];

// Channels are bound again by every run (after the previous run's ends closed) instead of made
// afresh: a channel's ring stays in the shared region for the region's life.
const RT_PING = 'bench-rt-ping';
const RT_ECHO = 'bench-rt-echo';
const streamChannel = (capacity: number): string => `bench-stream-cap${capacity}`;

/** Pause before each case: lets the previous case's worker threads finish exiting. */
const SETTLE_MS = 20;

/**
 * ROUNDS rounds of every case, the order rotating each round (bench/support/rotated-rounds.ts):
 * no case always runs right after the same other one.
 */
function interleave<K extends string>(cases: Readonly<Record<K, RoundCase>>): Promise<Record<K, number[]>> {
  return interleaveRotated(ROUNDS, cases, SETTLE_MS);
}

const warmupFor = (n: number): number => Math.min(2000, n >> 2);
const sizeLabel = (n: number): string => (n >= MiB ? `${n / MiB}MiB` : n >= KiB ? `${n / KiB}KiB` : `${n}B`);
const fmtRate = (s: Summary, unit = ''): string => `${human(s.median)} (${human(s.min)}-${human(s.max)})${unit === '' ? '' : ` ${unit}`}`;

/** Per-round ratios a[r] / b[r]: their summary (so the range shows how stable the ratio is). */
function ratioOf(a: readonly number[], b: readonly number[]): Summary {
  return summary(a.map((x, i) => x / b[i]));
}

/** A summary without a unit, for columns whose header names it: `0.87 (0.80-1.02)`. */
const fmtNum = (s: Summary, digits = 2): string => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
const fmtRatio = (s: Summary): string => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

function goal(text: string, peer: string, ours: string, ratio: string, met: boolean): void {
  goals.push({ goal: text, peer, ours, ratio, met });
}

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

async function roundTrips(): Promise<void> {
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

// ---- one-way streams: rate, bandwidth, hand-off ---------------------------------------------------

/** How the main thread sends a stream over shm: `sendNow` bursts, or `await send` per message. */
type ShmSendMode = 'sync' | 'async';

/**
 * Messages per second of a one-way stream main -> worker sink over shm. `warmup` messages go
 * first and are not timed (the sink's thread is new and cold); the clock stops when the sink has
 * counted the last message.
 */
async function shmStream(size: number, flags: number, n: number, send: ShmSendMode, sink: SinkMode, capacity: number): Promise<number> {
  const ctl = newCtl();
  const warmup = Math.min(5000, n >> 2);
  const channel = streamChannel(capacity);
  const workers = [startRole('shm-sink', { ctl, channel, serverOptions: { capacity }, args: { size, flags, mode: sink, count: warmup + n } }, manager)];
  const client = new ShmClient(channel);
  const kit = roles.shmKit({ server: null, client, size, flags });
  try {
    await roles.awaitReady(ctl, 1);
    const run = async (count: number): Promise<void> => {
      if (send === 'sync') roles.shmStreamSync(kit, count);
      else await roles.shmStreamAsync(kit, count);
    };
    await run(warmup);
    roles.spinUntilReceived(ctl, warmup);
    const t0 = performance.now();
    await run(n);
    roles.spinUntilReceived(ctl, warmup + n);
    return (n / (performance.now() - t0)) * 1000;
  } finally {
    await client.close();
    await finishRoles(ctl, workers);
    kit.dispose();
  }
}

/** Messages per second of a flow-controlled `postMessage` stream main -> worker sink. */
async function portStream(kind: PortStreamKind, size: number, n: number): Promise<number> {
  const ctl = newCtl();
  const warmup = Math.min(2000, n >> 2);
  const { port1, port2 } = new MessageChannel();
  const workers = [startRole('port-sink', { ctl, port: port2 }, null, [port2])];
  try {
    await roles.awaitReady(ctl, 1);
    roles.portStream(port1, ctl, kind, size, warmup, PM_WINDOW);
    roles.spinUntilReceived(ctl, warmup);
    const t0 = performance.now();
    // The sink's count runs on from the warm-up: the window is measured against it.
    Atomics.sub(ctl, roles.RECEIVED, warmup);
    roles.portStream(port1, ctl, kind, size, n, PM_WINDOW);
    roles.spinUntilReceived(ctl, n);
    return (n / (performance.now() - t0)) * 1000;
  } finally {
    port1.postMessage('stop');
    port1.close();
    await finishRoles(ctl, workers);
  }
}

/** Same-thread copies per second of `size` bytes (`Uint8Array.prototype.set`, the memcpy ceiling). */
function memcpyRate(size: number, n: number): number {
  const src = new Uint8Array(size).fill(1);
  const dst = new Uint8Array(size);
  for (let i = 0; i < 16; i++) dst.set(src);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) dst.set(src);
  return (n / (performance.now() - t0)) * 1000;
}

/** One case of a rate table. */
interface RateCase {
  /** Task name, carrying its parameters. */
  task: string;
  /** Short name for the ratio column. */
  short: string;
  /** Payload bytes per message. */
  bytes: number;
  /** One run: messages per second. */
  run: RoundCase;
  /** False for descriptor-only hand-offs: no bytes/s, nothing was moved. */
  bytesMoved?: boolean;
}

/** Runs `cases` interleaved and prints one table of msgs/s (and bytes/s), each against the first case. */
async function rateTable(title: string, cases: readonly RateCase[]): Promise<Record<string, number[]>> {
  const rounds = await interleave(Object.fromEntries(cases.map((c) => [c.task, c.run])));
  console.log(`\n${title}: median over ${ROUNDS} rounds (min-max)`);
  const first = rounds[cases[0].task];
  console.table(
    cases.map((c) => {
      const s = summary(rounds[c.task]);
      return {
        task: c.task,
        'msgs/s (min-max)': fmtRate(s),
        'bytes/s': c.bytesMoved === false ? '(descriptor only)' : human(s.median * c.bytes, 'B'),
        [`${cases[0].short} / this`]: fmtRatio(ratioOf(first, rounds[c.task])),
      };
    }),
  );
  return rounds;
}

function record(task: string, side: 'ours' | 'peer', impl: string, bytes: number, rates: readonly number[], ratio?: number, links: Partial<BenchRowInput> = {}): void {
  const rate = summary(rates).median;
  results.push({ task, side, impl, messageBytes: bytes, opsPerSec: rate, bytesPerSec: rate * bytes, ...(ratio === undefined ? {} : { ratio }), ...links });
}

async function smallRate(): Promise<void> {
  // Ours gets the peer's window: a ring of PM_WINDOW slots holds at most that many in flight.
  const sync = `sendNow bursts -> recvMetadataNow/waitMetadataSync sink transport=shm XFER size=${SMALL}B capacity=${PM_WINDOW}`;
  const async_ = `await send -> waitMetadata sink transport=shm XFER size=${SMALL}B capacity=${PM_WINDOW}`;
  const transfer = `postMessage transfer size=${SMALL}B window=${PM_WINDOW}`;
  const copy = `postMessage copy size=${SMALL}B window=${PM_WINDOW}`;
  const r = await rateTable(`small-message rate main -> worker (${SMALL} B)`, [
    { task: sync, short: 'shm sync', bytes: SMALL, run: () => shmStream(SMALL, BULK_XFER, 500_000, 'sync', 'sync', PM_WINDOW) },
    { task: async_, short: 'shm async', bytes: SMALL, run: () => shmStream(SMALL, BULK_XFER, 200_000, 'async', 'async', PM_WINDOW) },
    { task: transfer, short: 'postMessage transfer', bytes: SMALL, run: () => portStream('transfer', SMALL, 50_000) },
    { task: copy, short: 'postMessage copy', bytes: SMALL, run: () => portStream('copy', SMALL, 50_000) },
  ]);
  const vsSync = ratioOf(r[sync], r[transfer]);
  const vsAsync = ratioOf(r[async_], r[transfer]);
  goal('small-message rate, sync API >= 10x postMessage transfer', `${fmtRate(summary(r[transfer]), 'msg/s')}`, fmtRate(summary(r[sync]), 'msg/s'), `ours/peer ${fmtRatio(vsSync)}`, vsSync.median >= 10);
  goal('small-message rate, async API >= 4x postMessage transfer', `${fmtRate(summary(r[transfer]), 'msg/s')}`, fmtRate(summary(r[async_]), 'msg/s'), `ours/peer ${fmtRatio(vsAsync)}`, vsAsync.median >= 4);
  const rate = { measure: `one-way ${SMALL} B messages main -> worker, ${PM_WINDOW} in flight`, unit: 'messages' };
  record(`rate ${sync}`, 'ours', 'lightbeam shm sync API', SMALL, r[sync], undefined, rate);
  record(`rate ${async_}`, 'ours', 'lightbeam shm async API', SMALL, r[async_], undefined, rate);
  record(`rate ${transfer}`, 'peer', 'postMessage transfer', SMALL, r[transfer], vsSync.median, { ...rate, vs: `rate ${sync}`, goal: 10, also: [{ vs: `rate ${async_}`, ratio: vsAsync.median, goal: 4 }] });
  record(`rate ${copy}`, 'peer', 'postMessage copy', SMALL, r[copy], ratioOf(r[sync], r[copy]).median, { ...rate, vs: `rate ${sync}` });
}

// ---- young GCs on the synchronous path --------------------------------------------------------------

/** GC counts of one run: young GCs on each thread over GC_N messages, and the mean time per message. */
interface GcRun {
  /** Young GCs on the main thread (the pinger or sender). */
  main: number;
  /** Young GCs on the worker (the echo or sink); NaN when not counted. */
  worker: number;
  /** Microseconds per message (round trip, or one-way send) on the main thread. */
  us: number;
}

/** Unclocked sync round trips main<->worker: GC_N per thread, counted on both. */
async function gcRoundTrip(flags: number): Promise<GcRun> {
  const ctl = newCtl();
  const serverOptions: ShmServerOptions = { capacity: RT_CAPACITY };
  const echo = startRole('shm-echo', { ctl, channel: RT_ECHO, reply: RT_PING, serverOptions, args: { size: SMALL, flags, mode: 'spin', count: GC_WARMUP + GC_N, gcWarmup: GC_WARMUP } }, manager);
  try {
    const { server, client } = await roles.shmEnds(RT_PING, RT_ECHO, serverOptions);
    const kit = roles.shmKit({ server, client, size: SMALL, flags });
    try {
      await roles.awaitReady(ctl, 1);
      const [us, main] = await roles.countGcs((k) => roles.shmPingSync(kit, 'spin', k, 0, null), GC_N, GC_WARMUP);
      // The run is over: the stop flag lets an EXPOSE echo free its block and report.
      await finishRoles(ctl, [echo]);
      const [, worker] = await resultOf(echo);
      return { main, worker, us: us / GC_N };
    } finally {
      await client.close();
      await server.close();
      kit.dispose();
    }
  } finally {
    await finishRoles(ctl, [echo]);
  }
}

/** An unclocked sync stream main -> worker (`sendNow` bursts, a spinning sink): counted on both. */
async function gcStream(): Promise<GcRun> {
  const ctl = newCtl();
  const channel = streamChannel(PM_WINDOW);
  const sink = startRole('shm-sink', { ctl, channel, serverOptions: { capacity: PM_WINDOW }, args: { size: SMALL, flags: BULK_XFER, mode: 'spin', count: GC_WARMUP + GC_N, gcWarmup: GC_WARMUP } }, manager);
  const client = new ShmClient(channel);
  const kit = roles.shmKit({ server: null, client, size: SMALL, flags: BULK_XFER });
  try {
    await roles.awaitReady(ctl, 1);
    const [us, main] = await roles.countGcs((k) => roles.shmStreamSync(kit, k), GC_N, GC_WARMUP);
    const [, worker] = await resultOf(sink);
    return { main, worker, us: us / GC_N };
  } finally {
    await client.close();
    await finishRoles(ctl, [sink]);
  }
}

/** The bare ring's pinger on the main thread, unclocked: what a path that allocates nothing shows. */
async function gcBareRing(): Promise<GcRun> {
  const ctl = newCtl();
  const ring = createBareRings();
  const echo = startRole('bare-ring-echo', { ctl, ring }, null);
  try {
    await roles.awaitReady(ctl, 1);
    bareRingPingBatch(ring, GC_WARMUP);
    const gc = new GcCounter();
    gc.start();
    const us = bareRingPingBatch(ring, GC_N);
    const { young } = await gc.stop();
    return { main: young, worker: NaN, us: us / GC_N };
  } finally {
    await finishRoles(ctl, [echo]);
  }
}

async function youngGcs(): Promise<void> {
  const cases: Array<{ task: string; run: () => Promise<GcRun>; main: string; worker: string; judged: boolean }> = [
    { task: `round trip sendNow/recvMetadataNow XFER size=${SMALL}B main<->worker`, run: () => gcRoundTrip(BULK_XFER), main: 'pinger', worker: 'echo', judged: true },
    { task: `round trip sendNow/recvMetadataNow EXPOSE size=${SMALL}B main<->worker`, run: () => gcRoundTrip(BULK_EXPOSE), main: 'pinger', worker: 'echo', judged: true },
    { task: `stream sendNow -> recvMetadataNow XFER size=${SMALL}B capacity=${PM_WINDOW} main->worker`, run: gcStream, main: 'sender', worker: 'sink', judged: true },
    { task: 'bare ring round trip (reference: allocates nothing)', run: gcBareRing, main: 'pinger', worker: '-', judged: false },
  ];
  const runs = new Map<string, GcRun[]>(cases.map((c) => [c.task, []]));
  await interleave(
    Object.fromEntries(
      cases.map((c) => [
        c.task,
        async () => {
          const r = await c.run();
          runs.get(c.task)!.push(r);
          return r.us;
        },
      ]),
    ),
  );
  console.log(`\nyoung GCs per ${GC_N / 1000}k messages on the synchronous path (no clock per message), median over ${ROUNDS} rounds (min-max)`);
  const fmtCount = (xs: number[]): string => (xs.some(Number.isNaN) ? '-' : fmtNum(summary(xs), 0));
  console.table(
    cases.map((c) => {
      const rs = runs.get(c.task)!;
      return {
        task: `${c.task} n=${GC_N}`,
        'main thread': `${c.main} ${fmtCount(rs.map((r) => r.main))}`,
        worker: `${c.worker} ${fmtCount(rs.map((r) => r.worker))}`,
        'us per message (main)': fmtNum(summary(rs.map((r) => r.us))),
      };
    }),
  );
  for (const c of cases.filter((x) => x.judged)) {
    const rs = runs.get(c.task)!;
    const m = summary(rs.map((r) => r.main));
    const w = summary(rs.map((r) => r.worker));
    const bare = runs.get(cases[3].task)!.map((r) => r.main);
    goal(`<= 1 young GC per 100k messages: ${c.task}`, `bare ring ${fmtNum(summary(bare), 0)}`, `${c.main} ${fmtNum(m, 0)}, ${c.worker} ${fmtNum(w, 0)}`, '-', m.median <= 1 && w.median <= 1);
  }
}

// ---- bulk data (issue 11) --------------------------------------------------------------------------

async function bulkXfer(): Promise<void> {
  // A spinning sink: these figures are about moving the bytes, not about the sink's wake-ups.
  const ours = `sendNow -> recvMetadataNow spinning + recvBulksNow transport=shm XFER size=1MiB capacity=${PM_WINDOW}`;
  const cpy = 'memcpy Uint8Array.set same thread size=1MiB';
  const pm = `postMessage copy size=1MiB window=${PM_WINDOW}`;
  const r = await rateTable('1 MiB BULK_XFER main -> worker (staged by send, copied out by recvBulksNow)', [
    { task: ours, short: 'shm XFER', bytes: MiB, run: () => shmStream(MiB, BULK_XFER, 2000, 'sync', 'spin', PM_WINDOW) },
    { task: cpy, short: 'memcpy', bytes: MiB, run: () => memcpyRate(MiB, 2000) },
    { task: pm, short: 'postMessage copy', bytes: MiB, run: () => portStream('copy', MiB, 1000) },
  ]);
  const vsCpy = ratioOf(r[ours], r[cpy]);
  const vsPm = ratioOf(r[ours], r[pm]);
  goal('(issue 11) 1 MiB XFER >= 4x postMessage copy, 32 in flight', fmtRate(summary(r[pm]), 'msg/s'), fmtRate(summary(r[ours]), 'msg/s'), `ours/peer ${fmtRatio(vsPm)}`, vsPm.median >= 4);
  goal('(issue 11) 1 MiB XFER >= 0.5x same-thread memcpy', fmtRate(summary(r[cpy]), 'copies/s'), fmtRate(summary(r[ours]), 'msg/s'), `ours/peer ${fmtRatio(vsCpy)}`, vsCpy.median >= 0.5);
  const xfer = { measure: `1 MiB BULK_XFER main -> worker, ${PM_WINDOW} in flight`, unit: 'messages' };
  record(ours, 'ours', 'lightbeam shm XFER', MiB, r[ours], undefined, xfer);
  record(cpy, 'peer', 'memcpy', MiB, r[cpy], vsCpy.median, { ...xfer, vs: ours, goal: 0.5 });
  record(pm, 'peer', 'postMessage copy', MiB, r[pm], vsPm.median, { ...xfer, vs: ours, goal: 4 });
}

async function exposeHandoff(): Promise<void> {
  // A spinning sink: the question is whether the hand-off depends on the size, not how fast the
  // sink wakes up.
  const small = `sendNow EXPOSE -> recvMetadataNow spinning transport=shm size=1KiB capacity=${PM_WINDOW}`;
  const big = `sendNow EXPOSE -> recvMetadataNow spinning transport=shm size=1MiB capacity=${PM_WINDOW}`;
  const pm = `postMessage SharedArrayBuffer view size=1MiB window=${PM_WINDOW}`;
  const r = await rateTable('BULK_EXPOSE hand-off main -> worker (a live view of a slab block, nothing copied)', [
    { task: small, short: 'shm EXPOSE 1KiB', bytes: KiB, run: () => shmStream(KiB, BULK_EXPOSE, 500_000, 'sync', 'spin', PM_WINDOW), bytesMoved: false },
    { task: big, short: 'shm EXPOSE 1MiB', bytes: MiB, run: () => shmStream(MiB, BULK_EXPOSE, 500_000, 'sync', 'spin', PM_WINDOW), bytesMoved: false },
    { task: pm, short: 'postMessage SAB view', bytes: MiB, run: () => portStream('shared', MiB, 100_000), bytesMoved: false },
  ]);
  const spread = ratioOf(r[big], r[small]);
  const vsPm = ratioOf(r[big], r[pm]);
  goal('(issue 11) EXPOSE hand-off 1 MiB within 10% of 1 KiB', fmtRate(summary(r[small]), 'msg/s'), fmtRate(summary(r[big]), 'msg/s'), `1MiB/1KiB ${fmtRatio(spread)}`, Math.abs(spread.median - 1) <= 0.1);
  const handoff = { measure: 'EXPOSE hand-off main -> worker (descriptor only)', unit: 'messages' };
  record(small, 'ours', 'lightbeam shm EXPOSE', KiB, r[small], undefined, handoff);
  record(big, 'ours', 'lightbeam shm EXPOSE', MiB, r[big], undefined, handoff);
  record(pm, 'peer', 'postMessage SAB view', MiB, r[pm], vsPm.median, { ...handoff, vs: big });
}

async function pipeline(): Promise<void> {
  const jobs = 64;
  const size = 256 * KiB;
  const workers = 2;
  const pool = createPool({ manager, filename: PIPELINE_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
  const shmJobs = makeShmJobs(manager, { jobs, size });
  const plainJobs = makePlainJobs({ jobs, size });
  const shmPass = async (): Promise<number> => {
    const p = await ShmPipeline.start(pool, workers, 'bench-pipeline');
    refillShmJobs(shmJobs);
    const got = await p.process(shmJobs);
    await p.stop();
    if (got.verified !== jobs || got.samePointer !== jobs) throw new Error(`kShm pipeline verified ${got.verified} of ${jobs}`);
    return (jobs / got.ms) * 1000;
  };
  const plainPass = async (mode: 'clone' | 'transfer'): Promise<number> => {
    refillPlain(plainJobs);
    const got = await processPlain(pool, plainJobs, mode);
    if (got.verified !== jobs) throw new Error(`plain ${mode} pipeline verified ${got.verified} of ${jobs}`);
    return (jobs / got.ms) * 1000;
  };
  const tasks = { shm: `pipeline transport=shm EXPOSE size=256KiB jobs=${jobs}`, clone: `pipeline piscina clone size=256KiB jobs=${jobs}`, transfer: `pipeline piscina transfer size=256KiB jobs=${jobs}` };
  try {
    // One untimed pass of each warms every path up.
    await shmPass();
    await plainPass('clone');
    await plainPass('transfer');
    const r = await rateTable(`piscina pipeline: ${jobs} jobs x 256 KiB, ${workers} workers, transform in place, every checksum verified (jobs/s)`, [
      { task: tasks.shm, short: 'kShm', bytes: size, run: shmPass },
      { task: tasks.clone, short: 'kShm', bytes: size, run: () => plainPass('clone') },
      { task: tasks.transfer, short: 'kShm', bytes: size, run: () => plainPass('transfer') },
    ]);
    const vsClone = ratioOf(r[tasks.shm], r[tasks.clone]);
    const vsTransfer = ratioOf(r[tasks.shm], r[tasks.transfer]);
    console.log(`kShm / plain piscina: clone ${fmtRatio(vsClone)}, transfer ${fmtRatio(vsTransfer)} (reported, no goal)`);
    const pipe = { measure: `piscina pipeline, ${jobs} jobs, ${workers} workers`, unit: 'jobs' };
    record(tasks.shm, 'ours', 'lightbeam shm pipeline', size, r[tasks.shm], undefined, pipe);
    record(tasks.clone, 'peer', 'piscina clone', size, r[tasks.clone], vsClone.median, { ...pipe, vs: tasks.shm });
    record(tasks.transfer, 'peer', 'piscina transfer', size, r[tasks.transfer], vsTransfer.median, { ...pipe, vs: tasks.shm });
  } finally {
    for (const j of shmJobs) manager.free(j.block.shm);
    await pool.destroy();
  }
}

const only = process.env.LBM_BENCH_ONLY?.split(',');
const sections: Array<[string, () => Promise<void>]> = [
  ['rt', roundTrips],
  ['rate', smallRate],
  ['gc', youngGcs],
  ['xfer', bulkXfer],
  ['expose', exposeHandoff],
  ['pipeline', pipeline],
];
const unknown = only?.filter((s) => !sections.some(([name]) => name === s)) ?? [];
if (unknown.length > 0) throw new Error(`LBM_BENCH_ONLY names unknown sections ${unknown.join(', ')}; known: ${sections.map(([n]) => n).join(', ')}`);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const started = performance.now();
console.log(`shm: Node ${process.version}, ${ROUNDS} interleaved rounds per section, load average at start ${load()}`);
for (const [name, run] of sections) {
  if (only !== undefined && !only.includes(name)) continue;
  const t0 = performance.now();
  await run();
  console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\ngoals (figures: median over ${ROUNDS} rounds (min-max); ratio: per-round ratios, median (min-max))`);
console.table(goals.map((g) => ({ goal: g.goal, peer: g.peer, ours: g.ours, ratio: g.ratio, met: g.met ? 'met' : 'NOT met' })));
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; load average at end ${load()}`);
await writeBenchResult('shm', results);
manager.detach();
