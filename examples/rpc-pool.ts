/**
 * A worker pool over shared memory: `createRpcPool` starts 2 workers (examples/rpc-pool-worker.mjs)
 * and `pool.run('brighten', meta)` hands each a tile of an image that lives in a slab block, as a
 * BULK_EXPOSE bulk: the workers change the caller's bytes in place, nothing is copied or cloned.
 *
 * Run: `npx tsx examples/rpc-pool.ts` (after `npx pnpm@10.34.9 run build`).
 */
import type { Archive } from '@lightbeam/core';
import { BULK_EXPOSE, LbmMeta } from '@lightbeam/core';
import type { Pointer } from '@lightbeam/core';
import { createRpcPool, defaultMemory } from '@lightbeam/shm';
import { run } from './zmq-example-args.js';

class Brighten extends LbmMeta {
  amount = 0;
  worker = 0;
  override serialize(ar: Archive): void {
    this.amount = ar.u8(this.amount);
    this.worker = ar.i32(this.worker);
  }
}

const TILES = 8;
const TILE_BYTES = 64 * 1024;

run(async () => {
  const pool = createRpcPool(new URL('./rpc-pool-worker.mjs', import.meta.url), { workers: 2 });
  // Calls go to ready workers only: wait for both, so the tiles are spread over them.
  await pool.started();
  const memory = defaultMemory();
  const image = memory.allocateOrThrow(TILES * TILE_BYTES);
  const pixels = memory.toFullPtr(image, TILES * TILE_BYTES);
  pixels.ptr.fill(100);
  try {
    const replies = await Promise.all(
      Array.from({ length: TILES }, (_, t) => {
        const req = Object.assign(new Brighten(), { amount: 50 });
        const tile = { ptr: pixels.ptr.subarray(t * TILE_BYTES, (t + 1) * TILE_BYTES), shm: { allocId: image.allocId, off: image.off + t * TILE_BYTES } satisfies Pointer };
        req.send.push({ data: tile, size: TILE_BYTES, flags: BULK_EXPOSE });
        return pool.run('brighten', req, { reply: () => new Brighten(), timeoutMs: 10_000 });
      }),
    );
    const workers = new Set(replies.map((r) => r.worker)).size;
    const brightened = pixels.ptr.every((p) => p === 150);
    console.log(`${TILES} tiles brightened in place by ${workers} worker(s): ${brightened ? 'every pixel is 150' : 'MISMATCH'}`);
    if (!brightened) throw new Error('the workers did not change the shared bytes');
    console.log('OK: EXPOSE arguments reached the pool workers without a copy');
  } finally {
    memory.free(image);
    await pool.close();
  }
});
