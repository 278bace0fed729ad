// The piscina task of `lightbeam demo` (plain .mjs: a .ts worker entry fails under tsx on Node 20).
// Two ways to run the same transform:
// - `serve`: bind the kShm channel `work-<i>` and, for each message, transform its BULK_EXPOSE bulk
//   in place in the slab (zero copy: the producer's very block), then send the result to the
//   bridge's channel as BULK_XFER (the bytes must cross to the other host) and free the block.
//   Runs until a stop message arrives; returns how many messages it served.
// - `clone`: the postMessage baseline; the bytes arrive as a structured-clone copy and go back so.
import { threadId } from 'node:worker_threads';
import { BULK_XFER, ETIMEDOUT, Transport, TransportFactory, strerror } from '@lightbeam/core';
import { MemoryManager, attachFromWorkerData } from '@lightbeam/shm';
import { DemoMeta, checksumPayload, isCorrupted, transformPayload } from '../dist/demo/payload.js';

// Attach once per worker: the pool was made with createPool, so the handle is in workerData.
attachFromWorkerData();

async function serve({ channel, results, capacity, corruptEvery, timeoutMs }) {
  const manager = MemoryManager.current();
  // spinUs 0: park at once when the ring is empty; spinning steals a core from the producer and
  // the bridge on a small machine.
  const server = await TransportFactory.getServer(channel, Transport.kShm, undefined, undefined, { capacity, spinUs: 0 });
  const client = await TransportFactory.getClient(results, Transport.kShm);
  let served = 0;
  try {
    const job = new DemoMeta();
    const out = new DemoMeta();
    for (;;) {
      let rc = await server.waitMetadata(job, { timeoutMs });
      if (rc === ETIMEDOUT) throw new Error(`worker ${threadId}: no message on ${channel} for ${timeoutMs} ms`);
      if (rc !== 0) throw new Error(`worker ${threadId}: waitMetadata on ${channel} failed: ${strerror(rc)}`);
      if (job.stop) break;
      const bulk = job.send[0];
      // EXPOSE over shared memory: a live view of the producer's slab block, not a copy.
      if (bulk?.data == null) throw new Error(`worker ${threadId}: message ${job.seq} arrived without its shared bytes`);
      const view = bulk.data.ptr;
      transformPayload(view, job.key);
      out.seq = job.seq;
      out.key = job.key;
      out.sentAt = job.sentAt;
      out.checksum = checksumPayload(view);
      if (isCorrupted(job.seq, corruptEvery)) view[view.byteLength >> 1] ^= 0xff;
      // XFER: the shm client stages the bytes for the bridge, so the block is ours again after send.
      out.send = [client.expose(bulk.data, bulk.size, BULK_XFER)];
      rc = await client.send(out, { timeoutMs });
      // Any thread may free a slab block: the producer allocated it, the worker is done with it.
      manager.free(bulk.data.shm);
      if (rc !== 0) throw new Error(`worker ${threadId}: the bridge's channel ${results} did not take message ${job.seq} within ${timeoutMs} ms (${strerror(rc)}); is the remote side still up?`);
      await server.recvBulks(job); // releases the message (no XFER data to receive)
      served++;
    }
  } finally {
    await client.close();
    await server.close();
  }
  return { served, threadId };
}

function clone({ seq, key, data, corruptEvery }) {
  transformPayload(data, key);
  const checksum = checksumPayload(data);
  if (isCorrupted(seq, corruptEvery)) data[data.byteLength >> 1] ^= 0xff;
  return { checksum, data };
}

export default function task(t) {
  if (t.op === 'serve') return serve(t);
  if (t.op === 'clone') return clone(t);
  throw new Error(`demo worker: unknown op ${String(t.op)}`);
}
