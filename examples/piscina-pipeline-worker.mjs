// The piscina task of examples/piscina-pipeline.ts. Three ways to run the same transform:
// - `serve`: bind a kShm job channel, then for each job transform its EXPOSE bulk in place in the
//   slab (zero copy) and answer on the results channel with the same bytes as an EXPOSE bulk;
//   runs until a stop job arrives and returns how many jobs it served.
// - `clone`: the bytes arrive as a structured-clone copy and go back the same way.
// - `transfer`: the ArrayBuffer arrives and goes back moved (transfer lists).
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { BULK_EXPOSE, ETIMEDOUT, Transport, TransportFactory } from '@lightbeam/core';
import { attachFromWorkerData } from '@lightbeam/shm';
import { JobMeta, READY, RESULT, ResultMeta, checksum, transformInPlace } from './piscina-pipeline-shared.mjs';

// Attach once per worker: the pool was made with createPool, so the handle is in workerData.
attachFromWorkerData();

async function serve({ channel, results, spinUs, idleTimeoutMs }) {
  const server = await TransportFactory.getServer(channel, Transport.kShm, undefined, undefined, { capacity: 1024, spinUs });
  const client = await TransportFactory.getClient(results, Transport.kShm);
  let served = 0;
  try {
    const hello = new ResultMeta();
    hello.kind = READY;
    hello.workerThreadId = threadId;
    let rc = await client.send(hello, { timeoutMs: 10_000 });
    if (rc !== 0) throw new Error(`worker ${threadId}: ready send failed with ${rc}`);
    const job = new JobMeta();
    for (;;) {
      rc = await server.waitMetadata(job, { timeoutMs: idleTimeoutMs });
      if (rc === ETIMEDOUT) throw new Error(`worker ${threadId}: no job for ${idleTimeoutMs} ms on ${channel}`);
      if (rc !== 0) throw new Error(`worker ${threadId}: waitMetadata failed with ${rc}`);
      if (job.stop) break;
      const bulk = job.send[0];
      // EXPOSE over shared memory: a live view of the main thread's block, not a copy.
      if (bulk?.data == null) throw new Error(`worker ${threadId}: job ${job.jobId} arrived without its shared bytes`);
      transformInPlace(bulk.data.ptr, job.key);
      const res = new ResultMeta();
      res.jobId = job.jobId;
      res.checksum = checksum(bulk.data.ptr);
      res.workerThreadId = threadId;
      res.seenMajor = bulk.data.shm.allocId.major;
      res.seenMinor = bulk.data.shm.allocId.minor;
      res.seenOff = bulk.data.shm.off;
      // Hand the result back as a pointer: the same FullPtr, EXPOSE, nothing copied.
      res.send.push(client.expose(bulk.data, bulk.size, BULK_EXPOSE));
      rc = await client.send(res, { timeoutMs: 10_000 });
      if (rc !== 0) throw new Error(`worker ${threadId}: result send failed with ${rc}`);
      served++;
    }
  } finally {
    await client.close();
    await server.close();
  }
  return { served, threadId };
}

export default function task(t) {
  if (t.op === 'serve') return serve(t);
  if (t.op === 'clone') {
    transformInPlace(t.data, t.key);
    return { jobId: t.jobId, checksum: checksum(t.data), data: t.data };
  }
  if (t.op === 'transfer') {
    const data = new Uint8Array(t.data);
    transformInPlace(data, t.key);
    return Piscina.move(data);
  }
  throw new Error(`unknown pipeline op ${t.op}`);
}
