/**
 * A bulk sent by move over ZeroMQ: the transport cannot hand a block to another process, so it
 * sends a copy and frees the block once the send succeeded, as a move over shared memory would
 * have given it away. The receiver may also take the frame in place.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';
import type { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { clientFor, closeAll, makeServer } from './support/zmq-pair.js';

describe('zeromq send by move', function () {
  this.timeout(30000);
  let server: ZeroMqServer;
  let client: ZeroMqClient;
  let manager: MemoryManager;

  beforeEach(async () => {
    manager = freshMemory({ regionBytes: 8 << 20 });
    server = await makeServer('tcp');
  });
  afterEach(async () => {
    await closeAll(client, server);
    manager.detach();
  });

  for (const copyXfer of [true, false]) {
    it(`sends a copy of the moved block and frees the block after the send (copyXfer ${copyXfer})`, async () => {
      client = await clientFor(server, 'tcp', { copyXfer });
      const before = manager.stats()[0].blocksInUse;
      const full = manager.toFullPtr(manager.allocateOrThrow(64 << 10), 64 << 10);
      full.ptr.fill(0x5a);
      const m = new LbmMeta();
      m.send.push(client.exposeMove(full, full.ptr.byteLength));
      expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
      expect(manager.stats()[0].blocksInUse, 'freed after the send').to.equal(before);
      // Reuse the freed memory at once: what travelled must be the copy.
      manager.toFullPtr(manager.allocateOrThrow(64 << 10), 64 << 10).ptr.fill(0);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
      got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
      expect(await server.recvBulks(got)).to.equal(0);
      const view = got.recv[0].data!.ptr;
      expect(view.byteLength).to.equal(64 << 10);
      expect(view.every((b) => b === 0x5a), 'in-place view of the received frame').to.equal(true);
      server.release(got);
    });
  }
});
