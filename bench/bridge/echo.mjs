// Bridge worker (process B): returns every message of "ping" on "pong", ROUNDS + WARMUP times.
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { num } from './common.mjs';

attachFromWorkerData();
const n = num('ROUNDS', 1000) + num('WARMUP', 100);
const ping = await ShmServer.create('ping');
const pong = new ShmClient('pong');
for (let i = 0; i < n; i++) {
  const m = new LbmMeta();
  if ((await ping.waitMetadata(m, { timeoutMs: 30000 })) !== 0) throw new Error('ping receive failed');
  const back = new LbmMeta();
  back.send.push(pong.expose(m.send[0].data.ptr, m.send[0].size, BULK_XFER));
  if ((await pong.send(back, { timeoutMs: 30000 })) !== 0) throw new Error('pong send failed');
  await ping.recvBulks(m);
}
await ping.close();
await pong.close();
