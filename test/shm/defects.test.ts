/**
 * Shared memory without leaks or surprises (issue 14): sends that can never fit say EMSGSIZE,
 * dead threads give their slots back on their own, managers do not mix up each other's pointers,
 * a closed channel says EAGAIN as documented, a producer killed mid-send leaks no block, and the
 * transport works with no setup at all through the embedded default memory.
 */
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, EMSGSIZE, ENOMEM, ETIMEDOUT, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import { MemoryManager, ShmServer, startWorker } from '@lightbeam/shm';
import type { Peer } from './support/peer.js';
import { startPeer } from './support/peer.js';

const PEER = new URL('../fixtures/shm-transport/peer.mjs', import.meta.url);
const enc = new TextEncoder();
let serial = 0;
const channel = (): string => `defects-${process.pid}-${serial++}`;

/** Runs a peer worker (plain `new Worker`, no helper) and resolves with its `done` message. */
function runPlain(data: Record<string, unknown>): Promise<Record<string, unknown>> {
  const w = new Worker(PEER, { workerData: data, execArgv: [] });
  return new Promise((resolve, reject) => {
    w.on('message', (m: Record<string, unknown>) => {
      if (m.done === true) resolve(m);
    });
    w.on('error', reject);
  });
}

/** Waits until `w` has exited (its exit listeners, the automatic watch among them, have run). */
const exited = (w: Worker): Promise<void> => new Promise((r) => w.once('exit', () => setImmediate(r)));

function bulk(client: Client, bytes: number): LbmMeta {
  const m = new LbmMeta();
  m.send.push(client.expose(new Uint8Array(bytes).fill(1), bytes, BULK_XFER));
  return m;
}

