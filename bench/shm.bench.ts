/**
 * The shared-memory transport (`Transport.kShm`) against its peers, side by side in one run:
 * `MessagePort.postMessage` (copy and transfer list), piscina, a raw Atomics ping-pong between
 * the same threads, and `Uint8Array.prototype.set` (the memcpy ceiling). Each section alternates
 * rounds of ours and the peers and reports medians over rounds.
 *
 * Run: `npx tsx bench/shm.bench.ts` (after `pnpm run build`). `LBM_BENCH_ROUNDS` (default 3).
 *
 * Goals (issue 5): small-message round trip with active peers p50 <= 1 us and >= 50x
 * postMessage, with parked peers <= 1.0x the raw Atomics ping-pong; batched small-message rate
 * >= 10x postMessage with a transfer list; 1 MiB BULK_XFER >= 0.8x memcpy and >= 4x postMessage
 * copy; BULK_EXPOSE handoff rate independent of bulk size (1 KiB vs 16 MiB within 10%); the
 * piscina pipeline against plain piscina.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { BULK_EXPOSE, BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import { MemoryManager, ShmClient, createPool } from '@lightbeam/shm';
import * as roles from './shm/roles.mjs';
import { awaitCount, latency, median, newCtl, startRole, stopRoles } from './shm/threads.js';
import type { RoleWorker } from './shm/threads.js';
import { human } from './support/ratio-table.js';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { PIPELINE_WORKER, ShmPipeline, makePlainJobs, makeShmJobs, processPlain, refillPlain, refillShmJobs } from '../examples/piscina-pipeline-run.js';

const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 3);
const SMALL = 64;
const manager = MemoryManager.create({ regionBytes: 128 << 20 });
const results: BenchRowInput[] = [];
const goals: Array<{ goal: string; value: string; met: boolean }> = [];
let seq = 0;
const unique = (what: string): string => `bench-${what}-${seq++}`;

// ---- round trips ----------------------------------------------------------------------------

type Pair = 'main<->worker' | 'worker<->worker';
type RtKind = 'shm spin' | 'shm active' | 'shm parked' | 'postMessage copy' | 'postMessage transfer' | 'atomics spin' | 'atomics wait' | 'atomics waitAsync' | 'piscina.run';

/** One round trip measurement: `n` timed round trips of a 64-byte message. */
async function roundTrip(kind: RtKind, pair: Pair, n: number): Promise<Float64Array> {
  const ctl = newCtl();
  const warmup = Math.min(2000, n >> 2);
  const args = { size: SMALL, n, warmup };
  const workers: RoleWorker[] = [];
  try {
    if (kind === 'piscina.run') {
      const pool = new Piscina({ filename: new URL('./shm/piscina-echo.mjs', import.meta.url).href, minThreads: 1, maxThreads: 1, execArgv: [] });
      const times = new Float64Array(n);
      const buf = new Uint8Array(SMALL);
      for (let i = -warmup; i < n; i++) {
        const t0 = performance.now();
        await pool.run(buf);
        if (i >= 0) times[i] = (performance.now() - t0) * 1000;
      }
      await pool.destroy();
      return times;
    }
    if (kind === 'shm spin' || kind === 'shm active' || kind === 'shm parked') {
      const mode = kind === 'shm spin' ? 'spin' : kind === 'shm active' ? 'poll' : 'wait';
      const serverOptions = { spinUs: kind === 'shm parked' ? 0 : 20 };
      const a = unique('rt-a');
      const b = unique('rt-b');
      workers.push(startRole('shm-echo', { ctl, channel: b, reply: a, serverOptions, args: { size: SMALL, mode } }, manager));
      if (pair === 'main<->worker') {
        const { server, client } = await roles.shmEnds(a, b, serverOptions);
        await roles.awaitReady(ctl, 1);
        try {
          return await roles.shmPing({ server, client, mode, ctl, ...args });
        } finally {
          await client.close();
          await server.close();
        }
      }
      workers.push(startRole('shm-ping', { ctl, channel: a, reply: b, serverOptions, args: { mode, peers: 2, ...args } }, manager));
      return (await workers[1].result) as Float64Array;
    }
    if (kind.startsWith('postMessage')) {
      const transfer = kind === 'postMessage transfer';
      const { port1, port2 } = new MessageChannel();
      workers.push(startRole('port-echo', { ctl, port: port2, transfer }, null, [port2]));
      if (pair === 'main<->worker') {
        await roles.awaitReady(ctl, 1);
        const times = await roles.portPing(port1, SMALL, transfer, n, warmup);
        port1.close();
        return times;
      }
      workers.push(startRole('port-ping', { ctl, port: port1, args: { transfer, ...args } }, null, [port1]));
      return (await workers[1].result) as Float64Array;
    }
    const how = kind === 'atomics spin' ? 'spin' : kind === 'atomics wait' ? 'wait' : 'async';
    workers.push(startRole('atomics-echo', { ctl, how }, null));
    if (pair === 'main<->worker') {
      await roles.awaitReady(ctl, 1);
      return await roles.atomicsPing(ctl, how, n, warmup);
    }
    workers.push(startRole('atomics-ping', { ctl, how, args }, null));
    return (await workers[1].result) as Float64Array;
  } finally {
    await stopRoles(ctl, workers);
  }
}

