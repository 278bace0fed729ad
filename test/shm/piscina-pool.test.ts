// A piscina pool whose workers share the main thread's memory: tasks carry Pointers, not bytes.
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import type { Piscina } from 'piscina';
import type { Pointer } from '@lightbeam/core';
import { MemoryManager, WORKER_DATA_KEY, attachFromWorkerData, createPool } from '@lightbeam/shm';

const TASK = new URL('../fixtures/shm/piscina-task.mjs', import.meta.url).href;

describe('createPool (piscina over shared memory)', function () {
  this.timeout(60000);
  let manager: MemoryManager;
  let pool: Piscina | null = null;

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 8 << 20 });
  });
  afterEach(async () => {
    await pool?.destroy();
    pool = null;
    manager.detach();
  });

  it('runs tasks that work on shared blocks in place, given only a Pointer', async () => {
    pool = createPool({ manager, filename: TASK, minThreads: 2, maxThreads: 2, execArgv: [] });
    const size = 64 * 1024;
    const blocks = Array.from({ length: 8 }, (_, i) => {
      const p = manager.allocateOrThrow(size);
      manager.toFullPtr(p, size).ptr.fill(i + 1);
      return p;
    });
    const sums = await Promise.all(blocks.map((p) => pool!.run({ op: 'sum-and-invert', p, size })));
    expect(sums).to.deep.equal(blocks.map((_, i) => size * (i + 1)));
    blocks.forEach((p, i) => expect(manager.toFullPtr(p, size).ptr.every((b) => b === 255 - (i + 1))).to.equal(true));
    // A worker allocates, the main thread reads and frees; and the reverse.
    const q = (await pool.run({ op: 'alloc', size: 1000 })) as Pointer;
    expect(manager.toFullPtr(q, 1000).ptr.every((b) => b === 7)).to.equal(true);
    manager.free(q);
    await Promise.all(blocks.map((p) => pool!.run({ op: 'free', p })));
    expect(manager.stats()[0].blocksInUse).to.equal(0);
  });

  it('keeps the caller workerData next to the handle and rejects non-object workerData', () => {
    expect(() => createPool({ manager, filename: TASK, workerData: 5 })).to.throw(TypeError, /workerData must be an object/);
    const p = createPool({ manager, filename: TASK, workerData: { mine: 1 }, minThreads: 0 });
    expect(p.options.workerData).to.deep.include({ mine: 1 });
    expect((p.options.workerData as Record<string, unknown>)[WORKER_DATA_KEY]).to.have.property('kind', 'lightbeam.shm.v1');
    void p.destroy();
  });

  it('attachFromWorkerData returns the thread manager, or fails clearly without a handle', () => {
    expect(attachFromWorkerData({})).to.equal(manager);
    manager.detach();
    expect(() => attachFromWorkerData({})).to.throw(TypeError, /no lightbeamShm handle/);
  });
});
