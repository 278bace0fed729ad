/**
 * Issue 24 (the shared-memory part): two builds of @lightbeam/shm in one process, or threads of
 * one domain loading different releases, could read each other's rings with different layouts
 * and misread every message. A ring's header carries the layout version it was made with, and
 * attaching to one of another version fails loudly, naming both versions.
 */
import { once } from 'node:events';
import { threadId } from 'node:worker_threads';
import { expect } from 'chai';
import { LightbeamError, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import type { MemoryManager } from '@lightbeam/shm';
import { RING_DEAD, RING_LAYOUT_VERSION, Ring, findChannelRing, startWorker } from '@lightbeam/shm';
import { freshMemory } from '../support/memory.js';

const CLIENT = new URL('../fixtures/shm-transport/layout-client.mjs', import.meta.url);
const REAPER = new URL('../fixtures/shm-transport/layout-reaper.mjs', import.meta.url);
/** Word of the ring header that holds the layout version (byte offset 32, see ring.ts). */
const LAYOUT_WORD = 8;

/** The error a call threw, or null when it threw nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (err) {
    return err;
  }
}

describe('ring layout version (issue 24)', () => {
  let manager: MemoryManager;
  const closers: Array<Client | Server> = [];

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
    manager.detach();
  });

  it('writes the layout version into every ring it makes, and attaches to its own', () => {
    manager = freshMemory();
    const sab = new SharedArrayBuffer(Ring.bytesFor(4, 64));
    Ring.init(sab, 0, 4, 64);
    expect(new Int32Array(sab)[LAYOUT_WORD]).to.equal(RING_LAYOUT_VERSION);
    expect(Ring.attach(sab, 0).capacity).to.equal(4);
  });

  for (const other of [0, RING_LAYOUT_VERSION + 1]) {
    it(`refuses a ring of layout version ${other} with ERR_LBM_LAYOUT_MISMATCH naming both versions`, () => {
      manager = freshMemory();
      const sab = new SharedArrayBuffer(Ring.bytesFor(4, 64));
      Ring.init(sab, 0, 4, 64);
      new Int32Array(sab)[LAYOUT_WORD] = other;
      const err = thrown(() => Ring.attach(sab, 0));
      expect(err).to.be.instanceOf(LightbeamError);
      expect((err as LightbeamError).code).to.equal('ERR_LBM_LAYOUT_MISMATCH');
      expect((err as Error).message).to.contain(`layout version ${other}`).and.to.contain(`reads version ${RING_LAYOUT_VERSION}`);
    });
  }

  it('fails the first send of a client (in a thread of its own) to a channel whose ring another build laid out, loudly', async () => {
    manager = freshMemory();
    const name = `layout-${process.pid}`;
    const server = await TransportFactory.getServer(name, Transport.kShm);
    closers.push(server);
    const ring = findChannelRing(name);
    expect(ring).to.not.equal(null);
    // As a build with the next layout would have left it.
    new Int32Array(ring!.buffer, ring!.base, 16)[LAYOUT_WORD] = RING_LAYOUT_VERSION + 1;
    const worker = startWorker(CLIENT, { workerData: { channel: name }, execArgv: [] }, manager);
    try {
      const [reply] = (await once(worker, 'message')) as [{ code?: string; message?: string; sent?: number }];
      expect(reply.sent, 'a send went into a ring of another layout').to.equal(undefined);
      expect(reply.code).to.equal('ERR_LBM_LAYOUT_MISMATCH');
      expect(reply.message).to.contain(`layout version ${RING_LAYOUT_VERSION + 1}`).and.to.contain(`reads version ${RING_LAYOUT_VERSION}`);
    } finally {
      await worker.terminate();
    }
  });

  it('lets a reaper in a thread of its own skip a ring of another layout and still reap the channels of the dead thread', async () => {
    manager = freshMemory();
    const foreign = await TransportFactory.getServer(`layout-foreign-${process.pid}`, Transport.kShm);
    const mine = await TransportFactory.getServer(`layout-mine-${process.pid}`, Transport.kShm);
    closers.push(foreign, mine);
    const ring = findChannelRing(`layout-foreign-${process.pid}`)!;
    new Int32Array(ring.buffer, ring.base, 16)[LAYOUT_WORD] = RING_LAYOUT_VERSION + 1;
    // This thread stands for the dead one: its open channel is the one to reap.
    const worker = startWorker(REAPER, { workerData: { deadThreadId: threadId }, execArgv: [] }, manager);
    try {
      const [reply] = (await once(worker, 'message')) as [{ reaped?: number; code?: string }];
      expect(reply.code, 'the reaper stopped at the foreign ring').to.equal(undefined);
      expect(reply.reaped).to.equal(1);
      expect(findChannelRing(`layout-mine-${process.pid}`)?.state).to.equal(RING_DEAD);
    } finally {
      await worker.terminate();
    }
  });
});
