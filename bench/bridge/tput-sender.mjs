// Ours, throughput, sending end: a worker thread of bridge process A. Sends COUNT messages of one
// SIZE-byte XFER bulk to channel "tput" (A's bridge forwards them to B), at most WINDOW not yet
// consumed by B's worker, whose credits come back through B's bridge on channel "credit".
//
// MODE=move (default): as a performance-minded user sends big data: each payload is written
//   straight into a fresh slab block (`manager.allocate`) and sent by move (`exposeMove`): no
//   copy in this thread. After a successful send the block is the message's (the bridge frees it
//   once forwarded), so every message needs a fresh block.
// MODE=copy: the plain two-phase way: one private buffer, `expose(buf, SIZE, BULK_XFER)`; `send`
//   stages a copy in the slab, so the buffer may be rewritten at once.
//
// Waits block the thread (`waitMetadataSync`): it has nothing else to do, and the README
// recommends it for such loops.
import { BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { COUNT, SIZE, WAIT_MS, WINDOW, creditOf, stamp } from './common.mjs';

const manager = attachFromWorkerData();
const move = (process.env.MODE ?? 'move') === 'move';
const client = new ShmClient('tput');
const credits = await ShmServer.create('credit');
const creditMeta = new LbmMeta();
let granted = 0;

/** Blocks for the next credit message and adds it to `granted`. */
function takeCredit() {
  const rc = credits.waitMetadataSync(creditMeta, WAIT_MS);
  if (rc !== 0) throw new Error(`no credit within ${WAIT_MS} ms (rc ${rc}); ${granted - WINDOW} consumed`);
  // Over shared memory an XFER bulk's staged bytes are readable in meta.send until release.
  granted += creditOf(creditMeta.send[0].data.ptr);
  credits.recvBulksNow(creditMeta); // no recv entries: just releases the message
}

const meta = new LbmMeta();
const own = move ? null : new Uint8Array(SIZE);
for (let seq = 0; seq < COUNT; seq++) {
  while (seq >= granted) takeCredit();
  let bulk;
  if (own === null) {
    const block = manager.allocate(SIZE);
    if (block === null) throw new Error(`slab has no ${SIZE}-byte block for message ${seq}`);
    const fp = manager.toFullPtr(block, SIZE);
    stamp(fp.ptr, SIZE, seq);
    bulk = client.exposeMove(fp, SIZE);
  } else {
    stamp(own, SIZE, seq);
    bulk = client.expose(own, SIZE, BULK_XFER);
  }
  meta.send.length = 0;
  meta.send.push(bulk);
  // sendNow never waits; the ring (capacity 1024) has room for the whole window, so EAGAIN is rare.
  let rc = client.sendNow(meta);
  if (rc === EAGAIN) rc = await client.send(meta, { timeoutMs: WAIT_MS });
  if (rc !== 0) throw new Error(`send ${seq} failed with ${rc}`);
}
// Exit only once B consumed everything: the bridge then has nothing left to drain.
while (granted < COUNT + WINDOW) takeCredit();
await credits.close();
await client.close();
