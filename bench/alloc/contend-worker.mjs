// Two-thread contention worker for bench/alloc.bench.ts: allocate+free pairs until told to stop.
import { workerData } from 'node:worker_threads';
import { attachFromWorkerData } from '@lightbeam/shm';

const { kind, size, ctl, index, depth } = workerData;
const flags = new Int32Array(ctl);
const manager = kind === 'gc' ? null : attachFromWorkerData(workerData);
const ring = new Array(depth).fill(null);
let head = 0;
let sink = null;
// Ready, then wait for the start signal so both threads run the same window.
Atomics.add(flags, 1, 1);
Atomics.notify(flags, 1);
Atomics.wait(flags, 0, 0);
let pairs = 0;
// Stop flag checked every 256 pairs: cheap next to the work, and bounded by the main thread's timer.
while (Atomics.load(flags, 0) === 1) {
  if (kind === 'shm') {
    for (let i = 0; i < 256; i++) manager.free(manager.allocate(size));
  } else if (kind === 'shm-fifo') {
    // Free the oldest of `depth` live blocks: caches overflow and refill through the shared lists.
    for (let i = 0; i < 256; i++) {
      if (ring[head] !== null) manager.free(ring[head]);
      ring[head] = manager.allocate(size);
      head = (head + 1) % depth;
    }
  } else {
    for (let i = 0; i < 256; i++) sink = new Uint8Array(size);
  }
  pairs += 256;
}
// Publish the count for the main thread, then announce we are done.
Atomics.store(flags, 4 + index, pairs);
Atomics.add(flags, 2, 1);
Atomics.notify(flags, 2);
if (manager !== null) manager.detach();
void sink;