describe('shared memory without leaks or surprises', function () {
  this.timeout(60000);
  let manager: MemoryManager | null = null;
  const peers: Peer[] = [];

  // Each test starts in a thread without a memory manager, whatever an earlier file left.
  beforeEach(() => MemoryManager.current()?.detach());
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.worker.terminate()));
    manager?.detach();
    manager = null;
    MemoryManager.current()?.detach();
  });

  it('answers EMSGSIZE for a message no block can ever hold and ENOMEM for one that could fit later; the channel keeps working', async () => {
    manager = MemoryManager.create({ regionBytes: 4 << 20, maxRegions: 1 });
    const name = channel();
    const server = await TransportFactory.getServer(name, Transport.kShm);
    const client = await TransportFactory.getClient(name, Transport.kShm);
    expect(client.sendNow(bulk(client, 5 << 20)), 'larger than a region: sendNow').to.equal(EMSGSIZE);
    expect(await client.send(bulk(client, 5 << 20)), 'send').to.equal(EMSGSIZE);
    expect(await client.send(bulk(client, 5 << 20), { timeoutMs: 100 }), 'send with a timeout').to.equal(EMSGSIZE);
    const hog = manager.allocateOrThrow(3 << 20);
    expect(client.sendNow(bulk(client, 2 << 20)), 'fits a region, not now').to.equal(ENOMEM);
    expect(server.recvMetadataNow(new LbmMeta()), 'nothing was sent').to.equal(EAGAIN);
    manager.free(hog);
    expect(client.sendNow(bulk(client, 2 << 20))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(got.send[0].size).to.equal(2 << 20);
    await client.close();
    await server.close();
  });

  it('gives the thread slots of workers that exited without detach() or a watch back on its own, and names the cause when all are held', async () => {
    manager = MemoryManager.create({ regionBytes: 4 << 20, threadSlots: 3, maxRegions: 1 });
    for (let i = 0; i < 6; i++) {
      const w = new Worker(PEER, { workerData: { mode: 'allocateAndExit', handle: manager.handle() }, execArgv: [] });
      const done = new Promise<Record<string, unknown>>((r) => w.once('message', r));
      expect((await done).ok, `worker ${i} could allocate`).to.equal(true);
      await exited(w);
    }
    // Now hold every slot with live threads: the next thread is told why it cannot allocate.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const holders: Worker[] = [];
    try {
      // The main thread holds one slot itself once it allocates.
      manager.free(manager.allocateOrThrow(64));
      for (let i = 0; i < 2; i++) {
        const w = new Worker(PEER, { workerData: { mode: 'holdSlot', handle: manager.handle(), gate: gate.buffer }, execArgv: [] });
        holders.push(w);
        await new Promise((r) => w.once('message', r));
      }
      const refused = await runPlain({ mode: 'tryAllocate', handle: manager.handle() });
      expect(refused.message).to.match(/all 3 thread slots are held by other threads/);
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await Promise.all(holders.map(exited));
    }
    const after = await runPlain({ mode: 'tryAllocate', handle: manager.handle() });
    expect(after.message, 'slots back once the holders exited').to.equal(null);
  });

  it('gives managers distinct ids, refuses a pointer of another manager, and makes a second create explicit', () => {
    manager = MemoryManager.create({ regionBytes: 1 << 20 });
    expect(() => MemoryManager.create({ regionBytes: 1 << 20 })).to.throw(/already has a memory manager/);
    const other = MemoryManager.create({ regionBytes: 1 << 20, replace: true });
    try {
      expect(other.major).to.not.equal(manager.major);
      const mine = manager.allocateOrThrow(64);
      const theirs = other.allocateOrThrow(64);
      expect(() => other.free(mine), 'a foreign pointer').to.throw(/belongs to no region of this memory manager/);
      expect(() => manager!.free(theirs)).to.throw(/belongs to no region of this memory manager/);
      manager.free(mine);
      other.free(theirs);
      expect(MemoryManager.current()).to.equal(other);
    } finally {
      other.detach();
    }
  });

  it('answers EAGAIN (ETIMEDOUT with a timeout) for a channel whose server closed, as documented', async () => {
    manager = MemoryManager.create({ regionBytes: 4 << 20 });
    const name = channel();
    const server = await TransportFactory.getServer(name, Transport.kShm);
    const client = await TransportFactory.getClient(name, Transport.kShm);
    expect(client.sendNow(bulk(client, 8))).to.equal(0);
    await server.close();
    expect(client.sendNow(bulk(client, 8))).to.equal(EAGAIN);
    expect(await client.send(bulk(client, 8), { timeoutMs: 50 })).to.equal(ETIMEDOUT);
    // Bound again: the same client sends on.
    const again = await TransportFactory.getServer(name, Transport.kShm);
    expect(client.sendNow(bulk(client, 8))).to.equal(0);
    await client.close();
    await again.close();
  });

  it('frees the block of a producer thread terminated between taking it and publishing the message', async () => {
    manager = MemoryManager.create({ regionBytes: 64 << 20, maxRegions: 1 });
    const name = channel();
    // The channel's ring and directory stay allocated after close: count from when they exist.
    await (await TransportFactory.getServer(name, Transport.kShm)).close();
    const baseline = manager.stats()[0].blocksInUse;
    for (let round = 0; round < 3; round++) {
      const server = (await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { stuckSlotMs: 100 })) as ShmServer;
      const peer = startPeer(manager, { mode: 'bigProducer', channel: name, size: 8 << 20 });
      await peer.next('ready');
      await peer.worker.terminate();
      // Drain what was published; the abandoned slot (if the copy was cut short) is skipped
      // after stuckSlotMs, and its block freed.
      const meta = new LbmMeta();
      for (let i = 0; i < 200; i++) {
        const rc = await server.waitMetadata(meta, { timeoutMs: 150 });
        if (rc === ETIMEDOUT && server.stats().depth === 0) break;
      }
      server.release(meta);
      await server.close();
      expect(manager.stats()[0].blocksInUse, `round ${round}: every block back`).to.equal(baseline);
    }
  });

  it('leaves the block of a producer stalled past stuckSlotMs to that producer: its send answers ETIMEDOUT, the block is freed once, the next message arrives', async () => {
    manager = MemoryManager.create({ regionBytes: 64 << 20, maxRegions: 1 });
    const name = channel();
    await (await TransportFactory.getServer(name, Transport.kShm)).close();
    const baseline = manager.stats()[0].blocksInUse;
    const server = (await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { stuckSlotMs: 100 })) as ShmServer;
    // Alive but stalled for 15x stuckSlotMs in the middle of copying a 4 MiB envelope into its block.
    const peer = startPeer(manager, { mode: 'stalledProducer', channel: name, size: 4 << 20, stallMs: 1500 });
    const meta = new LbmMeta();
    expect(await server.waitMetadata(meta, { timeoutMs: 10000 })).to.equal(0);
    expect(meta.send[0].size, 'the skipped message is not delivered; the next one is').to.equal(100);
    const into = new Uint8Array(100);
    meta.recv.push(server.expose(into, 100, BULK_XFER));
    expect(await server.recvBulks(meta)).to.equal(0);
    expect(into.every((b) => b === 9)).to.equal(true);
    const done = await peer.next('done');
    // Before, the server freed the block at the skip and the producer freed it again: a double free.
    expect(done).to.deep.include({ first: ETIMEDOUT, second: 0, stalled: true });
    await server.close();
    expect(manager.stats()[0].blocksInUse, 'every block back, none freed twice').to.equal(baseline);
  });

  it('works with no setup: the embedded default memory in the main thread, attached by startWorker in a worker', async () => {
    expect(MemoryManager.current()).to.equal(null);
    const name = channel();
    const w = startWorker(PEER, { workerData: { mode: 'bareShmServer', channel: name, selfAttach: true }, execArgv: [] });
    const ready = new Promise((r) => w.on('message', (m: { ready?: boolean }) => m.ready === true && r(m)));
    const done = new Promise<Record<string, unknown>>((r) => w.on('message', (m: Record<string, unknown>) => m.done === true && r(m)));
    expect(MemoryManager.current(), 'created on first use').to.not.equal(null);
    await ready;
    const client = await TransportFactory.getClient(name, Transport.kShm);
    const m = new LbmMeta();
    const body = enc.encode('no setup');
    m.send.push(client.expose(body, body.length, BULK_XFER));
    expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
    const out = await done;
    expect(out).to.include({ rc: 0, text: 'no setup' });
    await client.close();
    await exited(w);
  });
});
