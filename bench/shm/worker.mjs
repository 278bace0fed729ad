// Worker side of bench/shm.bench.ts: runs one role of bench/shm/roles.mjs and reports to the
// main thread ({ times } for roles with a result, { done } otherwise, { error } on failure).
import { parentPort, workerData } from 'node:worker_threads';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import * as roles from './roles.mjs';
import { bareRingEcho, bareRingPing, bareRingPingBatch } from './bare-ring.mjs';
import { portSpinEcho, portSpinPing } from './port-spin.mjs';
import { GcCounter } from '../support/gc-count.mjs';

const { role, ctl } = workerData;

async function main() {
  if (workerData.shm !== undefined) MemoryManager.attach(workerData.shm);
  switch (role) {
    case 'shm-echo':
    case 'shm-ping':
    case 'shm-sink':
      return shmRole();
    case 'port-echo':
      roles.portEcho(workerData.port, workerData.transfer);
      roles.signalReady(ctl);
      return undefined;
    case 'port-ping': {
      roles.signalReady(ctl);
      await roles.awaitReady(ctl, 2);
      const { size, transfer, n, warmup } = workerData.args;
      const times = await roles.portPing(workerData.port, size, transfer, n, warmup);
      workerData.port.postMessage('stop');
      workerData.port.close();
      return times;
    }
    case 'port-sink':
      roles.portSink(workerData.port, ctl);
      roles.signalReady(ctl);
      return undefined;
    case 'atomics-echo':
      roles.signalReady(ctl);
      await roles.atomicsEcho(ctl, workerData.how);
      return undefined;
    case 'atomics-ping': {
      roles.signalReady(ctl);
      await roles.awaitReady(ctl, 2);
      return roles.atomicsPing(ctl, workerData.how, workerData.args.n, workerData.args.warmup);
    }
    case 'bare-ring-echo':
      // Spins until ctl[STOP]; blocks this worker's event loop meanwhile, which is the point.
      roles.signalReady(ctl);
      bareRingEcho(workerData.ring, ctl);
      return undefined;
    case 'bare-ring-ping': {
      roles.signalReady(ctl);
      await roles.awaitReady(ctl, 2);
      const { n, warmup, gcWord } = workerData.args;
      if (gcWord === undefined) return bareRingPing(workerData.ring, n, warmup);
      // Allocation check instead of latency: n unclocked round trips (the clock allocates)
      // under a GC counter; the young-GC count goes to ctl[gcWord], the mean round trip back.
      bareRingPingBatch(workerData.ring, warmup);
      const gc = new GcCounter();
      gc.start();
      const us = bareRingPingBatch(workerData.ring, n);
      const { young } = await gc.stop();
      // Publishes the count before the result message the main thread waits for.
      Atomics.store(ctl, gcWord, young);
      return Float64Array.of(us / n);
    }
    case 'port-spin-echo':
      roles.signalReady(ctl);
      portSpinEcho(workerData.port, ctl);
      workerData.port.close();
      return undefined;
    case 'port-spin-ping': {
      roles.signalReady(ctl);
      await roles.awaitReady(ctl, 2);
      const { size, n, warmup } = workerData.args;
      const times = portSpinPing(workerData.port, size, n, warmup);
      workerData.port.close();
      return times;
    }
    default:
      throw new Error(`unknown bench role ${role}`);
  }
}

/**
 * The Lightbeam roles. `args`: `size`, `flags` (BULK_XFER or BULK_EXPOSE), `mode` (see
 * bench/shm/roles.mjs), and per role: echo `count` (messages to answer); ping `n`, `warmup`,
 * `peers` (ready ends to wait for); sink `count`. With `gcWarmup` (echo, sink) or `gc` (ping) the
 * role runs unclocked and reports `[microseconds, young GCs]` over its messages after the warm-up.
 */
async function shmRole() {
  const { size, flags, mode } = workerData.args;
  const server = await ShmServer.create(workerData.channel, workerData.serverOptions);
  const client = role === 'shm-sink' ? null : new ShmClient(workerData.reply);
  const kit = roles.shmKit({ server, client, size, flags });
  roles.signalReady(ctl);
  let out;
  try {
    if (role === 'shm-echo') {
      const { count, gcWarmup } = workerData.args;
      if (gcWarmup !== undefined) out = await roles.countGcs((k) => roles.shmEchoSync(kit, mode, k), count - gcWarmup, gcWarmup);
      else if (mode === 'async') await roles.shmEchoAsync(kit, count);
      else roles.shmEchoSync(kit, mode, count);
    } else if (role === 'shm-sink') {
      const { count, gcWarmup } = workerData.args;
      if (gcWarmup !== undefined) out = await roles.countGcs((k) => roles.shmSinkSpin(kit, k, ctl), count - gcWarmup, gcWarmup);
      else await roles.shmSink(kit, mode, count, ctl);
    } else {
      const { n, warmup, peers, gc } = workerData.args;
      await roles.awaitReady(ctl, peers);
      if (gc === true) out = await roles.countGcs((k) => roles.shmPingSync(kit, mode, k, 0, null), n, warmup);
      else {
        out = new Float64Array(n);
        if (mode === 'async') await roles.shmPingAsync(kit, n, warmup, out);
        else roles.shmPingSync(kit, mode, n, warmup, out);
      }
    }
  } finally {
    await client?.close();
    await server.close();
  }
  // The pinger may still read the echo's EXPOSE block (the last reply): free it only once the
  // main thread says the run is over (its stop flag), or after 10 s. (A pinger's block was read
  // before its last reply came back.)
  if (role === 'shm-echo' && flags === roles.BULK_EXPOSE) Atomics.wait(ctl, roles.STOP, 0, 10_000);
  kit.dispose();
  return out;
}

main().then(
  (times) => parentPort.postMessage(times === undefined ? { done: true } : { times }),
  (err) => parentPort.postMessage({ error: String(err?.stack ?? err) }),
);
