/**
 * The bridge's per-message work in its thread, counted rather than timed: the promises an egress
 * and an ingress make for each message they forward (issue 21: a 64 B round trip through two
 * bridges made 32 promises per bridge thread, against 6 for a postMessage + zeromq.js pipeline;
 * each is a microtask turn and garbage on the path of every message).
 *
 * Egress and ingress run in this thread over tcp loopback; the test sends each message with
 * `sendNow` and waits for it on the far channel, one at a time, as a round trip does. The same
 * loop over a local channel, without the bridge, shows what the loop itself costs (the message is
 * there when it waits: one promise).
 */
import { createHook } from 'node:async_hooks';
import { expect } from 'chai';
import { BULK_XFER, EMSGSIZE, LBM_OK, LbmMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import type { UndeliveredReport } from '@lightbeam/zmq-bridge';
import { Bridge } from '@lightbeam/zmq-bridge';

/** Whether the promise being made is made by a frame of the library (its compiled packages). */
function ours(): boolean {
  const stack = new Error().stack ?? '';
  return stack.includes('/packages/') && !stack.includes('/node_modules/');
}

/** Messages counted per loop, after WARMUP not counted. */
const COUNT = 300;
const WARMUP = 50;
/**
 * Most promises the library may make in this thread per message: the egress (its park on the
 * ring, its send), the ingress (its socket receive, the delivery) and the receiving channel's own
 * park. Measured with async hooks on (each await then makes a promise too): 31, and 38.5 before
 * the ingress stopped racing each receive against its signal (a promise, two abort listeners)
 * and offering each message of a batch through an async call, and before the egress stopped
 * taking the client's general send path (wait spec, ordering chain: four promises).
 */
const MAX_PROMISES_PER_MESSAGE = 34;

describe('bridge hot path: promises per forwarded message (issue 21)', function () {
  this.timeout(30000);
  let ingress: Bridge | null = null;
  let egress: Bridge | null = null;
  const closers: { close(): Promise<void> }[] = [];

  before(() => {
    if (MemoryManager.current() === null) MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  after(() => MemoryManager.current()?.detach());

  afterEach(async () => {
    await egress?.close();
    await ingress?.close();
    for (const c of closers.splice(0)) await c.close();
    egress = ingress = null;
  });

  /** Promises made (in this thread) per message sent on `tx` and received on `rx`, one at a time. */
  async function promisesPerMessage(tx: ShmClient, rx: ShmServer): Promise<number> {
    const data = new Uint8Array(64);
    const meta = new LbmMeta();
    meta.send.push(tx.expose(data, data.length, BULK_XFER));
    const got = new LbmMeta();
    let promises = 0;
    const hook = createHook({
      init: (_id, type) => {
        // Only the library's own: tsx, mocha and Node's internals make promises of their own
        // (tsx sweeps its disk cache at times) that are no part of the path measured.
        if (type === 'PROMISE' && ours()) promises++;
      },
    });
    for (let i = 0; i < WARMUP + COUNT; i++) {
      if (i === WARMUP) hook.enable();
      data[0] = i & 0xff;
      expect(tx.sendNow(meta)).to.equal(LBM_OK);
      expect(await rx.waitMetadata(got, { timeoutMs: 5000 })).to.equal(LBM_OK);
      const view = { data: null, size: 64, flags: BULK_XFER };
      got.recv.push(view);
      expect(rx.recvBulksNow(got)).to.equal(LBM_OK);
      expect((view.data as unknown as { ptr: Uint8Array }).ptr[0], `message ${i}`).to.equal(i & 0xff);
      rx.release(got);
    }
    hook.disable();
    return promises / COUNT;
  }

  it('makes no more promises per message than the lean path needs (egress + ingress + receiver)', async () => {
    const local = await promisesPerMessage(...(await pair('hp-local', 'hp-local')));
    ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0' });
    egress = await Bridge.create({ peer: `tcp://127.0.0.1:${ingress.port}`, channels: [{ local: 'hp-out', remote: 'hp-in' }] });
    const bridged = await promisesPerMessage(...(await pair('hp-out', 'hp-in')));
    expect(egress.stats().egress.forwarded).to.equal(WARMUP + COUNT);
    expect(local, 'the same loop without the bridge').to.be.at.most(2);
    expect(bridged, `bridged ${bridged} per message, local ${local}`).to.be.at.most(MAX_PROMISES_PER_MESSAGE);
  });

  it('still refuses a frame over the peer\'s size limit with EMSGSIZE once batches go straight to the socket', async () => {
    const reports: UndeliveredReport[] = [];
    ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0', maxMessageBytes: 64 * 1024 });
    egress = await Bridge.create({ peer: `tcp://127.0.0.1:${ingress.port}`, channels: [{ local: 'big-out', remote: 'big-in' }], onUndelivered: (r) => reports.push(r) });
    const [tx, rx] = await pair('big-out', 'big-in');
    const sizes = [64, 64, 100 * 1024, 64];
    for (let i = 0; i < sizes.length; i++) {
      const data = new Uint8Array(sizes[i]).fill(i + 1);
      const meta = new LbmMeta();
      meta.send.push(tx.expose(data, data.length, BULK_XFER));
      expect(await tx.send(meta, { timeoutMs: 5000 })).to.equal(LBM_OK);
      if (sizes[i] > 64 * 1024) {
        // Past the first send the egress writes to the socket itself: a frame the peer would drop
        // (and with it the connection) must still be refused here and reported.
        const deadline = Date.now() + 5000;
        while (reports.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        expect(reports.map((r) => r.code)).to.deep.equal([EMSGSIZE]);
        continue;
      }
      const got = new LbmMeta();
      expect(await rx.waitMetadata(got, { timeoutMs: 5000 }), `message ${i}`).to.equal(LBM_OK);
      const view = { data: null, size: sizes[i], flags: BULK_XFER };
      got.recv.push(view);
      expect(rx.recvBulksNow(got)).to.equal(LBM_OK);
      expect((view.data as unknown as { ptr: Uint8Array }).ptr[0], `message ${i}`).to.equal(i + 1);
      rx.release(got);
    }
    expect(egress.stats().egress.forwarded).to.equal(3);
  });

  async function pair(out: string, into: string): Promise<[ShmClient, ShmServer]> {
    const rx = await ShmServer.create(into);
    const tx = new ShmClient(out);
    closers.push(tx, rx);
    return [tx, rx];
  }
});
