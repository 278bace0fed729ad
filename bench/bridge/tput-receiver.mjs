// Ours, throughput, receiving end: a worker thread of bridge process B, serving channel "tput"
// (B's bridge delivers into it), granting credits back to A's worker on channel "credit".
//
// MODE=move (default), the performance-minded way: the bulk is received in place (a recv entry
// without a buffer: `recvBulks` points it at the bytes B's bridge wrote into the slab), read, and
// released with `server.release(meta)`. MODE=copy: `recvBulks` copies it into a private buffer.
// One LbmMeta and one recv entry serve every message.
import { BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { COUNT, CREDIT_EVERY, SIZE, WAIT_MS, WINDOW, check, out, rateClock } from './common.mjs';

attachFromWorkerData();
const inPlace = (process.env.MODE ?? 'move') === 'move';
const server = await ShmServer.create('tput');
const credit = new ShmClient('credit');
const creditBuf = new Uint8Array(4);
const creditMeta = new LbmMeta();
creditMeta.send.push(credit.expose(creditBuf, 4, BULK_XFER)); // copied at send: reusable

/** Grants `n` more messages to the sender. */
async function grant(n) {
  new DataView(creditBuf.buffer).setUint32(0, n, true);
  let rc = credit.sendNow(creditMeta);
  if (rc === EAGAIN) rc = await credit.send(creditMeta, { timeoutMs: WAIT_MS });
  if (rc !== 0) throw new Error(`credit send failed with ${rc}`);
}

const meta = new LbmMeta();
const view = { data: null, size: SIZE, flags: BULK_XFER };
const own = new Uint8Array(SIZE);
const copyInto = server.expose(own, SIZE, BULK_XFER);
const clock = rateClock();
await grant(WINDOW); // ready: the first window may come
for (let i = 0; i < COUNT; i++) {
  const rc = server.waitMetadataSync(meta, WAIT_MS);
  if (rc !== 0) throw new Error(`receive ${i} failed with ${rc}`);
  if (meta.send.length !== 1 || meta.send[0].size !== SIZE) throw new Error(`message ${i} has the wrong bulks`);
  if (inPlace) {
    view.data = null;
    meta.recv.push(view);
    if (server.recvBulksNow(meta) !== 0) throw new Error(`recvBulks ${i} failed`);
    check(view.data.ptr, SIZE, i, 'ours in place');
    server.release(meta); // the slab block goes back now, not at the next receive
  } else {
    meta.recv.push(copyInto);
    if (server.recvBulksNow(meta) !== 0) throw new Error(`recvBulks ${i} failed`);
    check(own, SIZE, i, 'ours copy');
  }
  clock.consumed(i);
  if ((i + 1) % CREDIT_EVERY === 0) await grant(CREDIT_EVERY);
}
out({ kind: 'tput', opsPerSec: clock.rate() });
await server.close();
await credit.close();
