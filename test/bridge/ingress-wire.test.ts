/**
 * The ingress against what arrives on its socket: the C++ wire from a raw zeromq.js PUSH (no
 * routing frame), a `ZeroMqClient` (plain and batching), and hostile frames, each of which is
 * counted and dropped while the next message arrives intact.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, LBM_MALFORMED, LBM_OK, encodeMeta } from '@lightbeam/core';
import { MemoryManager, ShmServer } from '@lightbeam/shm';
import type { UndeliveredReport } from '@lightbeam/zmq-bridge';
import { Bridge, ZeroMqClient, encodeRoute } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';
import { SeqMeta, fnv1a, payload } from './support/bridge-meta.js';

describe('bridge ingress wire', () => {
  let bridge: Bridge;
  let rx: ShmServer;
  let push: Push;
  const reports: UndeliveredReport[] = [];
  let channelSeq = 0;
  let channel = '';

  before(() => {
    if (MemoryManager.current() === null) MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  // Leave the thread without a memory manager for the next file, which makes its own.
  after(() => MemoryManager.current()?.detach());

  beforeEach(async () => {
    reports.length = 0;
    channel = `wire-${process.pid}-${channelSeq++}`;
    bridge = await Bridge.create({ listen: 'tcp://127.0.0.1:0', defaultChannel: channel, onUndelivered: (r) => reports.push(r) });
    rx = await ShmServer.create(channel);
    push = new Push({ linger: 0 });
    push.connect(`tcp://127.0.0.1:${bridge.port}`);
  });

  afterEach(async () => {
    push.close();
    await bridge.close();
    await rx.close();
  });

  function message(seq: number, size: number, exposeSize = 0): { frames: Uint8Array[]; checksum: number } {
    const m = new SeqMeta();
    const data = payload(seq, size);
    m.seq = seq;
    m.checksum = fnv1a(data);
    m.tag = 'raw';
    m.send.push({ data: null, size, flags: BULK_XFER });
    if (exposeSize > 0) m.send.push({ data: null, size: exposeSize, flags: BULK_EXPOSE });
    return { frames: [encodeMeta(m), data], checksum: m.checksum };
  }

  async function expectDelivered(seq: number, size: number): Promise<void> {
    const m = new SeqMeta();
    expect(await rx.waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
    expect([m.seq, m.tag, m.send[0].size]).to.deep.equal([seq, 'raw', size]);
    const buf = new Uint8Array(size);
    m.recv.push(rx.expose(buf, size, BULK_XFER));
    expect(await rx.recvBulks(m)).to.equal(LBM_OK);
    expect(fnv1a(buf)).to.equal(m.checksum);
  }

  it('delivers the plain C++ wire from a raw zeromq.js PUSH into the default channel', async () => {
    // The golden vector of test/core/golden.test.ts: LbmMeta with one 15-byte XFER bulk.
    const golden = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    await push.send([golden, new TextEncoder().encode('unit_test_magic')]);
    // The golden frame has no custom fields: decode it as a plain meta through the base fields.
    const plain = new (class extends SeqMeta {
      override serialize(): void {}
    })();
    expect(await rx.waitMetadata(plain, { timeoutMs: 10000 })).to.equal(LBM_OK);
    expect(plain.send.map((b) => [b.size, b.flags])).to.deep.equal([[15, BULK_XFER]]);
    expect(new TextDecoder().decode(plain.send[0].data!.ptr)).to.equal('unit_test_magic');
    await rx.recvBulks(plain);
    for (let seq = 0; seq < 20; seq++) await push.send(message(seq, 100 + seq * 5000, 64).frames);
    for (let seq = 0; seq < 20; seq++) await expectDelivered(seq, 100 + seq * 5000);
    expect(bridge.stats().ingress).to.include({ delivered: 21, malformed: 0, mismatched: 0 });
  });

  it('delivers what a ZeroMqClient sends, plain and batching', async () => {
    for (const batch of [false, true]) {
      const client = new ZeroMqClient('127.0.0.1', 'tcp', bridge.port!, { batch });
      for (let seq = 0; seq < 30; seq++) {
        const m = new SeqMeta();
        const data = payload(seq, 300);
        m.seq = seq;
        m.checksum = fnv1a(data);
        m.tag = 'raw';
        m.send.push(client.expose(data, 300, BULK_XFER));
        expect(await client.send(m, { timeoutMs: 5000 })).to.equal(LBM_OK);
      }
      await client.flush();
      for (let seq = 0; seq < 30; seq++) await expectDelivered(seq, 300);
      await client.close();
    }
  });

  it('counts and drops hostile frames, and delivers the next message intact', async () => {
    const good = message(7, 1000);
    const route = encodeRoute(channel);
    const badVersion = route.slice();
    badVersion[4] = 9;
    const badLength = new Uint8Array([...route, 0]);
    const claimsTwo = message(1, 10);
    const twoBulks = new SeqMeta();
    twoBulks.send.push({ data: null, size: 10, flags: BULK_XFER }, { data: null, size: 10, flags: BULK_XFER });
    const hugeCount = new Uint8Array(32).fill(0xff);
    const hostile: [string, Uint8Array[]][] = [
      ['short frame 0', [new Uint8Array([1, 2, 3])]],
      ['empty frame 0', [new Uint8Array(0), good.frames[1]]],
      ['huge bulk count', [hugeCount]],
      ['route with a bad version', [badVersion, ...good.frames]],
      ['route with a bad length', [badLength, ...good.frames]],
      ['route without metadata', [route]],
      ['one XFER bulk, no data frame', [claimsTwo.frames[0]]],
      ['one XFER bulk, two data frames', [claimsTwo.frames[0], claimsTwo.frames[1], claimsTwo.frames[1]]],
      ['two XFER bulks, one data frame', [encodeMeta(twoBulks), new Uint8Array(10)]],
      ['data frame of the wrong size', [claimsTwo.frames[0], new Uint8Array(11)]],
      ['route to a channel name that cannot exist', [encodeRoute('x'.repeat(96)).fill(0xff, 8), ...good.frames]],
    ];
    for (const [, frames] of hostile) await push.send(frames);
    await push.send(good.frames);
    await expectDelivered(7, 1000);
    const s = bridge.stats().ingress;
    expect(s.malformed + s.mismatched + s.unroutable).to.equal(hostile.length);
    expect(s).to.include({ delivered: 1, mismatched: 4 });
    expect(reports).to.have.length(hostile.length);
    expect(reports.every((r) => r.direction === 'ingress' && r.code === LBM_MALFORMED)).to.equal(true);
  });

  it('drops messages without a routing frame when no default channel is set', async () => {
    const noDefault = await Bridge.create({ listen: 'tcp://127.0.0.1:0', onUndelivered: (r) => reports.push(r) });
    const p = new Push({ linger: 0 });
    p.connect(`tcp://127.0.0.1:${noDefault.port}`);
    await p.send(message(1, 10).frames);
    const deadline = Date.now() + 10000;
    while (noDefault.stats().ingress.unroutable === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(noDefault.stats().ingress).to.include({ unroutable: 1, delivered: 0 });
    p.close();
    await noDefault.close();
  });
});
