/**
 * Egress -> ingress in one process over tcp loopback: both bridges share this thread's memory, so
 * the egress serves `*-out` channels and the peer delivers into `*-in` ones.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, ETIMEDOUT, LBM_OK, isNullPointer } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import type { UndeliveredReport } from '@lightbeam/zmq-bridge';
import { Bridge } from '@lightbeam/zmq-bridge';
import { SeqMeta, fnv1a, payload } from './support/bridge-meta.js';

describe('bridge pipeline in one process (tcp loopback)', () => {
  let manager: MemoryManager;
  let ingress: Bridge | null = null;
  let egress: Bridge | null = null;
  const closers: { close(): Promise<void> }[] = [];
  const reports: UndeliveredReport[] = [];

  before(() => {
    manager = MemoryManager.current() ?? MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  // Leave the thread without a memory manager for the next file, which makes its own.
  after(() => MemoryManager.current()?.detach());

  beforeEach(async () => {
    reports.length = 0;
    ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0', onUndelivered: (r) => reports.push(r) });
  });

  afterEach(async () => {
    await egress?.close();
    await ingress?.close();
    for (const c of closers.splice(0)) await c.close();
    egress = ingress = null;
  });

  async function connect(names: string[], sendTimeoutMs = 5000): Promise<void> {
    egress = await Bridge.create({
      peer: `tcp://127.0.0.1:${ingress!.port}`,
      channels: names.map((n) => ({ local: `${n}-out`, remote: `${n}-in` })),
      sendTimeoutMs,
      onUndelivered: (r) => reports.push(r),
    });
  }

  it('forwards XFER bytes, custom fields and EXPOSE descriptors (data null on the far side)', async () => {
    await connect(['p1']);
    const rx = await ShmServer.create('p1-in');
    const tx = new ShmClient('p1-out');
    closers.push(rx, tx);
    const exposed = manager.allocateOrThrow(4096);
    const sizes = [0, 1, 100, 129, 4096, 70_000, 1 << 20];
    for (let seq = 0; seq < sizes.length; seq++) {
      const m = new SeqMeta();
      const data = payload(seq, sizes[seq]);
      m.seq = seq;
      m.checksum = fnv1a(data);
      m.tag = `msg-${seq}`;
      m.send.push(tx.expose(data, data.length, BULK_XFER));
      m.send.push(tx.expose(manager.toFullPtr(exposed, 4096), 4096, BULK_EXPOSE));
      expect(await tx.send(m, { timeoutMs: 5000 })).to.equal(LBM_OK);
    }
    for (let seq = 0; seq < sizes.length; seq++) {
      const m = new SeqMeta();
      expect(await rx.waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
      expect(m.seq).to.equal(seq);
      expect(m.tag).to.equal(`msg-${seq}`);
      expect(m.send.map((b) => [b.size, b.flags])).to.deep.equal([
        [sizes[seq], BULK_XFER],
        [4096, BULK_EXPOSE],
      ]);
      expect(m.send[1].data, 'EXPOSE bulk stays on its host').to.equal(null);
      // The XFER bytes are staged in this host's slab: a view, no copy needed to read them.
      const staged = m.send[0].data;
      expect(staged).to.not.equal(null);
      if (sizes[seq] >= 4096) {
        // Too large for a ring slot: staged in a slab block of this host, read in place by pointer.
        expect(staged!.ptr.buffer).to.be.instanceOf(SharedArrayBuffer);
        expect(isNullPointer(staged!.shm)).to.equal(false);
        expect(manager.toFullPtr(staged!.shm, sizes[seq]).ptr.byteOffset).to.equal(staged!.ptr.byteOffset);
      }
      expect(fnv1a(staged!.ptr)).to.equal(m.checksum);
      const buf = new Uint8Array(m.send[0].size);
      m.recv.push(rx.expose(buf, buf.length, BULK_XFER));
      expect(await rx.recvBulks(m)).to.equal(LBM_OK);
      expect(fnv1a(buf)).to.equal(m.checksum);
    }
    manager.free(exposed);
    const s = egress!.stats();
    expect(s.egress.forwarded).to.equal(sizes.length);
    expect(ingress!.stats().ingress.delivered).to.equal(sizes.length);
    expect(reports).to.deep.equal([]);
  });

  it('multiplexes many channels over one connection, keeping order per channel', async () => {
    const names = ['m0', 'm1', 'm2', 'm3', 'm4'];
    await connect(names);
    const rxs = await Promise.all(names.map((n) => ShmServer.create(`${n}-in`)));
    const txs = names.map((n) => new ShmClient(`${n}-out`));
    closers.push(...rxs, ...txs);
    const perChannel = 60;
    const sends: Promise<number>[] = [];
    for (let seq = 0; seq < perChannel; seq++) {
      for (let c = 0; c < names.length; c++) {
        const m = new SeqMeta();
        const data = payload(seq * 7 + c, 64 + seq * 13);
        m.seq = seq;
        m.checksum = fnv1a(data);
        m.tag = names[c];
        m.send.push(txs[c].expose(data, data.length, BULK_XFER));
        sends.push(txs[c].send(m, { timeoutMs: 5000 }));
      }
    }
    expect((await Promise.all(sends)).every((rc) => rc === LBM_OK)).to.equal(true);
    for (let c = 0; c < names.length; c++) {
      for (let seq = 0; seq < perChannel; seq++) {
        const m = new SeqMeta();
        expect(await rxs[c].waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
        expect([m.tag, m.seq]).to.deep.equal([names[c], seq]);
        expect(fnv1a(m.send[0].data!.ptr)).to.equal(m.checksum);
        await rxs[c].recvBulks(m);
      }
    }
    expect(ingress!.stats().ingress.delivered).to.equal(perChannel * names.length);
  });

  it('reports ETIMEDOUT when the local channel on the far side stays full, then delivers the next message intact', async () => {
    await ingress!.close();
    ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0', deliverTimeoutMs: 200, onUndelivered: (r) => reports.push(r) });
    await connect(['full']);
    const rx = await ShmServer.create('full-in', { capacity: 2 });
    const tx = new ShmClient('full-out');
    closers.push(rx, tx);
    const send = async (seq: number): Promise<void> => {
      const m = new SeqMeta();
      m.seq = seq;
      expect(await tx.send(m, { timeoutMs: 5000 })).to.equal(LBM_OK);
    };
    for (let seq = 0; seq < 3; seq++) await send(seq);
    // Two fit in the ring; the third waits 200 ms in the ingress and is reported.
    const deadline = Date.now() + 10000;
    while (reports.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(reports.map((r) => [r.direction, r.channel, r.code])).to.deep.equal([['ingress', 'full-in', ETIMEDOUT]]);
    for (let seq = 0; seq < 2; seq++) {
      const m = new SeqMeta();
      expect(await rx.waitMetadata(m, { timeoutMs: 5000 })).to.equal(LBM_OK);
      expect(m.seq).to.equal(seq);
    }
    await send(3);
    const m = new SeqMeta();
    expect(await rx.waitMetadata(m, { timeoutMs: 5000 })).to.equal(LBM_OK);
    expect(m.seq).to.equal(3);
    expect(ingress!.stats().ingress).to.include({ delivered: 3, undelivered: 1 });
  });
});
