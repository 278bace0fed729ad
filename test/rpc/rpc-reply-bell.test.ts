/**
 * The reply bell (issue 20): a server given `replyBell` rings it once per burst of replies
 * instead of its caller being woken by the first reply of the burst, and a caller waiting on it
 * still learns of its close. Counted, not timed.
 */
import { expect } from 'chai';
import { LbmMeta, REPLY_BELL_BYTES, RpcReplyBell } from '@lightbeam/core';
import type { RpcPair } from './support/rpc-pair.js';
import { RPC_TRANSPORTS } from './support/rpc-pair.js';
import { withOwnMemory } from './support/own-memory.js';
import { NumMeta } from './support/num-meta.js';

const kShm = RPC_TRANSPORTS.find((t) => t.name === 'kShm')!;
const BURST = 32;

describe('RPC reply bell (kShm)', function () {
  this.timeout(20_000);
  withOwnMemory();
  let pair: RpcPair | null = null;
  afterEach(async () => {
    await pair?.close();
    pair = null;
  });

  it(`rings once for a burst of ${BURST} replies, each reply matched to its call`, async () => {
    const buffer = new SharedArrayBuffer(REPLY_BELL_BYTES);
    const serverBell = new RpcReplyBell(buffer);
    const clientBell = new RpcReplyBell(buffer);
    pair = await kShm.make({ replyBell: serverBell }, { replyBell: clientBell });
    pair.server.handle<NumMeta>('double', (req) => Object.assign(new NumMeta(), { n: req.n * 2 }), { create: () => new NumMeta() });
    // One call first, so the client's loop has settled into its wait on the bell.
    expect((await pair.client.call('double', Object.assign(new NumMeta(), { n: 1 }), { reply: () => new NumMeta() })).n).to.equal(2);
    const ringsBefore = serverBell.stats.wakes + serverBell.stats.quiet;
    // All requests are in the server's ring before its loop runs (same thread): one drain answers them.
    const calls = Array.from({ length: BURST }, (_, i) => pair!.client.call('double', Object.assign(new NumMeta(), { n: i }), { reply: () => new NumMeta() }));
    const replies = await Promise.all(calls);
    expect(replies.map((r) => r.n)).to.deep.equal(Array.from({ length: BURST }, (_, i) => 2 * i));
    const rings = serverBell.stats.wakes + serverBell.stats.quiet - ringsBefore;
    expect(rings).to.be.greaterThan(0);
    // A ring per reply would be BURST rings.
    expect(rings).to.be.lessThan(4);
    // Whether the caller waited on the bell here is not asserted: client and server share this
    // thread, and on an idle machine the caller's event-loop turn lets the server answer before
    // the caller would wait. A caller waiting on the bell is the next test's subject.
  });

  it('ends the wait of a client on the bell when it closes, rejecting its calls in flight', async () => {
    const buffer = new SharedArrayBuffer(REPLY_BELL_BYTES);
    pair = await kShm.make({ replyBell: new RpcReplyBell(buffer) }, { replyBell: new RpcReplyBell(buffer) });
    pair.server.handle('never', () => new Promise<LbmMeta>(() => undefined));
    const pending = pair.client.call('never', new LbmMeta()).then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    // Let the request reach the server and the client's loop wait on the bell.
    await new Promise((r) => setTimeout(r, 20));
    await pair.client.close();
    expect(await pending).to.equal('ERR_LBM_CLOSED');
  });

  it('refuses a buffer that is not a SharedArrayBuffer of REPLY_BELL_BYTES', () => {
    expect(() => new RpcReplyBell(new SharedArrayBuffer(8))).to.throw(RangeError, /RpcReplyBell buffer/);
    expect(() => new RpcReplyBell(new ArrayBuffer(REPLY_BELL_BYTES) as unknown as SharedArrayBuffer)).to.throw(RangeError, /RpcReplyBell buffer/);
  });
});
