/**
 * Issue #13 item 3: the ingress used to deliver one message at a time and wait `deliverTimeoutMs`
 * for each message routed to a channel nobody bound, so such traffic delayed every bound channel
 * (three messages: 15 s). Now each channel has its own bounded queue: a message for a bound
 * channel is delivered while messages for unbound ones still wait, what does not fit is dropped,
 * counted and reported, and a bound but slow channel still loses nothing (flow control).
 *
 * No test here measures time: the unbound channels' deliveries are made to wait a minute, so a
 * bound channel's message arriving while they are all still pending shows they did not block it.
 */
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, ESHUTDOWN, LBM_OK, encodeMeta } from '@lightbeam/core';
import { MemoryManager, ShmServer } from '@lightbeam/shm';
import type { UndeliveredReport } from '@lightbeam/zmq-bridge';
import { Bridge, encodeRoute } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';
import { SeqMeta, fnv1a, payload } from './support/bridge-meta.js';

/** A routed message for `channel` carrying `seq` and a checksummed payload. */
function routed(channel: string, seq: number, size = 100): Uint8Array[] {
  const m = new SeqMeta();
  const data = payload(seq, size);
  m.seq = seq;
  m.checksum = fnv1a(data);
  m.tag = channel;
  m.send.push({ data: null, size, flags: BULK_XFER });
  return [encodeRoute(channel), encodeMeta(m), data];
}

/** Receives one message from `rx`, checks its payload, and returns its sequence number. */
async function receiveSeq(rx: ShmServer, timeoutMs = 20000): Promise<number> {
  const m = new SeqMeta();
  const rc = await rx.waitMetadata(m, { timeoutMs });
  if (rc !== LBM_OK) throw new Error(`waitMetadata returned ${rc}`);
  const buf = new Uint8Array(m.send[0].size);
  m.recv = [rx.expose(buf, buf.byteLength, BULK_XFER)];
  expect(await rx.recvBulks(m)).to.equal(LBM_OK);
  expect(fnv1a(buf)).to.equal(m.checksum);
  return m.seq;
}

describe('bridge ingress per-channel queues (issue #13 item 3)', function () {
  this.timeout(60000);
  let serial = 0;
  let bridge: Bridge | null = null;
  let push: Push | null = null;
  const servers: ShmServer[] = [];
  const reports: UndeliveredReport[] = [];

  before(() => {
    if (MemoryManager.current() === null) MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  // Leave the thread without a memory manager for the next file, which makes its own.
  after(() => MemoryManager.current()?.detach());

  afterEach(async () => {
    push?.close();
    push = null;
    await bridge?.close();
    bridge = null;
    for (const s of servers.splice(0)) await s.close();
    reports.length = 0;
  });

  async function start(extra: Parameters<typeof Bridge.create>[0] = {}): Promise<Bridge> {
    bridge = await Bridge.create({ listen: 'tcp://127.0.0.1:0', deliverTimeoutMs: 60000, drainMs: 0, onUndelivered: (r) => reports.push(r), ...extra });
    push = new Push({ linger: 0 });
    push.connect(`tcp://127.0.0.1:${bridge.port}`);
    return bridge;
  }

  it('delivers to a bound channel while thousands of messages for an unbound one are waiting or dropped', async () => {
    const name = `q-${process.pid}-${serial++}`;
    const b = await start({ ingressQueue: { messages: 8 } });
    const rx = await ShmServer.create(`${name}-bound`);
    servers.push(rx);
    const flood = 2000;
    for (let i = 0; i < flood; i++) await push!.send(routed(`${name}-nobody`, i));
    await push!.send(routed(`${name}-bound`, 7));
    expect(await receiveSeq(rx)).to.equal(7);
    const s = b.stats().ingress;
    // Every flood message is either still queued (at most 8) or was dropped on arrival; none has
    // finished waiting for its channel, so none can have held up the bound channel's message.
    expect(s.undelivered).to.equal(0);
    expect(s.dropped).to.be.at.least(flood - 8);
    expect(s).to.include({ delivered: 1, received: flood + 1 });
    const drops = reports.filter((r) => r.code === EAGAIN);
    expect(drops).to.have.length(s.dropped);
    expect(drops[0].reason).to.match(/no server is bound to it and its queue is full/);
  });

  it('spreads a flood over more channels than it keeps queues for, and still delivers to the bound one', async () => {
    const name = `q-${process.pid}-${serial++}`;
    const b = await start({ ingressQueue: { messages: 2 } });
    const rx = await ShmServer.create(`${name}-bound`);
    servers.push(rx);
    for (let i = 0; i < 600; i++) await push!.send(routed(`${name}-n${i}`, i));
    await push!.send(routed(`${name}-bound`, 9));
    expect(await receiveSeq(rx)).to.equal(9);
    const s = b.stats().ingress;
    expect(s.undelivered).to.equal(0);
    expect(s.dropped).to.be.at.least(600 - 256);
    expect(reports.some((r) => /more than 256 channels have messages waiting/.test(r.reason))).to.equal(true);
  });

  it('bounds the bytes waiting for unbound channels together', async () => {
    const name = `q-${process.pid}-${serial++}`;
    const b = await start({ ingressQueue: { messages: 1000, bytes: 1 << 20, unboundBytes: 64 * 1024 } });
    const rx = await ShmServer.create(`${name}-bound`);
    servers.push(rx);
    // 40 channels x 4 messages of 4 KiB: 640 KiB offered, 64 KiB (plus one per empty queue) kept.
    for (let i = 0; i < 160; i++) await push!.send(routed(`${name}-n${i % 40}`, i, 4096));
    await push!.send(routed(`${name}-bound`, 3));
    expect(await receiveSeq(rx)).to.equal(3);
    const s = b.stats().ingress;
    expect(s.undelivered).to.equal(0);
    // At most 64 KiB of 4 KiB messages (plus the first message of each queue) were kept.
    expect(160 - s.dropped).to.be.at.most(40 + 16);
  });

  it('loses nothing for a bound channel whose server is slow: the reader waits for room instead', async () => {
    const name = `q-${process.pid}-${serial++}`;
    const b = await start({ ingressQueue: { messages: 4 } });
    const rx = await ShmServer.create(`${name}-slow`, { capacity: 4 });
    servers.push(rx);
    const n = 300;
    for (let i = 0; i < n; i++) await push!.send(routed(`${name}-slow`, i));
    for (let i = 0; i < n; i++) expect(await receiveSeq(rx)).to.equal(i);
    expect(b.stats().ingress).to.include({ delivered: n, dropped: 0, undelivered: 0 });
  });

  it('gives up what is still queued when it closes, reporting each with ESHUTDOWN', async () => {
    const name = `q-${process.pid}-${serial++}`;
    const b = await start({ ingressQueue: { messages: 5 } });
    const rx = await ShmServer.create(`${name}-bound`);
    servers.push(rx);
    for (let i = 0; i < 5; i++) await push!.send(routed(`${name}-nobody`, i));
    await push!.send(routed(`${name}-bound`, 1));
    expect(await receiveSeq(rx)).to.equal(1);
    await b.close();
    const s = b.stats().ingress;
    expect(s).to.include({ received: 6, delivered: 1, dropped: 0, undelivered: 5 });
    expect(reports.filter((r) => r.code === ESHUTDOWN)).to.have.length(5);
  });
});
