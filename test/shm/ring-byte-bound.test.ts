/**
 * Issue 22 item 6: a producer of 1 MiB exposed blocks ran 1,024 messages (the ring's capacity)
 * ahead of its consumer; the manager added regions up to its limit and allocations then failed
 * with an ERR_LBM_NOMEM that named no option. A ring now bounds the bytes its messages hold
 * (`maxBytes`, 64 MiB by default): the producer gets EAGAIN, or waits, long before memory runs
 * out, and the exhaustion error names the knobs.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, EAGAIN, LbmMeta, LightbeamError, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, FullPtr, Server } from '@lightbeam/core';
import type { MemoryManager } from '@lightbeam/shm';
import { DEFAULT_RING_MAX_BYTES, ShmServer, startWorker } from '@lightbeam/shm';
import type { Worker } from 'node:worker_threads';
import { freshMemory } from '../support/memory.js';

const PRODUCER = new URL('../fixtures/shm-transport/far-producer.mjs', import.meta.url);
const MiB = 1024 * 1024;
let serial = 0;
const channel = (): string => `byte-bound-${process.pid}-${serial++}`;

describe('a ring bounds the bytes its messages hold (issue 22 item 6)', function () {
  this.timeout(120_000);
  let manager: MemoryManager;
  const closers: Array<Client | Server> = [];
  let worker: Worker | null = null;

  afterEach(async () => {
    await worker?.terminate();
    worker = null;
    for (const c of closers.splice(0).reverse()) await c.close();
    manager.detach();
  });

  it('stops a producer of 1 MiB exposed blocks far ahead of its consumer before the slab runs out, then delivers every message', async () => {
    // 4 regions of 32 MiB: a producer 1,024 messages ahead (the ring's capacity) would need 1 GiB.
    manager = freshMemory({ regionBytes: 32 * MiB, maxRegions: 4 });
    const name = channel();
    const server = await TransportFactory.getServer(name, Transport.kShm);
    closers.push(server);
    expect(server.stats().maxBytes).to.equal(DEFAULT_RING_MAX_BYTES);
    const count = 300;
    const w = startWorker(PRODUCER, { workerData: { channel: name, count, size: MiB }, execArgv: [] }, manager);
    worker = w;
    const messages: Array<Record<string, unknown>> = [];
    const next = (): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        if (messages.length > 0) return resolve(messages.shift()!);
        w.once('message', () => resolve(messages.shift()!));
        w.once('error', reject);
      });
    w.on('message', (m: Record<string, unknown>) => messages.push(m));

    // The consumer has not received anything yet: the producer must be stopped by the bound.
    const first = await next();
    expect(first, 'the producer was stopped by the ring, not by an allocation failure').to.include({ full: true });
    const ahead = first.ahead as number;
    expect(ahead).to.be.within(1, DEFAULT_RING_MAX_BYTES / MiB + 1);
    const stats = server.stats();
    expect(stats.depth).to.equal(ahead);
    expect(stats.heldBytes).to.be.at.least(DEFAULT_RING_MAX_BYTES).and.at.most(DEFAULT_RING_MAX_BYTES + 2 * MiB);
    expect(manager.stats().length, 'regions').to.be.below(4);

    // Now consume everything, in order, reading each block in place and freeing it.
    for (let i = 0; i < count; i++) {
      const meta = new LbmMeta();
      expect(await server.waitMetadata(meta, { timeoutMs: 30_000 }), `message #${i}`).to.equal(0);
      const data = meta.send[0]!.data as FullPtr;
      expect([data.ptr[0], data.ptr[MiB - 1]], `message #${i}`).to.deep.equal([i & 255, (i * 7) & 255]);
      manager.free(data.shm);
      expect(server.stats().heldBytes).to.be.at.most(DEFAULT_RING_MAX_BYTES + 2 * MiB);
    }
    const done = await next();
    expect(done).to.deep.include({ done: true, sent: count, error: null });
    expect(server.stats().heldBytes, 'every charge given back').to.equal(0);
    expect(manager.stats().length, 'regions never reached maxRegions').to.be.below(4);
  });

  it('bounds XFER messages staged in blocks too, lets one message larger than the bound pass an empty ring, and gives every charge back', async () => {
    manager = freshMemory({ regionBytes: 16 * MiB });
    const name = channel();
    const server = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { maxBytes: MiB });
    closers.push(server);
    const client = await TransportFactory.getClient(name, Transport.kShm);
    closers.push(client);
    const body = new Uint8Array(300 * 1024).fill(7);
    const xfer = (): LbmMeta => {
      const m = new LbmMeta();
      m.send.push(client.expose(body, body.byteLength, BULK_XFER));
      return m;
    };
    const rcs: number[] = [];
    for (let i = 0; i < 10; i++) rcs.push(await client.send(xfer()));
    // 300 KiB each: the fourth crosses 1 MiB and is accepted, the fifth is refused.
    expect(rcs).to.deep.equal([0, 0, 0, 0, EAGAIN, EAGAIN, EAGAIN, EAGAIN, EAGAIN, EAGAIN]);
    for (let i = 0; i < 4; i++) {
      const meta = new LbmMeta();
      expect(await server.recvMetadata(meta)).to.equal(0);
      const buf = new Uint8Array(meta.send[0]!.size);
      meta.recv.push(server.expose(buf, buf.byteLength, BULK_XFER));
      expect(await server.recvBulks(meta)).to.equal(0);
      expect(buf[buf.length - 1]).to.equal(7);
    }
    expect(server.stats().heldBytes).to.equal(0);

    // A 4 MiB exposed block, larger than the whole bound, passes the empty ring; the next waits.
    const big = manager.toFullPtr(manager.allocateOrThrow(4 * MiB), 4 * MiB);
    const expose = (): LbmMeta => {
      const m = new LbmMeta();
      m.send.push(client.expose(big, 4 * MiB, BULK_EXPOSE));
      return m;
    };
    expect(await client.send(expose())).to.equal(0);
    expect(await client.send(expose())).to.equal(EAGAIN);
    const waiting = client.send(expose(), { timeoutMs: 30_000 });
    const meta = new LbmMeta();
    expect(await server.waitMetadata(meta, { timeoutMs: 10_000 })).to.equal(0);
    expect(await waiting, 'the waiting send got room once the consumer took the first').to.equal(0);
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 10_000 })).to.equal(0);
    expect(server.stats().heldBytes).to.equal(0);
    manager.free(big.shm);
  });

  it('gives owed charges back at once to a producer parked for room, and stats() counts them given back (charges are batched)', async () => {
    // 4 KiB blocks under a 256 KiB bound: 64 fill it, and one consumed charge (4 KiB) is far below
    // the 16 KiB the consumer owes before it gives back on its own. The heartbeat (which also
    // gives back) is kept out of the way, so only the parked producer can make the consumer pay.
    manager = freshMemory({ regionBytes: 16 * MiB });
    const name = channel();
    const server = await ShmServer.create(name, { capacity: 128, maxBytes: 256 * 1024, heartbeatMs: 60_000 });
    closers.push(server);
    const client = await TransportFactory.getClient(name, Transport.kShm);
    closers.push(client);
    const block = manager.toFullPtr(manager.allocateOrThrow(4096), 4096);
    const expose = (): LbmMeta => {
      const m = new LbmMeta();
      m.send.push(client.expose(block, 4096, BULK_EXPOSE));
      return m;
    };
    let sent = 0;
    while ((await client.send(expose())) === 0 && sent < 1000) sent++;
    expect(sent).to.equal(64);
    // Parks for room (it announces that before its first wait, synchronously in this call).
    const waiting = client.send(expose(), { timeoutMs: 3000 });
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(0);
    expect(await waiting, 'woken with the bytes of the one message taken').to.equal(0);
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(0);
    expect(server.stats().heldBytes, 'the owed charge counts as given back').to.equal(63 * 4096);
    for (let i = 0; i < 63; i++) expect(server.recvMetadataNow(new LbmMeta())).to.equal(0);
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(EAGAIN);
    expect(server.stats().heldBytes).to.equal(0);
    manager.free(block.shm);
  });

  it('gives back the charge of messages a closing server drops, so a server binding the channel again starts empty', async () => {
    manager = freshMemory({ regionBytes: 16 * MiB });
    const name = channel();
    const first = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { maxBytes: MiB });
    const client = await TransportFactory.getClient(name, Transport.kShm);
    closers.push(client);
    const body = new Uint8Array(400 * 1024).fill(3);
    const send = (): Promise<number> => {
      const m = new LbmMeta();
      m.send.push(client.expose(body, body.byteLength, BULK_XFER));
      return client.send(m);
    };
    expect([await send(), await send(), await send(), await send()]).to.deep.equal([0, 0, 0, EAGAIN]);
    expect(first.stats().heldBytes).to.be.at.least(MiB);
    await first.close();
    const second = await TransportFactory.getServer(name, Transport.kShm);
    closers.push(second);
    expect(second.stats().heldBytes).to.equal(0);
    expect(await send()).to.equal(0);
  });

  it('lifts the bound with maxBytes 0 and refuses a negative or fractional one', async () => {
    manager = freshMemory({ regionBytes: 16 * MiB });
    const open = await TransportFactory.getServer(channel(), Transport.kShm, undefined, undefined, { maxBytes: 0 });
    closers.push(open);
    expect(open).to.be.instanceOf(ShmServer);
    expect(open.stats().maxBytes).to.equal(0);
    for (const bad of [-1, 1.5, Number.NaN]) {
      try {
        await TransportFactory.getServer(channel(), Transport.kShm, undefined, undefined, { maxBytes: bad });
        expect.fail(`maxBytes ${bad} was accepted`);
      } catch (e) {
        expect(e).to.be.instanceOf(LightbeamError);
        expect((e as LightbeamError).message).to.include('maxBytes');
      }
    }
  });

  it('names the knobs when the memory runs out: maxRegions, regionBytes, capacity and maxBytes', () => {
    manager = freshMemory({ regionBytes: 4 * MiB, maxRegions: 2 });
    let err: unknown = null;
    for (let i = 0; i < 16 && err === null; i++) {
      try {
        manager.allocateOrThrow(MiB);
      } catch (e) {
        err = e;
      }
    }
    expect(err).to.be.instanceOf(LightbeamError);
    const e = err as LightbeamError;
    expect(e.code).to.equal('ERR_LBM_NOMEM');
    expect(e.message).to.include('maxRegions 2').and.include('regionBytes 4 MiB').and.include('capacity').and.include('maxBytes');
  });
});
