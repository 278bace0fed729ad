// The worker of examples/rpc-pool.ts: brightens an image in place. The image is a BULK_EXPOSE
// bulk in shared memory, so this worker writes the caller's very bytes (no copy either way).
import { threadId } from 'node:worker_threads';
import { LbmMeta } from '@lightbeam/core';
import { serveRpcWorker } from '@lightbeam/shm';

class Brighten extends LbmMeta {
  amount = 0;
  worker = 0;
  serialize(ar) {
    this.amount = ar.u8(this.amount);
    this.worker = ar.i32(this.worker);
  }
}

await serveRpcWorker((server) => {
  server.handle(
    'brighten',
    (req) => {
      const { data, size } = req.send[0];
      const px = data.ptr.subarray(0, size);
      for (let i = 0; i < px.length; i++) px[i] = Math.min(255, px[i] + req.amount);
      return Object.assign(new Brighten(), { worker: threadId });
    },
    { create: () => new Brighten() },
  );
});
