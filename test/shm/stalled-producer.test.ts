/**
 * A producer that stalls between claiming a slot and publishing it for longer than the server's
 * `stuckSlotMs` (a long pause of its thread, not a death) gets its slot skipped. Its late publish
 * used to store "published" into a slot that already belonged to the next lap: a producer of that
 * lap then read the ring as full while the consumer read it as empty, and the channel stopped for
 * good. The publish is now an exchange that fails on a skipped slot, and the send reports it.
 */
import { expect } from 'chai';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import type { MemoryManager } from '@lightbeam/shm';
import { Ring, findChannelRing } from '@lightbeam/shm';
import { freshMemory } from '../support/memory.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('a producer stalled past stuckSlotMs', function () {
  this.timeout(30_000);
  let manager: MemoryManager;
  const closers: Array<Client | Server> = [];

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
    manager.detach();
  });

  it('Ring: its late publish fails and leaves the next lap of the slot usable', () => {
    manager = freshMemory();
    const sab = new SharedArrayBuffer(Ring.bytesFor(2, 64));
    const consumer = Ring.init(sab, 0, 2, 64);
    const stalled = Ring.attach(sab, 0);
    const other = Ring.attach(sab, 0);
    expect(stalled.claim()).to.be.greaterThan(0);
    const stalledPos = stalled.claimed;
    expect(consumer.headClaimed()).to.equal(true);
    expect(consumer.skipHead()).to.equal(true);
    const late = stalled.publish(stalledPos, 8);
    // Two more messages: the second takes the skipped slot's next lap.
    for (let i = 0; i < 2; i++) {
      expect(other.claim(), `claim ${i} after the late publish`).to.be.greaterThan(0);
      expect(other.publish(other.claimed, 4 + i)).to.equal(true);
    }
    for (let i = 0; i < 2; i++) {
      const p = consumer.peek();
      expect(p, `message ${i} readable`).to.be.greaterThan(0);
      expect(consumer.lengthAt(p)).to.equal(4 + i);
      consumer.advance();
    }
    expect(consumer.depth()).to.equal(0);
    expect(late, 'publish into a skipped slot').to.equal(false);
  });

  it('over the transport: every message sent after the stall arrives, and the late publish takes nothing from the ring', async () => {
    manager = freshMemory();
    const name = `stalled-${process.pid}`;
    const server = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { stuckSlotMs: 50 });
    closers.push(server);
    const client = await TransportFactory.getClient(name, Transport.kShm);
    closers.push(client);
    const ring = findChannelRing(name)!;
    // The stalled producer: a view of its own that claims and then does not publish in time.
    const stalled = Ring.attach(ring.buffer, ring.base);
    expect(stalled.claim()).to.be.greaterThan(0);
    const stalledPos = stalled.claimed;
    const sendOne = async (text: string): Promise<void> => {
      const out = new LbmMeta();
      const body = enc.encode(text);
      out.send.push(client.expose(body, body.length, BULK_XFER));
      expect(await client.send(out, { timeoutMs: 5000 }), `send ${text}`).to.equal(0);
    };
    const receiveText = async (): Promise<string> => {
      const m = new LbmMeta();
      expect(await server.waitMetadata(m, { timeoutMs: 5000 })).to.equal(0);
      const buf = new Uint8Array(m.send[0].size);
      m.recv.push(server.expose(buf, buf.length, BULK_XFER));
      expect(await server.recvBulks(m)).to.equal(0);
      server.release(m);
      return dec.decode(buf);
    };
    await sendOne('before the skip');
    // The server skips the stuck slot after stuckSlotMs and then reads the message behind it.
    expect(await receiveText()).to.equal('before the skip');
    const late = stalled.publish(stalledPos, 8);
    // A full lap of the ring and more: every slot, the skipped one included, still carries messages.
    const count = ring.capacity + 8;
    for (let i = 0; i < count; i++) {
      await sendOne(`after ${i}`);
      expect(await receiveText()).to.equal(`after ${i}`);
    }
    expect(ring.depth()).to.equal(0);
    expect(ring.heldBytes()).to.equal(0);
    expect(late, 'the late publish').to.equal(false);
  });
});
