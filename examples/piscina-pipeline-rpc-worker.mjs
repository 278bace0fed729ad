// The createRpcPool worker of examples/piscina-pipeline.ts: the same transform as the piscina
// worker's, as an RPC handler. A job's EXPOSE bulk arrives as a live view of the main thread's
// slab block; the handler transforms those very bytes and answers with their checksum and the
// Pointer it saw (so the main thread can check it was its own), nothing copied either way.
import { threadId } from 'node:worker_threads';
import { serveRpcWorker } from '@lightbeam/shm';
import { JobMeta, ResultMeta, checksum, transformInPlace } from './piscina-pipeline-shared.mjs';

await serveRpcWorker((server) => {
  server.handle(
    'transform',
    (job) => {
      const bulk = job.send[0];
      if (bulk?.data == null) throw new Error(`worker ${threadId}: job ${job.jobId} arrived without its shared bytes`);
      const view = bulk.data.ptr.subarray(0, bulk.size);
      transformInPlace(view, job.key);
      const res = new ResultMeta();
      res.jobId = job.jobId;
      res.checksum = checksum(view);
      res.workerThreadId = threadId;
      res.seenMajor = bulk.data.shm.allocId.major;
      res.seenMinor = bulk.data.shm.allocId.minor;
      res.seenOff = bulk.data.shm.off;
      return res;
    },
    { create: () => new JobMeta() },
  );
});
