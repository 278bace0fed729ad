/**
 * Backpressure and faults of the shared-memory transport: a full ring, a slow consumer, a consumer
 * or producer thread terminated mid-stream, close with waiters pending, corrupt descriptors
 * written into the ring by another thread, and bind conflicts.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, EAGAIN, ECONNRESET, ESHUTDOWN, ETIMEDOUT, LBM_MALFORMED, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, LightbeamError, Server } from '@lightbeam/core';
import { MemoryManager, findChannelRing } from '@lightbeam/shm';
import type { Peer } from './support/peer.js';
import { startPeer } from './support/peer.js';
import { SeqMeta } from '../support/metas.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function message(client: Client, text: string, size = 0): LbmMeta {
  const m = new LbmMeta();
  const body = size > 0 ? new Uint8Array(size).fill(text.charCodeAt(0)) : enc.encode(text);
  m.send.push(client.expose(body, body.length, BULK_XFER));
  return m;
}

describe('shm transport backpressure and faults', function () {
  this.timeout(120000);
  let manager: MemoryManager;
  let peers: Peer[] = [];
  let endpoints: Array<Client | Server> = [];
  let serial = 0;
  const channel = (): string => `faults-${process.pid}-${serial++}`;

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 64 << 20 });
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.worker.terminate()));
    await Promise.all(endpoints.map((e) => e.close()));
    peers = [];
    endpoints = [];
    manager.detach();
  });

  async function client(name: string): Promise<Client> {
    const c = await TransportFactory.getClient(name, Transport.kShm);
    endpoints.push(c);
    return c;
  }

  async function server(name: string, options: Record<string, unknown> = {}): Promise<Server> {
    const s = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, options);
    endpoints.push(s);
    return s;
  }

  async function receiveText(s: Server): Promise<string> {
    const m = new LbmMeta();
    expect(await s.waitMetadata(m, { timeoutMs: 10000 })).to.equal(0);
    const buf = new Uint8Array(m.send[0].size);
    m.recv.push(s.expose(buf, buf.length, BULK_XFER));
    expect(await s.recvBulks(m)).to.equal(0);
    return dec.decode(buf);
  }

  it('fills a ring whose consumer does not read: EAGAIN without a timeout, ETIMEDOUT with one, depth in stats', async () => {
    const name = channel();
    const peer = startPeer(manager, { mode: 'idleServer', channel: name, capacity: 8 });
    peers.push(peer);
    await peer.next('ready');
    const c = await client(name);
    for (let i = 0; i < 8; i++) expect(await c.send(message(c, `m${i}`))).to.equal(0);
    expect(await c.send(message(c, 'overflow'))).to.equal(EAGAIN);
    expect(await c.send(message(c, 'overflow'), { timeoutMs: 150 })).to.equal(ETIMEDOUT);
    const ring = findChannelRing(name)!;
    expect(ring.depth()).to.equal(8);
    expect(ring.capacity).to.equal(8);
  });

  it('lets a producer keep up with a slow consumer: every message arrives, in order, nothing lost', async () => {
    const name = channel();
    const s = await server(name, { capacity: 4, spinUs: 0 });
    const count = 200;
    const peer = startPeer(manager, { mode: 'producer', channel: name, id: 0, count });
    peers.push(peer);
    for (let seq = 0; seq < count; seq++) {
      if (seq % 20 === 0) await new Promise((r) => setTimeout(r, 20));
      const m = new SeqMeta();
      expect(await s.waitMetadata(m, { timeoutMs: 20000 })).to.equal(0);
      expect(m.seq).to.equal(seq);
      expect(await s.recvBulks(m)).to.equal(0);
    }
    expect((await peer.next('done')).failures).to.equal(0);
  });

  it('settles a send waiting on a full ring with ECONNRESET when the consumer thread is terminated, and reclaims its queued blocks', async () => {
    const name = channel();
    const peer = startPeer(manager, { mode: 'idleServer', channel: name, capacity: 4 });
    peers.push(peer);
    await peer.next('ready');
    const c = await client(name);
    const baseline = manager.stats()[0].blocksInUse;
    // Large envelopes live in slab blocks: each queued message holds one.
    for (let i = 0; i < 4; i++) expect(await c.send(message(c, 'x', 8192))).to.equal(0);
    expect(manager.stats()[0].blocksInUse).to.equal(baseline + 4);
    const waiting = c.send(message(c, 'y', 8192), { timeoutMs: 30000 });
    await peer.worker.terminate();
    expect(await waiting).to.equal(ECONNRESET);
    expect(await c.send(message(c, 'z'))).to.equal(ECONNRESET);
    expect(manager.stats()[0].blocksInUse).to.equal(baseline);
  });

  it('keeps receiving after a producer thread is terminated mid-stream; the next producer arrives intact', async () => {
    const name = channel();
    const s = await server(name, { capacity: 64, stuckSlotMs: 300 });
    const doomed = startPeer(manager, { mode: 'producer', channel: name, id: 0, count: 1_000_000, announceEvery: 500 });
    peers.push(doomed);
    let next = 0;
    // Consume until the producer has sent at least 1000, then terminate it mid-send.
    while (next < 1000) {
      const m = new SeqMeta();
      expect(await s.waitMetadata(m, { timeoutMs: 20000 })).to.equal(0);
      expect([m.producer, m.seq]).to.deep.equal([0, next]);
      expect(await s.recvBulks(m)).to.equal(0);
      next++;
    }
    await doomed.worker.terminate();
    // Whatever it published before dying arrives whole and in order.
    for (;;) {
      const m = new SeqMeta();
      const rc = await s.waitMetadata(m, { timeoutMs: 500 });
      if (rc === ETIMEDOUT) break;
      expect(rc).to.equal(0);
      expect([m.producer, m.seq]).to.deep.equal([0, next]);
      expect(await s.recvBulks(m)).to.equal(0);
      next++;
    }
    const fresh = startPeer(manager, { mode: 'producer', channel: name, id: 1, count: 100 });
    peers.push(fresh);
    for (let seq = 0; seq < 100; seq++) {
      const m = new SeqMeta();
      expect(await s.waitMetadata(m, { timeoutMs: 20000 })).to.equal(0);
      expect([m.producer, m.seq]).to.deep.equal([1, seq]);
      const buf = new Uint8Array(m.send[0].size);
      m.recv.push(s.expose(buf, buf.length, BULK_XFER));
      expect(await s.recvBulks(m)).to.equal(0);
      expect(dec.decode(buf)).to.equal(`p1-s${seq}`);
    }
    expect((await fresh.next('done')).failures).to.equal(0);
  });

  it('settles pending waiters with ESHUTDOWN on close: a server waiting for data, a client waiting for room', async () => {
    const name = channel();
    const s = await server(name);
    const waiting = s.waitMetadata(new LbmMeta(), { timeoutMs: 30000 });
    await s.close();
    expect(await waiting).to.equal(ESHUTDOWN);

    const full = channel();
    const peer = startPeer(manager, { mode: 'idleServer', channel: full, capacity: 2 });
    peers.push(peer);
    await peer.next('ready');
    const c = await client(full);
    expect(await c.send(message(c, 'a'))).to.equal(0);
    expect(await c.send(message(c, 'b'))).to.equal(0);
    const blocked = c.send(message(c, 'c'), { timeoutMs: 30000 });
    await c.close();
    expect(await blocked).to.equal(ESHUTDOWN);
    expect(await c.send(message(c, 'd'))).to.equal(ESHUTDOWN);
  });

  it('yields -1 for corrupt descriptors another thread writes into the ring, and the next message arrives intact', async () => {
    const name = channel();
    const s = await server(name, { capacity: 512 });
    const u32 = (...words: number[]): number[] => words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff]);
    const f64 = (v: number): number[] => Array.from(new Uint8Array(new Float64Array([v]).buffer));
    // Slot payloads in the documented layout (transport/channels.ts, envelope.ts): u32 tag (1 inline,
    // 2 block reference), u32 0, then the envelope, as long as the slot says: u32 metaBytes,
    // u32 sendCount, u32 form (1 descriptors, 2 cereal frame), u32 recvCount, 32-byte send entries.
    const entry = (kind: number, flags: number, off: number, size: number): number[] => [...u32(kind, 0, 0, flags), ...f64(off), ...f64(size)];
    const cases: number[][] = [
      u32(9, 0, 1, 2), // unknown tag
      u32(1), // too short for an inline envelope
      u32(1, 0, 0x7fffffff, 0, 1, 0), // inline envelope claiming 2 GiB of metadata
      [...u32(1, 0, 0, 5, 1, 0), ...entry(2, 2, 0, 0)], // 5 entries do not fit in 48 bytes
      [...u32(1, 0, 0, 1, 1, 0), ...entry(7, 2, 0, 0)], // unknown entry kind
      [...u32(1, 0, 0, 1, 9, 0), ...entry(2, 2, 48, 0)], // unknown form
      [...u32(1, 0, 0, 1, 1, 0), ...entry(2, 2, 48, 99), ...u32(0, 0)], // staged bytes past the envelope
      [...u32(1, 0, 0, 1, 1, 0), ...entry(2, 2, 8, 4)], // staged bytes inside the header
      [...u32(1, 0, 0, 1, 1, 1), ...entry(2, 2, 48, 0)], // a recv entry that does not fit
      [...u32(1, 0, 0, 1, 1, 0), ...entry(2, 2, 48, 2 ** 53 + 2)], // a size past 2^53
      [...u32(2, 0, 77, 77), ...f64(0), ...u32(64, 0)], // block in an unknown region
      [...u32(2, 0, 0, 0), ...f64(2 ** 40), ...u32(64, 0)], // block far outside the region
      [...u32(2, 0, 0, 0), ...f64(12345), ...u32(64, 0)], // block not at a block start
      [...u32(1, 0, 16, 0, 2, 0), ...u32(0, 256, 0, 0)], // cereal frame form: a frame claiming 2^40 bulks
    ];
    // A valid descriptor-form envelope (one 5-byte XFER bulk, "hello"), mutated one byte at a time
    // past its tag: every mutation decodes or yields -1, never a throw.
    const valid = [...u32(1, 0, 0, 1, 1, 0), ...entry(2, 2, 48, 5), ...Array.from(enc.encode('hello')), 0, 0, 0];
    for (let i = 0; i < 120; i++) {
      const bytes = valid.slice();
      const at = 8 + ((i * 7919) % (valid.length - 8));
      bytes[at] = (bytes[at]! ^ (1 << (i % 8)) ^ (i * 37)) & 0xff;
      cases.push(bytes);
    }
    // A seeded batch of random slot payloads on top of the crafted ones.
    let x = 0x9e3779b9;
    for (let i = 0; i < 200; i++) {
      const n = 1 + (i % 200);
      const bytes: number[] = [];
      for (let j = 0; j < n; j++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        bytes.push(x & 0xff);
      }
      if (i % 2 === 0) bytes.splice(0, Math.min(4, bytes.length), ...u32(1 + (i % 4 === 0 ? 1 : 0)));
      cases.push(bytes);
    }
    const peer = startPeer(manager, { mode: 'corrupt', channel: name, cases });
    peers.push(peer);
    await peer.next('done');
    const before = manager.stats()[0].blocksInUse;
    let malformed = 0;
    for (let i = 0; i < cases.length; i++) {
      const m = new LbmMeta();
      const rc = await s.waitMetadata(m, { timeoutMs: 10000 });
      expect([0, LBM_MALFORMED]).to.include(rc);
      if (rc === LBM_MALFORMED) malformed++;
      else expect(await s.recvBulks(m)).to.be.oneOf([0, LBM_MALFORMED]);
    }
    expect(malformed).to.be.at.least(14);
    expect(cases.length - malformed, 'mutations of padding and flags still decode: the base envelope is valid').to.be.greaterThan(0);
    const c = await client(name);
    expect(await c.send(message(c, 'still fine'))).to.equal(0);
    expect(await receiveText(s)).to.equal('still fine');
    expect(await s.recvMetadata(new LbmMeta())).to.equal(EAGAIN);
    expect(manager.stats()[0].blocksInUse).to.equal(before);
  });

  it('refuses a second live server on a channel, and a rebound channel reaches clients made before', async () => {
    const name = channel();
    const first = await server(name);
    let err: LightbeamError | null = null;
    try {
      await server(name);
    } catch (e) {
      err = e as LightbeamError;
    }
    expect(err?.code).to.equal('ERR_LBM_BIND');
    expect(err?.message).to.contain(name);
    const c = await client(name);
    expect(await c.send(message(c, 'one'))).to.equal(0);
    expect(await receiveText(first)).to.equal('one');
    await first.close();
    expect(await c.send(message(c, 'nobody'))).to.equal(EAGAIN);
    const second = await server(name);
    expect(await c.send(message(c, 'two'), { timeoutMs: 1000 })).to.equal(0);
    expect(await receiveText(second)).to.equal('two');
  });

  it('keeps a worker alive while its only work is a waitMetadata without a timeout', async () => {
    const name = channel();
    const peer = startPeer(manager, { mode: 'waitForever', channel: name });
    peers.push(peer);
    await peer.next('ready');
    let exited = false;
    peer.worker.once('exit', () => {
      exited = true;
    });
    // Long enough for an idle worker to run out of work and exit if nothing held its loop.
    await new Promise((r) => setTimeout(r, 300));
    expect(exited, 'worker exited while parked').to.equal(false);
    const c = await client(name);
    expect(await c.send(message(c, 'wake up'))).to.equal(0);
    const done = await peer.next('done');
    expect([done.rc, done.size]).to.deep.equal([0, 7]);
  });

  it('waits for a closed channel to be bound again without starving the event loop', async () => {
    const name = channel();
    const first = await server(name);
    const c = await client(name);
    expect(await c.send(message(c, 'before'))).to.equal(0);
    expect(await receiveText(first)).to.equal('before');
    await first.close();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const pending = c.send(message(c, 'after rebind'), { timeoutMs: 10000 });
    // A send spinning through microtasks would keep timers from ever running.
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(ticker);
    expect(ticks, 'timer ticks while the send waited').to.be.at.least(5);
    const second = await server(name);
    expect(await pending).to.equal(0);
    expect(await receiveText(second)).to.equal('after rebind');
  });

  it('takes over a channel whose server stopped beating; the stale server gets ECONNRESET and cannot close it', async () => {
    const name = channel();
    const peer = startPeer(manager, { mode: 'staleServer', channel: name, blockMs: 2000 });
    peers.push(peer);
    await peer.next('ready');
    const fresh = await server(name);
    const done = await peer.next('done');
    expect(done.rc).to.equal(ECONNRESET);
    const c = await client(name);
    expect(await c.send(message(c, 'to the new server'))).to.equal(0);
    expect(await receiveText(fresh)).to.equal('to the new server');
  });

  it('waits for a region another thread just added instead of dropping a message that refers to it', async () => {
    const small = MemoryManager.create({ regionBytes: 1 << 20, pageBytes: 4096, maxRegions: 4, major: 9, replace: true });
    try {
      const name = channel();
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const peer = startPeer(small, { mode: 'regionLate', channel: name, gate: gate.buffer });
      peers.push(peer);
      await peer.next('ready');
      // Fill region 0 so that what follows lands in a new region the blocked worker has never seen.
      const held = [];
      for (let p = small.allocate(64 * 1024); p !== null && p.allocId.minor === 0; p = small.allocate(64 * 1024)) held.push(p);
      const exposed = small.allocateOrThrow(4096);
      expect(exposed.allocId.minor, 'exposed block in a new region').to.be.greaterThan(0);
      small.toFullPtr(exposed, 4096).ptr.set(enc.encode('in region 1!'));
      const c = await TransportFactory.getClient(name, Transport.kShm);
      endpoints.push(c);
      const m = new LbmMeta();
      const big = new Uint8Array(8192).fill(0x41);
      m.send.push(c.expose(big, big.length, BULK_XFER), c.expose(exposed, 4096, BULK_EXPOSE));
      expect(await c.send(m)).to.equal(0);
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      const done = await peer.next('done');
      expect(done.first, 'the synchronous receive must not drop the message').to.equal(EAGAIN);
      expect(done.rc).to.equal(0);
      expect(done.texts).to.deep.equal(['AAAAAAAAAAAA', 'in region 1!']);
      expect((done.regions as number[])[1]).to.equal(exposed.allocId.minor);
      for (const p of held) small.free(p);
    } finally {
      small.detach();
    }
  });

  it('lets a client send before the channel exists: EAGAIN at once, or waits for the server with a timeout', async () => {
    const name = channel();
    const c = await client(name);
    expect(await c.send(message(c, 'early'))).to.equal(EAGAIN);
    expect(await c.send(message(c, 'early'), { timeoutMs: 100 })).to.equal(ETIMEDOUT);
    const pending = c.send(message(c, 'late bind'), { timeoutMs: 10000 });
    const s = await server(name);
    expect(await pending).to.equal(0);
    expect(await receiveText(s)).to.equal('late bind');
  });
});