async function roundTrips(): Promise<void> {
  const cases: Array<[RtKind, Pair, number]> = [];
  for (const pair of ['main<->worker', 'worker<->worker'] as const) {
    cases.push(['shm spin', pair, 20_000], [`shm active`, pair, 20_000], ['atomics spin', pair, 20_000], ['postMessage copy', pair, 3000], ['shm parked', pair, 3000], ['atomics waitAsync', pair, 3000], ['atomics wait', pair, 3000]);
  }
  cases.push(['postMessage transfer', 'main<->worker', 3000], ['piscina.run', 'main<->worker', 3000]);
  const p50s = new Map<string, number[]>();
  const p99s = new Map<string, number[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [kind, pair, n] of cases) {
      const key = `${kind} ${pair}`;
      const l = latency(await roundTrip(kind, pair, n));
      p50s.set(key, [...(p50s.get(key) ?? []), l.p50]);
      p99s.set(key, [...(p99s.get(key) ?? []), l.p99]);
    }
  }
  const p50 = (k: RtKind, pair: Pair): number => median(p50s.get(`${k} ${pair}`) ?? [NaN]);
  console.log(`\nsmall-message round trip (${SMALL} B), microseconds, median of ${ROUNDS} rounds`);
  console.table(
    [...p50s.keys()].map((key) => ({ task: `round trip ${key} size=${SMALL}B`, 'p50 us': median(p50s.get(key)!).toFixed(2), 'p99 us': median(p99s.get(key)!).toFixed(2), 'round trips/s': human(1e6 / median(p50s.get(key)!)) })),
  );
  const rows = [];
  for (const pair of ['main<->worker', 'worker<->worker'] as const) {
    // Active peers: the synchronous API spinning (sendNow / recvMetadataNow); the async API's
    // figure is printed alongside.
    const active = p50('shm spin', pair);
    const activeAsync = p50('shm active', pair);
    const parked = p50('shm parked', pair);
    const vsPm = p50('postMessage copy', pair) / active;
    const vsAsync = parked / p50('atomics waitAsync', pair);
    const vsWait = parked / p50('atomics wait', pair);
    rows.push({ comparison: `active ${pair}: postMessage p50 / shm p50`, ratio: `${vsPm.toFixed(1)}x`, goal: '>= 50x' });
    rows.push({ comparison: `active ${pair}: shm p50 (sync API)`, ratio: `${active.toFixed(2)} us`, goal: '<= 1 us' });
    rows.push({ comparison: `active ${pair}: shm p50 (async API, polling)`, ratio: `${activeAsync.toFixed(2)} us`, goal: '(reported)' });
    rows.push({ comparison: `active ${pair}: shm p50 / atomics spin p50`, ratio: `${(active / p50('atomics spin', pair)).toFixed(1)}x`, goal: '(floor)' });
    rows.push({ comparison: `parked ${pair}: shm p50 / atomics waitAsync p50`, ratio: `${vsAsync.toFixed(2)}x`, goal: '<= 1.0x' });
    rows.push({ comparison: `parked ${pair}: shm p50 / atomics wait p50`, ratio: `${vsWait.toFixed(2)}x`, goal: '<= 1.0x' });
    goals.push({ goal: `round trip active ${pair}: p50 <= 1 us`, value: `${active.toFixed(2)} us`, met: active <= 1 });
    goals.push({ goal: `round trip active ${pair}: >= 50x postMessage`, value: `${vsPm.toFixed(1)}x`, met: vsPm >= 50 });
    goals.push({ goal: `round trip parked ${pair}: <= 1.0x raw Atomics (waitAsync / blocking wait)`, value: `${vsAsync.toFixed(2)}x / ${vsWait.toFixed(2)}x`, met: vsAsync <= 1 && vsWait <= 1 });
    for (const [k, side] of [['shm spin', 'ours'], ['shm active', 'ours'], ['shm parked', 'ours'], ['postMessage copy', 'peer'], ['atomics waitAsync', 'peer'], ['atomics wait', 'peer']] as const) {
      const us = p50(k, pair);
      const ratio = k === 'postMessage copy' ? vsPm : k === 'atomics waitAsync' ? 1 / vsAsync : k === 'atomics wait' ? 1 / vsWait : undefined;
      results.push({ task: `round trip ${k} ${pair} size=${SMALL}B`, side, impl: side === 'ours' ? `lightbeam ${k}` : k, messageBytes: SMALL, opsPerSec: 1e6 / us, bytesPerSec: (2 * SMALL * 1e6) / us, ...(ratio === undefined ? {} : { ratio }) });
    }
  }
  console.table(rows);
}

