/**
 * Send by move: an XFER bulk whose bytes are a slab block is handed to the receiver without a
 * copy; the block is freed exactly once (by the receiver's release, or by whoever takes it), the
 * sender keeps it when the send fails, and ZeroMQ-less shortcuts are refused up front.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, EAGAIN, ECONNRESET, LbmMeta, Transport, TransportFactory, pointerEquals } from '@lightbeam/core';
import type { Client, FullPtr, Server } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';
import type { Peer } from './support/peer.js';
import { startPeer } from './support/peer.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('shm send by move', function () {
  this.timeout(60000);
  let manager: MemoryManager;
  let client: Client;
  let server: Server;
  let peers: Peer[] = [];
  let serial = 0;
  let name = '';
  let baseline = 0;
  const inUse = (): number => manager.stats()[0].blocksInUse - baseline;

  beforeEach(async () => {
    manager = freshMemory({ regionBytes: 32 << 20 });
    name = `move-${process.pid}-${serial++}`;
    server = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { capacity: 8 });
    client = await TransportFactory.getClient(name, Transport.kShm);
    baseline = manager.stats()[0].blocksInUse;
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.worker.terminate()));
    peers = [];
    await Promise.all([client.close(), server.close()]);
    manager.detach();
  });

  /** A slab block holding `text`, padded to `size` bytes. */
  function block(text: string, size = 4096): FullPtr {
    const full = manager.toFullPtr(manager.allocateOrThrow(size), size);
    full.ptr.fill(0);
    full.ptr.set(enc.encode(text));
    return full;
  }

  function moving(full: FullPtr, size = full.ptr.byteLength): LbmMeta {
    const m = new LbmMeta();
    m.send.push(client.exposeMove(full, size));
    return m;
  }

  it('hands the very block over (no copy) and frees it exactly once when the receiver releases the message', async () => {
    const full = block('moved bytes', 1 << 20);
    expect(inUse()).to.equal(1);
    expect(await client.send(moving(full))).to.equal(0);
    const got = new LbmMeta();
    expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
    expect(pointerEquals(got.send[0].data!.shm, full.shm), 'same block').to.equal(true);
    expect(got.send[0].flags).to.equal(BULK_XFER);
    got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
    expect(await server.recvBulks(got)).to.equal(0);
    const view = got.recv[0].data!;
    expect(view.ptr.buffer, 'in place: a view of the shared block').to.equal(full.ptr.buffer);
    expect(view.ptr.byteOffset).to.equal(full.ptr.byteOffset);
    expect(dec.decode(view.ptr.subarray(0, 11))).to.equal('moved bytes');
    expect(inUse(), 'held until release').to.equal(1);
    server.release(got);
    expect(inUse(), 'freed by release').to.equal(0);
    server.release(got);
    expect(() => manager.free(full.shm), 'the sender no longer owns it').to.throw(/double|free/i);
  });

  it('copies a moved block into a receiver buffer like any XFER bulk, and frees it', async () => {
    const full = block('copy me out');
    expect(client.sendNow(moving(full, 11))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    const buf = new Uint8Array(11);
    got.recv.push(server.expose(buf, 11, BULK_XFER));
    expect(server.recvBulksNow(got)).to.equal(0);
    expect(dec.decode(buf)).to.equal('copy me out');
    expect(inUse()).to.equal(0);
  });

  it('lets the receiver take the block: release then leaves it alone, and take works once', async () => {
    const full = block('keep me');
    const other = enc.encode('staged');
    const m = moving(full);
    m.send.push(client.expose(other, other.length, BULK_XFER));
    expect(client.sendNow(m)).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(server.take(got, 1), 'a staged bulk cannot be taken').to.equal(null);
    const kept = server.take(got, 0);
    expect(kept).to.not.equal(null);
    expect(server.take(got, 0), 'only once').to.equal(null);
    expect(server.recvBulksNow(got)).to.equal(0);
    expect(inUse(), 'taken: still allocated').to.equal(1);
    expect(dec.decode(kept!.ptr.subarray(0, 7))).to.equal('keep me');
    manager.free(kept!.shm);
    expect(inUse()).to.equal(0);
    expect(server.take(got, 0), 'after release').to.equal(null);
  });

  it('leaves the block with the sender when the send fails (full ring), and sends it later', async () => {
    const fillers: FullPtr[] = [];
    for (let i = 0; i < 8; i++) {
      fillers.push(block(`f${i}`, 64));
      expect(client.sendNow(moving(fillers[i]))).to.equal(0);
    }
    const full = block('later');
    expect(client.sendNow(moving(full))).to.equal(EAGAIN);
    expect(dec.decode(full.ptr.subarray(0, 5)), 'still the sender\'s, intact').to.equal('later');
    for (let i = 0; i < 8; i++) {
      const got = new LbmMeta();
      expect(server.recvMetadataNow(got)).to.equal(0);
      expect(server.recvBulksNow(got)).to.equal(0);
    }
    expect(client.sendNow(moving(full))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(dec.decode(got.send[0].data!.ptr.subarray(0, 5))).to.equal('later');
    server.release(got);
    expect(inUse()).to.equal(0);
  });

  it('refuses to move what is not a live slab block, before anything is sent', async () => {
    const full = block('x', 4096);
    const middle = manager.toFullPtr({ allocId: full.shm.allocId, off: full.shm.off + 64 }, 64);
    expect(() => client.sendNow(moving(middle, 64))).to.throw(/not the start of a live block/);
    const wide = manager.toFullPtr(full.shm, 8192);
    expect(() => client.sendNow(moving(wide, 8192))).to.throw(/4096-byte block/);
    const plain = new LbmMeta();
    plain.send.push({ data: { ptr: new Uint8Array(8), shm: { allocId: { major: 0, minor: 0 }, off: 0 } }, size: 8, flags: BULK_XFER, move: true });
    expect(() => client.sendNow(plain)).to.throw(/not the start of a live block/);
    const exposeMove = new LbmMeta();
    exposeMove.send.push({ ...client.expose(full, 8, BULK_EXPOSE), move: true });
    expect(() => client.sendNow(exposeMove)).to.throw(/not BULK_XFER/);
    const rejected = await client.send(exposeMove).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(rejected).to.match(/not BULK_XFER/);
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(EAGAIN);
    manager.free(full.shm);
    expect(inUse()).to.equal(0);
  });

  it('frees moved blocks of messages nobody received: at close, and when the consumer thread dies', async () => {
    for (let i = 0; i < 3; i++) expect(client.sendNow(moving(block(`m${i}`)))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(inUse()).to.equal(3);
    await server.close();
    expect(inUse(), 'one received and unreleased, two queued: all freed by close').to.equal(0);

    const dead = `${name}-dead`;
    const peer = startPeer(manager, { mode: 'idleServer', channel: dead, capacity: 8 });
    peers.push(peer);
    await peer.next('ready');
    const c = await TransportFactory.getClient(dead, Transport.kShm);
    const before = inUse();
    for (let i = 0; i < 4; i++) {
      const m = new LbmMeta();
      m.send.push(c.exposeMove(block(`d${i}`), 4096));
      expect(c.sendNow(m)).to.equal(0);
    }
    expect(inUse() - before).to.equal(4);
    await peer.worker.terminate();
    const m = new LbmMeta();
    m.send.push(c.exposeMove(block('after'), 4096));
    expect(await c.send(m, { timeoutMs: 5000 })).to.equal(ECONNRESET);
    expect(inUse() - before, 'the unsent block is still ours, the queued ones reclaimed').to.equal(1);
    manager.free(m.send[0].data!.shm);
    await c.close();
  });

  it('refuses what comes after a release: no data, no block to take, and the memory is reused by the next message', async () => {
    const full = block('before release');
    expect(client.sendNow(moving(full))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    server.release(got);
    expect(inUse(), 'the moved block is freed by the release').to.equal(0);
    expect(server.take(got, 0), 'nothing to take after release').to.equal(null);
    got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
    expect(server.recvBulksNow(got), 'no data after release').to.equal(-1);
    // The next message into the same meta is whole.
    expect(client.sendNow(moving(block('after')))).to.equal(0);
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(dec.decode(got.send[0].data!.ptr.subarray(0, 5))).to.equal('after');
    server.release(got);
  });
});
