/**
 * The synchronous hot-loop API over shared memory: `sendNow`, `recvMetadataNow` and
 * `recvBulksNow` move messages without a promise per message, keep order with the async API, and
 * say EAGAIN rather than wait.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, ENOBUFS, ESHUTDOWN, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import { MemoryManager, ShmServer } from '@lightbeam/shm';
import { SeqMeta } from '../support/metas.js';
import type { Peer } from './support/peer.js';
import { startPeer } from './support/peer.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('shm transport synchronous API', function () {
  this.timeout(60000);
  let manager: MemoryManager;
  let client: Client;
  let server: Server;
  let peers: Peer[] = [];
  let serial = 0;
  let name = '';

  beforeEach(async () => {
    manager = freshMemory({ regionBytes: 16 << 20 });
    name = `sync-${process.pid}-${serial++}`;
    server = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { capacity: 128 });
    client = await TransportFactory.getClient(name, Transport.kShm);
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.worker.terminate()));
    peers = [];
    await Promise.all([client.close(), server.close()]);
    manager.detach();
  });

  function numbered(seq: number, text = `msg-${seq}`): SeqMeta {
    const m = new SeqMeta();
    m.seq = seq;
    const body = enc.encode(text);
    m.send.push(client.expose(body, body.length, BULK_XFER));
    return m;
  }

  it('fills the ring with sendNow, answers EAGAIN when full, and drains it in order with recvMetadataNow', () => {
    for (let i = 0; i < 128; i++) expect(client.sendNow(numbered(i))).to.equal(0);
    expect(client.sendNow(numbered(128))).to.equal(EAGAIN);
    const buf = new Uint8Array(32);
    for (let i = 0; i < 128; i++) {
      const m = new SeqMeta();
      expect(server.recvMetadataNow(m)).to.equal(0);
      expect(m.seq).to.equal(i);
      m.recv.push(server.expose(buf, m.send[0].size, BULK_XFER));
      expect(server.recvBulksNow(m)).to.equal(0);
      expect(dec.decode(buf.subarray(0, m.send[0].size))).to.equal(`msg-${i}`);
    }
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(EAGAIN);
  });

  it('keeps order with the async API: sendNow says EAGAIN while an earlier send still waits', async () => {
    for (let i = 0; i < 128; i++) expect(client.sendNow(numbered(i))).to.equal(0);
    const waiting = client.send(numbered(128), { timeoutMs: 10000 });
    expect(client.sendNow(numbered(999))).to.equal(EAGAIN);
    const first = new SeqMeta();
    expect(server.recvMetadataNow(first)).to.equal(0);
    expect(await waiting).to.equal(0);
    const seen: number[] = [first.seq];
    for (let m = new SeqMeta(); server.recvMetadataNow(m) === 0; m = new SeqMeta()) seen.push(m.seq);
    expect(seen).to.deep.equal(Array.from({ length: 129 }, (_, i) => i));
  });

  it('drains a worker producer that mixes sendNow bursts and waiting sends: every message once, in order', async () => {
    const count = 5000;
    peers.push(startPeer(manager, { mode: 'syncProducer', channel: name, count }));
    const buf = new Uint8Array(32);
    let next = 0;
    while (next < count) {
      const m = new SeqMeta();
      let rc = server.recvMetadataNow(m);
      if (rc === EAGAIN) rc = await server.waitMetadata(m, { timeoutMs: 20000 });
      expect(rc).to.equal(0);
      expect([m.producer, m.seq]).to.deep.equal([7, next]);
      m.recv.push(server.expose(buf, m.send[0].size, BULK_XFER));
      expect(server.recvBulksNow(m)).to.equal(0);
      expect(dec.decode(buf.subarray(0, m.send[0].size))).to.equal(`sync-${next}`);
      next++;
    }
    expect((await peers[0].next('done')).failures).to.equal(0);
  });

  it('answers ESHUTDOWN after close and rejects bad flags like send', async () => {
    const bad = numbered(0);
    bad.send[0].flags = 0x8;
    expect(() => client.sendNow(bad)).to.throw(/unknown flag bits 0x8/);
    await client.close();
    await server.close();
    expect(client.sendNow(numbered(1))).to.equal(ESHUTDOWN);
    expect(server.recvMetadataNow(new LbmMeta())).to.equal(ESHUTDOWN);
  });
  it('refills a reused meta in place: the same Bulk objects and views for same-shaped messages, the caller\'s own bulks untouched', () => {
    const meta = new SeqMeta();
    const own = { data: null, size: 3, flags: BULK_XFER };
    meta.send.push(own);
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      expect(client.sendNow(numbered(i, `same-${i}`))).to.equal(0);
      expect(server.recvMetadataNow(meta)).to.equal(0);
      expect(meta.seq).to.equal(i);
      expect(dec.decode(meta.send[0].data!.ptr)).to.equal(`same-${i}`);
      seen.push(meta.send[0], meta.send[0].data);
      expect(server.recvBulksNow(meta)).to.equal(0);
    }
    expect(seen[2], 'same Bulk').to.equal(seen[0]);
    expect(seen[4], 'same Bulk again').to.equal(seen[0]);
    expect(seen[3], 'same FullPtr').to.equal(seen[1]);
    expect(own, "caller's bulk").to.deep.equal({ data: null, size: 3, flags: BULK_XFER });
  });

  it('frees the blocks of messages received and never released when the server closes', async () => {
    const before = manager.stats()[0].blocksInUse;
    const big = new Uint8Array(4096).fill(9);
    for (let i = 0; i < 20; i++) {
      const m = new SeqMeta();
      m.seq = i;
      m.send.push(client.expose(big, big.length, BULK_XFER));
      expect(client.sendNow(m)).to.equal(0);
    }
    for (let i = 0; i < 20; i++) expect(server.recvMetadataNow(new SeqMeta())).to.equal(0);
    expect(manager.stats()[0].blocksInUse - before, 'held by unreleased messages').to.equal(20);
    await server.close();
    expect(manager.stats()[0].blocksInUse - before, 'after close').to.equal(0);
  });
  it('bounds the messages a receiver holds unreleased: ENOBUFS without consuming, counted, until it releases', async () => {
    const bounded = await TransportFactory.getServer(`${name}-bounded`, Transport.kShm, undefined, undefined, { maxUnreleased: 3 });
    const c = await TransportFactory.getClient(`${name}-bounded`, Transport.kShm);
    for (let i = 0; i < 5; i++) {
      const m = new SeqMeta();
      m.seq = i;
      const body = enc.encode(`held-${i}`);
      m.send.push(c.expose(body, body.length, BULK_XFER));
      expect(c.sendNow(m)).to.equal(0);
    }
    const held = [new SeqMeta(), new SeqMeta(), new SeqMeta()];
    for (const m of held) expect(bounded.recvMetadataNow(m)).to.equal(0);
    expect(bounded.recvMetadataNow(new SeqMeta())).to.equal(ENOBUFS);
    expect(await bounded.waitMetadata(new SeqMeta(), { timeoutMs: 1000 })).to.equal(ENOBUFS);
    expect((bounded as ShmServer).stats()).to.include({ unreleased: 3, refusedUnreleased: 2, depth: 2 });
    bounded.release(held[0]);
    // Receiving into a meta that holds a message frees that one first: no refusal.
    expect(bounded.recvMetadataNow(held[1])).to.equal(0);
    expect(held[1].seq).to.equal(3);
    expect(bounded.recvMetadataNow(held[0])).to.equal(0);
    expect(held[0].seq).to.equal(4);
    await c.close();
    await bounded.close();
    expect((bounded as ShmServer).stats().unreleased, 'close releases all').to.equal(0);
  });
});
