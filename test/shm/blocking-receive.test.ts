/**
 * `waitMetadataSync`: a worker that blocks its thread to receive is woken by the send itself,
 * keeps its channel while it blocks, and gets the usual codes for timeout and close.
 */
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { BULK_XFER, ETIMEDOUT, ESHUTDOWN, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import { MemoryManager, ShmServer } from '@lightbeam/shm';
import { SeqMeta } from '../support/metas.js';
import type { Peer } from './support/peer.js';
import { startPeer } from './support/peer.js';

const enc = new TextEncoder();

describe('shm blocking receive (waitMetadataSync)', function () {
  this.timeout(60000);
  let manager: MemoryManager;
  let peers: Peer[] = [];
  let serial = 0;
  let name = '';

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 16 << 20 });
    name = `block-${process.pid}-${serial++}`;
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.worker.terminate()));
    peers = [];
    manager.detach();
  });

  function numbered(client: Client, seq: number): SeqMeta {
    const m = new SeqMeta();
    m.seq = seq;
    const body = enc.encode(`block-${seq}`);
    m.send.push(client.expose(body, body.length, BULK_XFER));
    return m;
  }

  it('wakes a blocked worker at send, while the sender itself blocks until the acknowledgement', async () => {
    const count = 200;
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    const peer = startPeer(manager, { mode: 'blockingAck', channel: name, count, ctl: ctl.buffer });
    peers.push(peer);
    await peer.next('ready');
    const client = await TransportFactory.getClient(name, Transport.kShm);
    const acks: number[] = [];
    for (let i = 0; i < count; i++) {
      expect(client.sendNow(numbered(client, i))).to.equal(0);
      // Block this thread (no microtask, no timer runs): only a doorbell rung inside sendNow can
      // wake the worker, whose heartbeat is a minute away.
      Atomics.wait(ctl, 0, i, 10000);
      acks.push(Atomics.load(ctl, 0));
    }
    expect(acks).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
    const done = await peer.next('done');
    expect(done.rcs).to.deep.equal(new Array(count).fill(0));
    expect(done.after, 'nothing more: ETIMEDOUT').to.equal(ETIMEDOUT);
    expect(done.closed, 'after close').to.equal(ESHUTDOWN);
    await client.close();
  });

  it('keeps proving its server alive while it blocks, so a new bind cannot take the channel over', async () => {
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    const peer = startPeer(manager, { mode: 'blockingAck', channel: name, count: 1, ctl: ctl.buffer, heartbeatMs: 50, timeoutMs: 3000 });
    peers.push(peer);
    await peer.next('ready');
    // The worker blocks for up to 3 s; a bind sees its heartbeat move within 3 periods.
    let err: unknown = null;
    try {
      const taker = await ShmServer.create(name, { heartbeatMs: 50 });
      await taker.close();
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string } | null)?.code).to.equal('ERR_LBM_BIND');
    const client = await TransportFactory.getClient(name, Transport.kShm);
    expect(client.sendNow(numbered(client, 0))).to.equal(0);
    const done = await peer.next('done');
    expect(done.rcs).to.deep.equal([0]);
    await client.close();
  });

  it('times out, answers ESHUTDOWN after close, and keeps the async API usable in between', async () => {
    const server: Server = await TransportFactory.getServer(name, Transport.kShm);
    const client = await TransportFactory.getClient(name, Transport.kShm);
    const meta = new SeqMeta();
    expect(server.waitMetadataSync(meta, 30)).to.equal(ETIMEDOUT);
    expect(() => server.waitMetadataSync(meta, -1)).to.throw(RangeError);
    expect(client.sendNow(numbered(client, 5))).to.equal(0);
    expect(server.waitMetadataSync(meta, 1000)).to.equal(0);
    expect(meta.seq).to.equal(5);
    expect(await client.send(numbered(client, 6))).to.equal(0);
    expect(await server.waitMetadata(meta, { timeoutMs: 1000 })).to.equal(0);
    expect(meta.seq).to.equal(6);
    await server.close();
    expect(server.waitMetadataSync(new LbmMeta(), 1000)).to.equal(ESHUTDOWN);
    await client.close();
  });
});
