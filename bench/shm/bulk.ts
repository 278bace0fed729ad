/**
 * The `xfer`, `expose` and `pipeline` sections of bench/shm.bench.ts: the bulk-data figures.
 */
import { BULK_EXPOSE, BULK_XFER } from '@lightbeam/core';
import { createPool } from '@lightbeam/shm';
import { summary } from '../support/rounds.js';
import { PIPELINE_WORKER, ShmPipeline, makePlainJobs, makeShmJobs, processPlain, refillPlain, refillShmJobs } from '../../examples/piscina-pipeline-run.js';
import { memcpyRate, portStream, rateTable, shmStream } from './streams.js';
import { fmtRate, fmtRatio, goal, KiB, manager, MiB, PM_WINDOW, ratioOf, record } from './context.js';

// ---- bulk data (issue 11) --------------------------------------------------------------------------

export async function bulkXfer(): Promise<void> {
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

export async function exposeHandoff(): Promise<void> {
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

export async function pipeline(): Promise<void> {
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