// ---- one-way streams: rate, bandwidth, handoff ------------------------------------------------

/** Sends `count` one-bulk messages in synchronous bursts of `burst`; resolves when all are queued. */
async function sendStream(client: Client, count: number, burst: number, bulk: () => LbmMeta): Promise<void> {
  const wait = { timeoutMs: 30_000 };
  for (let i = 0; i < count; ) {
    let last: Promise<number> = Promise.resolve(0);
    for (const end = Math.min(count, i + burst); i < end; i++) last = client.send(bulk(), wait);
    // One await per burst: the doorbell of the whole burst rings here.
    const rc = await last;
    if (rc !== 0) throw new Error(`stream send failed: ${rc}`);
  }
}

/** Bursts of synchronous sends; a full ring parks one waiting send, then bursting resumes. */
async function sendStreamNow(client: Client, count: number, bulk: () => LbmMeta): Promise<void> {
  for (let i = 0; i < count; ) {
    const m = bulk();
    if (client.sendNow(m) === 0) {
      i++;
      continue;
    }
    const rc = await client.send(m, { timeoutMs: 30_000 });
    if (rc !== 0) throw new Error(`stream send failed: ${rc}`);
    i++;
  }
}

type StreamKind = 'shm' | 'shm sync' | 'postMessage copy' | 'postMessage transfer' | 'postMessage SAB view' | 'memcpy';

/**
 * Messages per second of a one-way stream main -> worker sink.
 *
 * @param bytes - payload per message
 * @param flags - for shm: BULK_XFER (private bytes, staged) or BULK_EXPOSE (a slab block)
 */
