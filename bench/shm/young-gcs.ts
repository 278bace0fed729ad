/**
 * The `gc` section of bench/shm.bench.ts: young GCs per 100k messages on the synchronous path.
 */
import { BULK_EXPOSE, BULK_XFER } from '@lightbeam/core';
import { ShmClient } from '@lightbeam/shm';
import type { ShmServerOptions } from '@lightbeam/shm';
import * as roles from './roles.mjs';
import { bareRingPingBatch, createBareRings } from './bare-ring.mjs';
import { finishRoles, newCtl, resultOf, startRole } from './threads.js';
import { GcCounter } from '../support/gc-count.js';
import { summary } from '../support/rounds.js';
import { fmtNum, GC_N, GC_WARMUP, goal, interleave, manager, PM_WINDOW, ROUNDS, RT_CAPACITY, RT_ECHO, RT_PING, SMALL, streamChannel } from './context.js';

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

export async function youngGcs(): Promise<void> {
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

