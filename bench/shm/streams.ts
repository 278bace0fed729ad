/**
 * The `rate` section of bench/shm.bench.ts: one-way streams of small messages against postMessage.
 */
import { MessageChannel } from 'node:worker_threads';
import { BULK_XFER } from '@lightbeam/core';
import { ShmClient } from '@lightbeam/shm';
import * as roles from './roles.mjs';
import type { PortStreamKind, SinkMode } from './roles.mjs';
import { finishRoles, newCtl, startRole } from './threads.js';
import { human } from '../support/ratio-table.js';
import { summary } from '../support/rounds.js';
import type { RoundCase } from '../support/rounds.js';
import { fmtRate, fmtRatio, goal, interleave, manager, PM_WINDOW, ratioOf, record, ROUNDS, SMALL, streamChannel } from './context.js';

// ---- one-way streams: rate, bandwidth, hand-off ---------------------------------------------------

/** How the main thread sends a stream over shm: `sendNow` bursts, or `await send` per message. */
type ShmSendMode = 'sync' | 'async';

/**
 * Messages per second of a one-way stream main -> worker sink over shm. `warmup` messages go
 * first and are not timed (the sink's thread is new and cold); the clock stops when the sink has
 * counted the last message.
 */
export async function shmStream(size: number, flags: number, n: number, send: ShmSendMode, sink: SinkMode, capacity: number): Promise<number> {
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
export async function portStream(kind: PortStreamKind, size: number, n: number): Promise<number> {
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
export function memcpyRate(size: number, n: number): number {
  const src = new Uint8Array(size).fill(1);
  const dst = new Uint8Array(size);
  for (let i = 0; i < 16; i++) dst.set(src);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) dst.set(src);
  return (n / (performance.now() - t0)) * 1000;
}

/** One case of a rate table. */
export interface RateCase {
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
export async function rateTable(title: string, cases: readonly RateCase[]): Promise<Record<string, number[]>> {
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

export async function smallRate(): Promise<void> {
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

