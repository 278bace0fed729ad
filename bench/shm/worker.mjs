// Worker side of bench/shm.bench.ts: runs one role of bench/shm/roles.mjs and reports to the
// main thread ({ times } for pingers, { done } otherwise, { error } on failure).
import { parentPort, workerData } from 'node:worker_threads';
import { MemoryManager } from '@lightbeam/shm';
import * as roles from './roles.mjs';

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
    default:
      throw new Error(`unknown bench role ${role}`);
  }
}

main().then(
  (times) => parentPort.postMessage(times === undefined ? { done: true } : { times }),
  (err) => parentPort.postMessage({ error: String(err?.stack ?? err) }),
);
