// Bridge worker (process A): ROUNDS round trips of a 64-byte XFER message: send on "ping", wait on
// "pong" (delivered back by B's bridge); prints round trips/s after WARMUP rounds.
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { num, out } from './common.mjs';

attachFromWorkerData();
const rounds = num('ROUNDS', 1000);
const warmup = num('WARMUP', 100);
const pong = await ShmServer.create('pong');
const ping = new ShmClient('ping');
const data = new Uint8Array(64).fill(1);
let t0 = 0;
for (let i = 0; i < warmup + rounds; i++) {
  if (i === warmup) t0 = performance.now();
  const m = new LbmMeta();
  m.send.push(ping.expose(data, 64, BULK_XFER));
  if ((await ping.send(m, { timeoutMs: 30000 })) !== 0) throw new Error('ping send failed');
  const r = new LbmMeta();
  if ((await pong.waitMetadata(r, { timeoutMs: 30000 })) !== 0) throw new Error('pong receive failed');
  await pong.recvBulks(r);
}
out({ kind: 'rtt', opsPerSec: rounds / ((performance.now() - t0) / 1000) });
await ping.close();
await pong.close();
