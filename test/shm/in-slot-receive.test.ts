/**
 * A message that carries no data of its own (descriptors of EXPOSE bulks, no staged or moved
 * bytes) is read where it lies in its ring slot instead of being copied out, and its slot is
 * given back when the message is released. A raw receiver may hold such a message while the
 * server receives again: the slot is then copied out first, so the next receive neither hands
 * the held message out a second time nor lets a producer overwrite what the holder reads.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, EAGAIN, LBM_MALFORMED, LbmMeta, decodeMeta } from '@lightbeam/core';
import type { IncomingMessage } from '@lightbeam/core';
import type { MemoryManager } from '@lightbeam/shm';
import { ShmClient, ShmServer } from '@lightbeam/shm';
import { freshMemory } from '../support/memory.js';

let serial = 0;
const channel = (): string => `in-slot-${process.pid}-${serial++}`;

describe('shm receive of a message with no data of its own, read in its slot', () => {
  let manager: MemoryManager;
  let server: ShmServer;
  let client: ShmClient;

  beforeEach(async () => {
    manager = freshMemory({ regionBytes: 4 * 1024 * 1024 });
    const name = channel();
    // Two slots: a slot not given back shows at once as a full ring.
    server = await ShmServer.create(name, { capacity: 2 });
    client = new ShmClient(name);
  });

  afterEach(async () => {
    await client.close();
    await server.close();
    manager.detach();
  });

  const exposeOf = (size: number): LbmMeta => {
    const m = new LbmMeta();
    m.send.push(client.expose(manager.toFullPtr(manager.allocateOrThrow(size), size), size, BULK_EXPOSE));
    return m;
  };

  it('gives the slot back when the received message is released', () => {
    for (let i = 0; i < 50; i++) {
      expect(client.sendNow(exposeOf(8 + i))).to.equal(0);
      expect(client.sendNow(exposeOf(100 + i))).to.equal(0);
      expect(client.sendNow(exposeOf(1)), 'two slots, both taken').to.equal(EAGAIN);
      for (const size of [8 + i, 100 + i]) {
        const got = new LbmMeta();
        expect(server.recvMetadataNow(got)).to.equal(0);
        expect(got.send.map((b) => [b.size, b.flags])).to.deep.equal([[size, BULK_EXPOSE]]);
        expect(got.send[0]!.data!.ptr.byteLength).to.equal(size);
      }
      expect(server.recvMetadataNow(new LbmMeta())).to.equal(EAGAIN);
      expect(server.stats().depth).to.equal(0);
    }
  });

  it('copies a message a raw receiver holds out of its slot before receiving again: no second delivery, and the holder still reads its own descriptors', () => {
    expect(client.sendNow(exposeOf(10))).to.equal(0);
    const held = server.recvRawNow() as IncomingMessage;
    expect(typeof held).to.equal('object');
    expect(client.sendNow(exposeOf(20))).to.equal(0);
    expect(client.sendNow(exposeOf(30)), 'the held message still has its slot').to.equal(EAGAIN);
    const second = new LbmMeta();
    expect(server.recvMetadataNow(second)).to.equal(0);
    expect(second.send[0]!.size, 'the next message, not the held one again').to.equal(20);
    // The held message's slot was given back: the next send lands in it.
    expect(client.sendNow(exposeOf(30))).to.equal(0);
    const frame = new LbmMeta();
    expect(decodeMeta(held.meta, frame)).to.equal(0);
    expect(frame.send.map((b) => [b.size, b.flags]), 'read from the copy, not the reused slot').to.deep.equal([[10, BULK_EXPOSE]]);
    held.release();
    const third = new LbmMeta();
    expect(server.recvMetadataNow(third)).to.equal(0);
    expect(third.send[0]!.size).to.equal(30);
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(EAGAIN);
  });

  it('does not count a held message as waiting, and gives its slot back when released while nothing else was received', () => {
    expect(client.sendNow(exposeOf(10))).to.equal(0);
    const held = server.recvRawNow() as IncomingMessage;
    expect(server.stats().depth, 'stats() copies it out of the ring').to.equal(0);
    held.release();
    expect(client.sendNow(exposeOf(11))).to.equal(0);
    expect(client.sendNow(exposeOf(12))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(got.send[0]!.size).to.equal(11);
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(got.send[0]!.size).to.equal(12);
  });

  it('yields -1 for such a message whose shared entry is corrupt, and the next arrives intact', () => {
    const bad = exposeOf(10);
    expect(client.sendNow(bad)).to.equal(0);
    // Scribble a negative size into the published entry (another thread's bug).
    const ring = server.ring;
    const dv = new DataView(ring.buffer);
    const payload = ring.peek();
    dv.setFloat64(payload + 8 + 16 + 24, -5, true);
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(LBM_MALFORMED);
    expect(client.sendNow(exposeOf(40))).to.equal(0);
    const got = new LbmMeta();
    expect(server.recvMetadataNow(got)).to.equal(0);
    expect(got.send[0]!.size).to.equal(40);
  });
});
