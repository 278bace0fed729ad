// Ours, round trip, requesting end: a worker thread of bridge process A. ROUNDS + WARMUP round
// trips of one RTT_SIZE-byte XFER message: send on "ping" (A's bridge forwards it to B), wait on
// "pong" (B's bridge delivers the echo here), receive in place, check it. Prints the p50 of the
// timed round trips in microseconds. One meta each way, reused; the send buffer is copied into
// the ring slot at send, so it is simply rewritten for the next round.
import { BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { ROUNDS, RTT_SIZE, WAIT_MS, WARMUP, check, out, p50, stamp } from './common.mjs';

attachFromWorkerData();
const pong = await ShmServer.create('pong');
const ping = new ShmClient('ping');
const data = new Uint8Array(RTT_SIZE);
const meta = new LbmMeta();
meta.send.push(ping.expose(data, RTT_SIZE, BULK_XFER));
const back = new LbmMeta();
const view = { data: null, size: RTT_SIZE, flags: BULK_XFER };
const samples = new Float64Array(ROUNDS);
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  stamp(data, RTT_SIZE, i);
  const t0 = performance.now();
  let rc = ping.sendNow(meta);
  if (rc === EAGAIN) rc = await ping.send(meta, { timeoutMs: WAIT_MS });
  if (rc !== 0) throw new Error(`ping ${i} failed with ${rc}`);
  rc = pong.waitMetadataSync(back, WAIT_MS);
  if (rc !== 0) throw new Error(`pong ${i} failed with ${rc}`);
  view.data = null;
  back.recv.push(view);
  if (pong.recvBulksNow(back) !== 0) throw new Error(`recvBulks ${i} failed`);
  const dt = performance.now() - t0;
  check(view.data.ptr, RTT_SIZE, i, 'ours pong');
  pong.release(back);
  if (i >= WARMUP) samples[i - WARMUP] = dt * 1000;
}
out({ kind: 'rtt', p50Us: p50(samples) });
await ping.close();
await pong.close();
