// Worker side of bench/shm.bench.ts: runs one role of bench/shm/roles.mjs and reports to the
// main thread ({ times } for pingers, { done } otherwise, { error } on failure).
import { parentPort, workerData } from 'node:worker_threads';
import { MemoryManager } from '@lightbeam/shm';
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
    case 'shm-sink': {
      const { server, client } = await roles.shmEnds(workerData.channel, workerData.reply ?? workerData.channel + '-unused', workerData.serverOptions);
      roles.signalReady(ctl);
      const args = { server, client, ctl, ...workerData.args };
      let out;
      if (role === 'shm-echo') await roles.shmEcho(args);
      else if (role === 'shm-sink') await roles.shmSink(args);
      else {
        await roles.awaitReady(ctl, workerData.args.peers);
        out = await roles.shmPing(args);
      }
      await client.close();
      await server.close();
      return out;
    }
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

main().then(
  (times) => parentPort.postMessage(times === undefined ? { done: true } : { times }),
  (err) => parentPort.postMessage({ error: String(err?.stack ?? err) }),
);