async function stream(kind: StreamKind, bytes: number, count: number, flags = BULK_XFER, burst = 256, capacity = 1024): Promise<number> {
  if (kind === 'memcpy') {
    const src = new Uint8Array(bytes).fill(1);
    const dst = new Uint8Array(bytes);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) dst.set(src);
    return (count / (performance.now() - t0)) * 1000;
  }
  const ctl = newCtl();
  const workers: RoleWorker[] = [];
  let client: ShmClient | null = null;
  let block = null;
  try {
    let send: () => Promise<void>;
    if (kind === 'shm' || kind === 'shm sync') {
      const channel = unique('stream');
      const mode = kind === 'shm sync' ? 'sync' : 'wait';
      workers.push(startRole('shm-sink', { ctl, channel, serverOptions: { capacity, spinUs: 20 }, args: { size: bytes, mode } }, manager));
      const c = new ShmClient(channel);
      client = c;
      let payload: Uint8Array | ReturnType<MemoryManager['toFullPtr']>;
      if (flags === BULK_EXPOSE) {
        block = manager.allocateOrThrow(bytes);
        payload = manager.toFullPtr(block, bytes);
        payload.ptr.fill(1);
      } else {
        payload = new Uint8Array(bytes).fill(1);
      }
      const make = (): LbmMeta => {
        const m = new LbmMeta();
        m.send.push(c.expose(payload, bytes, flags));
        return m;
      };
      send = kind === 'shm sync' ? () => sendStreamNow(c, count, make) : () => sendStream(c, count, burst, make);
    } else {
      const { port1, port2 } = new MessageChannel();
      workers.push(startRole('port-sink', { ctl, port: port2 }, null, [port2]));
      const sab = new SharedArrayBuffer(bytes);
      const src = new Uint8Array(bytes).fill(1);
      send = async () => {
        for (let i = 0; i < count; i++) {
          if (kind === 'postMessage copy') port1.postMessage(src);
          else if (kind === 'postMessage SAB view') port1.postMessage(new Uint8Array(sab, 0, bytes));
          else {
            const b = new Uint8Array(bytes);
            b[0] = 1;
            port1.postMessage(b, [b.buffer]);
          }
        }
      };
    }
    await roles.awaitReady(ctl, 1);
    const t0 = performance.now();
    await send();
    await awaitCount(ctl, roles.RECEIVED, count);
    return (count / (performance.now() - t0)) * 1000;
  } finally {
    await stopRoles(ctl, workers);
    await client?.close();
    if (block !== null) manager.free(block);
  }
}

/** Runs `cases` for ROUNDS alternating rounds; returns the median msgs/s of each. */
async function alternate(cases: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const all: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) for (const [k, f] of Object.entries(cases)) (all[k] ??= []).push(await f());
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, median(v)]));
}

function streamTable(title: string, rates: Record<string, number>, bytes: Record<string, number>): void {
  console.log(`\n${title} (median of ${ROUNDS} rounds)`);
  console.table(Object.entries(rates).map(([task, r]) => ({ task, 'msgs/s': human(r), 'bytes/s': human(r * bytes[task], 'B') })));
}

function record(task: string, side: 'ours' | 'peer', impl: string, bytes: number, rate: number, ratio?: number): void {
  results.push({ task, side, impl, messageBytes: bytes, opsPerSec: rate, bytesPerSec: rate * bytes, ...(ratio === undefined ? {} : { ratio }) });
}

