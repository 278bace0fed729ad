/**
 * A bulk sent by move over ZeroMQ. A shared-memory block cannot wait for zeromq.js (which says
 * nothing when it is done with memory), so the transport sends one copy and frees the block once
 * the send succeeded, as a move over shared memory would have given it away. A plain buffer is
 * detached from the caller and handed to zeromq.js without a copy. The receiver may also take the
 * frame in place.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { ZeroMqClient } from '@lightbeam/zmq-bridge';
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

describe('zeromq send by move of a plain buffer', function () {
  this.timeout(30000);
  let server: ZeroMqServer;
  let client: ZeroMqClient;

  beforeEach(async () => {
    MemoryManager.current()?.detach(); // a plain buffer: no region may claim it
    server = await makeServer('tcp');
    client = await clientFor(server, 'tcp');
  });
  afterEach(async () => {
    await closeAll(client, server);
  });

  for (const size of [64, 100_000, 1 << 20]) {
    it(`hands the buffer to zeromq.js without a copy and detaches it from the caller (${size} bytes)`, async () => {
      const buf = new Uint8Array(size);
      for (let i = 0; i < size; i++) buf[i] = (i * 31 + 7) & 0xff;
      const expected = buf.slice();
      const m = new LbmMeta();
      m.send.push(client.exposeMove(buf, size));
      expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
      expect(buf.byteLength, 'the caller gave the buffer up').to.equal(0);
      expect(buf.buffer.byteLength).to.equal(0);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
      const into = new Uint8Array(got.send[0].size);
      got.recv.push(server.expose(into, into.length, BULK_XFER));
      expect(await server.recvBulks(got)).to.equal(0);
      expect(Buffer.compare(into, expected), 'exact bytes').to.equal(0);
    });
  }

  it('sends the part of a larger buffer it was given, and gives up the whole buffer', async () => {
    const whole = new Uint8Array(4096).fill(3);
    whole.fill(9, 1000, 3000);
    const part = whole.subarray(1000, 3000);
    const m = new LbmMeta();
    m.send.push(client.exposeMove(part, 2000));
    expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
    expect(whole.byteLength).to.equal(0);
    const got = new LbmMeta();
    expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
    got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
    expect(await server.recvBulks(got)).to.equal(0);
    expect(got.recv[0].data!.ptr.every((b) => b === 9)).to.equal(true);
    expect(got.recv[0].data!.ptr.byteLength).to.equal(2000);
    server.release(got);
  });

  it("copies a Buffer from Node's shared pool instead (Node keeps the pool), leaving it and its neighbours intact", async () => {
    const pooled = Buffer.from('x'.repeat(300));
    const neighbour = Buffer.from('y'.repeat(50));
    expect(pooled.buffer, 'both slices of one pool').to.equal(neighbour.buffer);
    const m = new LbmMeta();
    m.send.push(client.exposeMove(pooled, pooled.length));
    expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
    expect(pooled.toString()).to.equal('x'.repeat(300));
    expect(neighbour.toString()).to.equal('y'.repeat(50));
    const got = new LbmMeta();
    expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
    got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
    expect(await server.recvBulks(got)).to.equal(0);
    expect(Buffer.from(got.recv[0].data!.ptr).toString()).to.equal('x'.repeat(300));
    server.release(got);
  });

  it('gives the bytes back in data.ptr when the send fails', async () => {
    await client.close();
    // No server: with immediate, a client queues nothing while no connection is up.
    const gone = await makeServer('tcp');
    const port = gone.port as number;
    await gone.close();
    client = await ZeroMqClient.create('127.0.0.1', 'tcp', port, { immediate: true });
    const buf = new Uint8Array(1000).fill(4);
    const m = new LbmMeta();
    const bulk = client.exposeMove(buf, 1000);
    m.send.push(bulk);
    const rc = await client.send(m);
    expect(rc, 'immediate: nothing connected yet, so it cannot be queued').to.equal(EAGAIN);
    expect(buf.byteLength, 'detached before the attempt').to.equal(0);
    expect(bulk.data!.ptr.byteLength).to.equal(1000);
    expect(bulk.data!.ptr.every((b) => b === 4)).to.equal(true);
  });
});
