/**
 * What startWorker's documentation says: watching a worker is not startWorker's doing but a
 * process-wide hook's (`process.on('worker')`, installed by importing @lightbeam/shm), so a worker
 * made with a plain `new Worker` is watched as well as one from startWorker. When such a worker
 * exits, the channel it served is marked dead at once and its queued messages' blocks reclaimed,
 * with nobody calling watchWorker.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, ECONNRESET, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import { MemoryManager, RING_DEAD, findChannelRing, startWorker } from '@lightbeam/shm';
import { freshMemory } from '../support/memory.js';

const PEER = new URL('../fixtures/shm-transport/peer.mjs', import.meta.url);

function large(client: Client): LbmMeta {
  const m = new LbmMeta();
  const body = new Uint8Array(8192).fill(7); // too large for a slot: each queued message holds a slab block
  m.send.push(client.expose(body, body.byteLength, BULK_XFER));
  return m;
}

const starters: Array<[string, (manager: MemoryManager, data: Record<string, unknown>) => Worker]> = [
  ['a plain new Worker', (manager, data) => new Worker(PEER, { workerData: { ...data, lightbeamShm: manager.handle() }, execArgv: [] })],
  ['startWorker', (manager, data) => startWorker(PEER, { workerData: data, execArgv: [] }, manager)],
];

describe('every worker is watched by the process-wide hook, not by startWorker', function () {
  this.timeout(60000);
  let manager: MemoryManager;
  let worker: Worker | null = null;
  let client: Client | null = null;
  let serial = 0;

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 16 << 20 });
  });
  afterEach(async () => {
    await client?.close();
    await worker?.terminate();
    client = null;
    worker = null;
  });

  for (const [name, start] of starters) {
    it(`reaps the channel of ${name} when it exits, with no watchWorker call`, async () => {
      const channel = `hook-${process.pid}-${serial++}`;
      const w = start(manager, { mode: 'idleServer', channel, capacity: 4 });
      worker = w;
      const [ready] = (await once(w, 'message')) as [{ ready?: boolean; error?: string }];
      expect(ready.error).to.equal(undefined);
      // A peer timeout far beyond the test: only a watcher can make the ring dead in time.
      const c = await TransportFactory.getClient(channel, Transport.kShm, undefined, undefined, { peerTimeoutMs: 600000 });
      client = c;
      const baseline = manager.stats()[0]!.blocksInUse;
      for (let i = 0; i < 4; i++) expect(await c.send(large(c))).to.equal(0);
      expect(await c.send(large(c))).to.equal(EAGAIN); // full, and the server never reads
      expect(manager.stats()[0]!.blocksInUse).to.equal(baseline + 4);

      const exited = once(w, 'exit');
      await w.terminate();
      await exited;
      expect(findChannelRing(channel)?.state).to.equal(RING_DEAD);
      expect(await c.send(large(c))).to.equal(ECONNRESET);
      expect(manager.stats()[0]!.blocksInUse).to.equal(baseline);
    });
  }
});