async function smallRate(): Promise<void> {
  const asyncApi = `send transport=shm size=${SMALL}B burst=256`;
  const ours = `sendNow/recvMetadataNow transport=shm size=${SMALL}B`;
  const r = await alternate({
    [asyncApi]: () => stream('shm', SMALL, 100_000),
    [ours]: () => stream('shm sync', SMALL, 100_000),
    [`postMessage transfer size=${SMALL}B`]: () => stream('postMessage transfer', SMALL, 20_000),
    [`postMessage copy size=${SMALL}B`]: () => stream('postMessage copy', SMALL, 20_000),
  });
  streamTable('small-message rate main -> worker, batched (one doorbell per burst)', r, Object.fromEntries(Object.keys(r).map((k) => [k, SMALL])));
  const vs = r[ours] / r[`postMessage transfer size=${SMALL}B`];
  console.log(`shm (sync API) / postMessage transfer: ${vs.toFixed(1)}x (goal >= 10x); shm (async API): ${(r[asyncApi] / r[`postMessage transfer size=${SMALL}B`]).toFixed(1)}x; shm (sync API) / postMessage copy: ${(r[ours] / r[`postMessage copy size=${SMALL}B`]).toFixed(1)}x`);
  goals.push({ goal: 'batched small-message rate >= 10x postMessage transfer', value: `${vs.toFixed(1)}x`, met: vs >= 10 });
  record(ours, 'ours', 'lightbeam shm', SMALL, r[ours]);
  record(asyncApi, 'ours', 'lightbeam shm (async API)', SMALL, r[asyncApi]);
  record(`postMessage transfer size=${SMALL}B`, 'peer', 'postMessage transfer', SMALL, r[`postMessage transfer size=${SMALL}B`], vs);
  record(`postMessage copy size=${SMALL}B`, 'peer', 'postMessage copy', SMALL, r[`postMessage copy size=${SMALL}B`], r[ours] / r[`postMessage copy size=${SMALL}B`]);
}

async function bulkXfer(): Promise<void> {
  const MiB = 1 << 20;
  const ours = 'send transport=shm BULK_XFER size=1MiB';
  const r = await alternate({
    [ours]: () => stream('shm', MiB, 200, BULK_XFER, 8, 8),
    'memcpy Uint8Array.set size=1MiB': () => stream('memcpy', MiB, 400),
    'postMessage copy size=1MiB': () => stream('postMessage copy', MiB, 200),
  });
  streamTable('1 MiB BULK_XFER main -> worker (staged by send, copied out by recvBulks)', r, Object.fromEntries(Object.keys(r).map((k) => [k, MiB])));
  const vsCpy = r[ours] / r['memcpy Uint8Array.set size=1MiB'];
  const vsPm = r[ours] / r['postMessage copy size=1MiB'];
  console.log(`shm / memcpy: ${vsCpy.toFixed(2)}x (goal >= 0.8x); shm / postMessage copy: ${vsPm.toFixed(2)}x (goal >= 4x)`);
  goals.push({ goal: '1 MiB BULK_XFER >= 0.8x memcpy', value: `${vsCpy.toFixed(2)}x`, met: vsCpy >= 0.8 });
  goals.push({ goal: '1 MiB BULK_XFER >= 4x postMessage copy', value: `${vsPm.toFixed(2)}x`, met: vsPm >= 4 });
  record(ours, 'ours', 'lightbeam shm', MiB, r[ours]);
  record('memcpy Uint8Array.set size=1MiB', 'peer', 'memcpy', MiB, r['memcpy Uint8Array.set size=1MiB'], vsCpy);
  record('postMessage copy size=1MiB', 'peer', 'postMessage copy', MiB, r['postMessage copy size=1MiB'], vsPm);
}

async function exposeHandoff(): Promise<void> {
  const small = 'send transport=shm BULK_EXPOSE size=1KiB';
  const big = 'send transport=shm BULK_EXPOSE size=16MiB';
  const r = await alternate({
    [small]: () => stream('shm', 1024, 50_000, BULK_EXPOSE),
    [big]: () => stream('shm', 16 << 20, 50_000, BULK_EXPOSE),
    'postMessage SAB view size=16MiB': () => stream('postMessage SAB view', 16 << 20, 20_000),
  });
  streamTable('BULK_EXPOSE handoff main -> worker (a live view of a slab block, nothing copied)', r, { [small]: 1024, [big]: 16 << 20, 'postMessage SAB view size=16MiB': 16 << 20 });
  const spread = Math.abs(r[big] / r[small] - 1);
  console.log(`16 MiB / 1 KiB msgs/s: ${(r[big] / r[small]).toFixed(3)} (goal within 10%); 16 MiB shm / postMessage SAB view: ${(r[big] / r['postMessage SAB view size=16MiB']).toFixed(1)}x`);
  goals.push({ goal: 'BULK_EXPOSE handoff: 1 KiB and 16 MiB within 10%', value: `${(100 * spread).toFixed(1)}%`, met: spread <= 0.1 });
  record(small, 'ours', 'lightbeam shm EXPOSE', 1024, r[small]);
  record(big, 'ours', 'lightbeam shm EXPOSE', 16 << 20, r[big]);
  record('postMessage SAB view size=16MiB', 'peer', 'postMessage SAB view', 16 << 20, r['postMessage SAB view size=16MiB'], r[big] / r['postMessage SAB view size=16MiB']);
}

