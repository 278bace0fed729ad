// Ours, round trip, echoing end: a worker thread of bridge process B. Receives each message of
// "ping" in place, checks it, and sends the very bytes back on "pong" (copied into the ring slot
// by `send`, so the received message can be released right after).
import { BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { ROUNDS, RTT_SIZE, WAIT_MS, WARMUP, check } from './common.mjs';

attachFromWorkerData();
const ping = await ShmServer.create('ping');
const pong = new ShmClient('pong');
const meta = new LbmMeta();
const view = { data: null, size: RTT_SIZE, flags: BULK_XFER };
const back = new LbmMeta();
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  let rc = ping.waitMetadataSync(meta, WAIT_MS);
  if (rc !== 0) throw new Error(`ping ${i} failed with ${rc}`);
  view.data = null;
  meta.recv.push(view);
  if (ping.recvBulksNow(meta) !== 0) throw new Error(`recvBulks ${i} failed`);
  const got = view.data.ptr;
  check(got, RTT_SIZE, i, 'ours ping');
  back.send.length = 0;
  back.send.push(pong.expose(got, RTT_SIZE, BULK_XFER));
  rc = pong.sendNow(back);
  if (rc === EAGAIN) rc = await pong.send(back, { timeoutMs: WAIT_MS });
  if (rc !== 0) throw new Error(`pong ${i} failed with ${rc}`);
  ping.release(meta);
}
await ping.close();
await pong.close();
