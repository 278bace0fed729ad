/**
 * The RPC pool beside one busy-looping process (issue 20): its wake-up design (poll, then block
 * in Atomics.wait; longer polls only where a spin can win) must stay correct when the cores are
 * oversubscribed. Every reply is checked; nothing here measures time.
 */
import { availableParallelism } from 'node:os';
import { expect } from 'chai';
import { BULK_EXPOSE, LbmMeta, cpuOversubscribed } from '@lightbeam/core';
import type { RpcWorkerPool } from '@lightbeam/shm';
import { createRpcPool, defaultMemory } from '@lightbeam/shm';
import { startCpuHog } from '@lightbeam/cli';
import type { CpuHog } from '@lightbeam/cli';
import { withOwnMemory } from './support/own-memory.js';
import { NumMeta } from './support/num-meta.js';

const WORKER = new URL('../fixtures/rpc/pool-worker.mjs', import.meta.url);

const numReply = { reply: () => new NumMeta(), timeoutMs: 20_000 };

describe('RpcWorkerPool beside CPU hogs', function () {
  this.timeout(60_000);
  withOwnMemory();
  let pool: RpcWorkerPool | null = null;
  const hogs: CpuHog[] = [];
  afterEach(async () => {
    await pool?.close();
    pool = null;
    await Promise.all(hogs.splice(0).map((h) => h.stop()));
  });

  it('answers every call, sequential and 64 in flight, each reply checked', async () => {
    hogs.push(await startCpuHog());
    pool = createRpcPool(WORKER, { workers: 1 });
    await pool.started();
    const mem = defaultMemory();
    const ptr = mem.allocateOrThrow(256);
    const full = mem.toFullPtr(ptr, 256);
    try {
      // Sequential: every call waits for its reply, so each one meets an idle (blocked or polling) worker.
      for (let i = 0; i < 500; i++) {
        full.ptr.fill(i & 0xff);
        const req = new LbmMeta();
        req.send.push({ data: full, size: 256, flags: BULK_EXPOSE });
        const reply = await pool.run('sum-and-invert', req, numReply);
        expect(reply.n).to.equal((i & 0xff) * 256);
        expect(full.ptr[0]).to.equal(255 - (i & 0xff));
      }
      const replies = await Promise.all(Array.from({ length: 64 }, () => pool!.run('thread', new LbmMeta(), numReply)));
      expect(new Set(replies.map((r) => r.n)).size).to.equal(1);
      expect(pool.stats.failed).to.equal(0);
    } finally {
      mem.free(ptr);
    }
  });

  it('reports the cores oversubscribed while more threads than cores are runnable', async () => {
    // One more hog than cores: with them all spinning, the runnable count exceeds the cores.
    for (let i = 0; i <= availableParallelism(); i++) hogs.push(await startCpuHog());
    let seen = false;
    // Bounded: the count is read at most every 20 ms; 100 looks over >= 2 s.
    for (let i = 0; i < 100 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 25));
      seen = cpuOversubscribed();
    }
    expect(seen).to.equal(true);
  });
});