async function pipeline(): Promise<void> {
  const jobs = 64;
  const size = 256 * 1024;
  const workers = 2;
  const pool = createPool({ manager, filename: PIPELINE_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
  const shmJobs = makeShmJobs(manager, { jobs, size });
  const plainJobs = makePlainJobs({ jobs, size });
  const ms: Record<string, number[]> = { shm: [], clone: [], transfer: [] };
  for (let r = 0; r < ROUNDS + 1; r++) {
    const p = await ShmPipeline.start(pool, workers, 'bench-pipeline');
    refillShmJobs(shmJobs);
    const shm = await p.process(shmJobs);
    await p.stop();
    for (const mode of ['clone', 'transfer'] as const) {
      refillPlain(plainJobs);
      const plain = await processPlain(pool, plainJobs, mode);
      if (plain.verified !== jobs) throw new Error(`plain ${mode} pipeline verified ${plain.verified} of ${jobs}`);
      if (r > 0) ms[mode].push(plain.ms);
    }
    if (shm.verified !== jobs || shm.samePointer !== jobs) throw new Error(`kShm pipeline verified ${shm.verified} of ${jobs}`);
    // Round 0 warms every path up.
    if (r > 0) ms.shm.push(shm.ms);
  }
  for (const j of shmJobs) manager.free(j.block.shm);
  await pool.destroy();
  const rate = (k: string): number => (jobs / median(ms[k])) * 1000;
  console.log(`\npiscina pipeline: ${jobs} jobs x 256 KiB, ${workers} workers, transform in place, every checksum verified (median of ${ROUNDS} rounds)`);
  console.table(
    (['shm', 'clone', 'transfer'] as const).map((k) => ({
      pipeline: k === 'shm' ? 'kShm EXPOSE (zero copy)' : `plain piscina ${k}`,
      'jobs/s': human(rate(k)),
      'bytes/s': human(rate(k) * size, 'B'),
      'kShm ratio': `${(rate('shm') / rate(k)).toFixed(2)}x`,
    })),
  );
  goals.push({ goal: 'piscina pipeline vs plain piscina clone / transfer (reported, no threshold)', value: `${(rate('shm') / rate('clone')).toFixed(2)}x / ${(rate('shm') / rate('transfer')).toFixed(2)}x`, met: rate('shm') >= rate('clone') && rate('shm') >= rate('transfer') });
  record('pipeline transport=shm size=256KiB jobs=64', 'ours', 'lightbeam shm pipeline', size, rate('shm'));
  record('pipeline piscina clone size=256KiB jobs=64', 'peer', 'piscina clone', size, rate('clone'), rate('shm') / rate('clone'));
  record('pipeline piscina transfer size=256KiB jobs=64', 'peer', 'piscina transfer', size, rate('transfer'), rate('shm') / rate('transfer'));
}

const only = process.env.LBM_BENCH_ONLY?.split(',');
const sections: Array<[string, () => Promise<void>]> = [
  ['rt', roundTrips],
  ['rate', smallRate],
  ['xfer', bulkXfer],
  ['expose', exposeHandoff],
  ['pipeline', pipeline],
];
console.log(`shm: Node ${process.version}, ${ROUNDS} rounds per section`);
for (const [name, run] of sections) if (only === undefined || only.includes(name)) await run();
console.log('\ngoals:');
console.table(goals.map((g) => ({ goal: g.goal, measured: g.value, result: g.met ? 'met' : 'NOT met' })));
await writeBenchResult('shm', results);
manager.detach();
