/**
 * The shared-memory transport across real worker threads: the C++ acceptance cases both ways,
 * zero-copy identity, many producers into one server, and a ring that wraps many times.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, Transport, TransportFactory, pointerEquals } from '@lightbeam/core';
import type { Pointer, Server } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';
import type { Peer } from './support/peer.js';
import { checksum, pattern, sendAcceptanceCases, startPeer } from './support/peer.js';
import { RequestMeta, SeqMeta } from '../support/metas.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('shm transport across worker threads', function () {
  this.timeout(120000);
  let manager: MemoryManager;
  let peers: Peer[] = [];
  let servers: Server[] = [];
  let serial = 0;
  const channel = (): string => `threads-${process.pid}-${serial++}`;

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 64 << 20 });
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.worker.terminate()));
    await Promise.all(servers.map((s) => s.close()));
    peers = [];
    servers = [];
    manager.detach();
  });

  async function bind(name: string, options: Record<string, unknown> = {}): Promise<Server> {
    const s = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, options);
    servers.push(s);
    return s;
  }

  async function receive<M extends LbmMeta>(server: Server, meta: M): Promise<{ meta: M; bufs: Uint8Array[] }> {
    expect(await server.waitMetadata(meta, { timeoutMs: 10000 })).to.equal(0);
    const bufs = meta.send.map((b) => new Uint8Array(b.size));
    meta.recv = meta.send.map((b, i) => server.expose(bufs[i], b.size, b.flags));
    expect(await server.recvBulks(meta)).to.equal(0);
    return { meta, bufs };
  }

  it('runs the C++ acceptance cases from a worker client to a main-thread server', async () => {
    const name = channel();
    const server = await bind(name);
    const peer = startPeer(manager, { mode: 'acceptanceClient', channel: name });
    peers.push(peer);
    const magic = await receive(server, new LbmMeta());
    expect(dec.decode(magic.bufs[0])).to.equal('unit_test_magic');
    expect(magic.meta.send.map((b) => [b.size, b.flags])).to.deep.equal([[15, BULK_XFER]]);
    const custom = await receive(server, new RequestMeta());
    expect([custom.meta.requestId, custom.meta.operation]).to.deep.equal([42, 'test_op']);
    expect(custom.bufs.map((b) => dec.decode(b))).to.deep.equal(['Hello, World!', 'Testing Lightbeam']);
    const chunks = await receive(server, new LbmMeta());
    expect(chunks.bufs.map((b) => dec.decode(b))).to.deep.equal(['Chunk 1', 'Chunk 2 is longer', 'Chunk 3', 'Final chunk 4']);
    const empty = await receive(server, new LbmMeta());
    expect(empty.meta.send).to.deep.equal([]);
    const exposed = new LbmMeta();
    expect(await server.waitMetadata(exposed, { timeoutMs: 10000 })).to.equal(0);
    expect(exposed.send.map((b) => [b.size, b.flags])).to.deep.equal([[19, BULK_EXPOSE]]);
    expect(dec.decode(exposed.send[0].data!.ptr)).to.equal('exposed in the slab');
    const big = await receive(server, new LbmMeta());
    expect(big.bufs[0].byteLength).to.equal(1 << 20);
    expect(checksum(big.bufs[0])).to.equal(checksum(pattern(1 << 20, 7)));
    const done = await peer.next('done');
    expect(done.rcs).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(pointerEquals(exposed.send[0].data!.shm, done.exposed as Pointer)).to.equal(true);
  });

  it('runs the C++ acceptance cases from a main-thread client to a worker server', async () => {
    const name = channel();
    const peer = startPeer(manager, { mode: 'acceptanceServer', channel: name });
    peers.push(peer);
    await peer.next('ready');
    const client = await TransportFactory.getClient(name, Transport.kShm);
    const { rcs, big } = await sendAcceptanceCases(client, manager, 3);
    expect(rcs).to.deep.equal([0, 0, 0, 0, 0, 0]);
    const { out } = (await peer.next('done')) as unknown as { out: Array<Record<string, unknown>> };
    expect(out.map((o) => o.rc)).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(out[0].texts).to.deep.equal(['unit_test_magic']);
    expect([out[1].requestId, out[1].operation, out[1].texts]).to.deep.equal([42, 'test_op', ['Hello, World!', 'Testing Lightbeam']]);
    expect(out[2].texts).to.deep.equal(['Chunk 1', 'Chunk 2 is longer', 'Chunk 3', 'Final chunk 4']);
    expect(out[3].sizes).to.deep.equal([]);
    expect(out[4].sizes).to.deep.equal([[19, BULK_EXPOSE, 'exposed in the slab']]);
    expect(out[5].texts).to.deep.equal([`${1 << 20}:${checksum(big)}`]);
    await client.close();
  });

  it('shares an EXPOSE bulk zero-copy: the worker writes through its FullPtr, the sender sees it at the same Pointer', async () => {
    const name = channel();
    const peer = startPeer(manager, { mode: 'writerServer', channel: name });
    peers.push(peer);
    await peer.next('ready');
    const client = await TransportFactory.getClient(name, Transport.kShm);
    const p = manager.allocateOrThrow(4096);
    const mine = manager.toFullPtr(p, 4096);
    mine.ptr.set(enc.encode('sender'));
    const m = new LbmMeta();
    m.send.push(client.expose(mine, 4096, BULK_EXPOSE));
    expect(await client.send(m, { timeoutMs: 10000 })).to.equal(0);
    const done = await peer.next('done');
    expect(done.rc).to.equal(0);
    expect(done.seen).to.equal('WORKER');
    expect(pointerEquals(done.pointer as Pointer, p)).to.equal(true);
    expect(dec.decode(mine.ptr.subarray(0, 6))).to.equal('WORKER');
    await client.close();
    manager.free(p);
  });

  it('receives from three producer workers: every message exactly once, in per-producer order', async () => {
    const name = channel();
    const server = await bind(name, { capacity: 32 });
    const count = 3000;
    for (let id = 0; id < 3; id++) peers.push(startPeer(manager, { mode: 'producer', channel: name, id, count }));
    const next = [0, 0, 0];
    let total = 0;
    const buf = new Uint8Array(64);
    while (total < 3 * count) {
      const m = new SeqMeta();
      expect(await server.waitMetadata(m, { timeoutMs: 20000 })).to.equal(0);
      expect(m.seq, `producer ${m.producer} order`).to.equal(next[m.producer]);
      next[m.producer]++;
      m.recv.push(server.expose(buf, m.send[0].size, BULK_XFER));
      expect(await server.recvBulks(m)).to.equal(0);
      expect(dec.decode(buf.subarray(0, m.send[0].size))).to.equal(`p${m.producer}-s${m.seq}`);
      total++;
    }
    expect(next).to.deep.equal([count, count, count]);
    for (const p of peers) expect((await p.next('done')).failures).to.equal(0);
    const probe = new LbmMeta();
    expect(await server.recvMetadata(probe)).to.equal(11);
  });

  it('wraps a 16-slot ring more than 100 times with a sequence verifier and a real worker producer', async () => {
    const name = channel();
    const server = await bind(name, { capacity: 16, spinUs: 0 });
    const count = 16 * 120;
    peers.push(startPeer(manager, { mode: 'producer', channel: name, id: 0, count }));
    const before = manager.stats()[0];
    for (let seq = 0; seq < count; seq++) {
      const m = new SeqMeta();
      expect(await server.waitMetadata(m, { timeoutMs: 20000 })).to.equal(0);
      expect(m.seq).to.equal(seq);
      const buf = new Uint8Array(m.send[0].size);
      m.recv.push(server.expose(buf, buf.length, BULK_XFER));
      expect(await server.recvBulks(m)).to.equal(0);
      expect(dec.decode(buf)).to.equal(`p0-s${seq}`);
    }
    expect((await peers[0].next('done')).failures).to.equal(0);
    expect(manager.stats()[0].blocksInUse).to.be.at.most(before.blocksInUse);
  });
});
