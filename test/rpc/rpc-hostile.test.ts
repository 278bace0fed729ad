/**
 * Hostile requests and replies, sent as raw frames over every transport: random bytes,
 * truncations, bad versions, kinds and ids, oversized lengths, malformed bodies, forged replies.
 * The server keeps serving and the client keeps matching; everything is counted, nothing throws.
 */
import { expect } from 'chai';
import type { Client } from '@lightbeam/core';
import { BULK_XFER, LbmMeta, LightbeamError, RPC_KIND_CANCEL, RPC_KIND_REPLY, RpcEnvelope, RpcStatus, connectReply, encodeMeta } from '@lightbeam/core';
import { Prng } from '../support/prng.js';
import type { RpcPair } from './support/rpc-pair.js';
import { RPC_TRANSPORTS } from './support/rpc-pair.js';
import { withOwnMemory } from './support/own-memory.js';
import { NumMeta } from './support/num-meta.js';

function envelope(fields: Partial<RpcEnvelope>): Uint8Array {
  const env = Object.assign(new RpcEnvelope(), fields);
  return encodeMeta(env);
}

async function sendFrames(client: Client, meta: Uint8Array, xfer: Uint8Array[] = []): Promise<void> {
  const rc = await client.sendRaw({ meta, xfer, bulks: xfer.map((f) => ({ data: null, size: f.byteLength, flags: BULK_XFER })) }, { timeoutMs: 5000 });
  expect(rc).to.equal(0);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).to.be.instanceOf(LightbeamError);
    return `${(err as LightbeamError).code}: ${(err as Error).message}`;
  }
}

/** The address a raw client uses to reach the RPC server of `p`. */
function serverAddress(p: RpcPair): string {
  const s = p.server.server as unknown as { getEndpoint?: () => string | null; getAddress(): string };
  return s.getEndpoint?.() ?? s.getAddress();
}

for (const t of RPC_TRANSPORTS) {
  describe(`RPC hostile peers over ${t.name}`, function () {
    this.timeout(60_000);
    withOwnMemory();
    let p: RpcPair;
    let raw: Client | null = null;
    afterEach(async () => {
      await raw?.close();
      raw = null;
      await p?.close();
    });

    it('the server survives hostile requests and keeps answering valid calls', async () => {
      p = await t.make({ replyTimeoutMs: 200 });
      p.server.handle<NumMeta>('inc', (req) => Object.assign(new NumMeta(), { n: req.n + 1 }), { create: () => new NumMeta() });
      raw = await connectReply(p.server.transport, serverAddress(p));
      const rng = new Prng(15);
      const valid = envelope({ callId: 7, method: 'inc', replyTo: p.client.replyTo });
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 20; i++) frames.push(rng.bytes(rng.int(1, 200)));
      for (let cut = 1; cut < valid.byteLength; cut += 3) frames.push(valid.slice(0, cut));
      const patched = (at: number, bytes: number[]): Uint8Array => {
        const f = valid.slice();
        f.set(bytes, at);
        return f;
      };
      // After the empty vectors (16 bytes): version at 16, kind at 17, callId at 18, method length at 26.
      frames.push(patched(16, [2]), patched(17, [9]), patched(18, [0, 0, 0, 0, 0, 0, 0, 0]), patched(26, [0, 0, 0, 0, 0, 1, 0, 0]));
      frames.push(envelope({ callId: 8, method: 'inc', replyTo: 'not a reachable address' }));
      frames.push(envelope({ callId: 9, method: 'inc', replyTo: '' }));
      frames.push(envelope({ callId: 10, kind: RPC_KIND_REPLY, replyTo: p.client.replyTo }));
      frames.push(envelope({ callId: 11, kind: RPC_KIND_CANCEL, replyTo: p.client.replyTo }));
      // A well-formed envelope whose body is missing: answered BAD_REQUEST (unmatched at the client).
      frames.push(envelope({ callId: 1_000_001, method: 'inc', replyTo: p.client.replyTo }));
      for (const f of frames) await sendFrames(raw, f);
      // A request announcing an XFER bulk it does not carry.
      const liar = new RpcEnvelope();
      Object.assign(liar, { callId: 1_000_002, method: 'inc', replyTo: p.client.replyTo, body: Object.assign(new NumMeta(), { n: 1 }) });
      liar.send = [{ data: null, size: 10, flags: BULK_XFER }];
      await sendFrames(raw, encodeMeta(liar)).catch(() => undefined);
      const reply = await p.client.call('inc', Object.assign(new NumMeta(), { n: 41 }), { reply: () => new NumMeta(), timeoutMs: 10_000 });
      expect(reply.n).to.equal(42);
      expect(p.server.stats.malformed).to.be.greaterThan(20);
      expect(p.server.stats.refused).to.be.at.least(1);
      expect(p.server.stats.handled).to.be.at.least(1);
    });

    it('a caller whose reply address is dead does not hold a handler slot while its reply waits', async () => {
      p = await t.make({ maxConcurrent: 1, replyTimeoutMs: 30_000 });
      p.server.handle('ok', () => new LbmMeta());
      raw = await connectReply(p.server.transport, serverAddress(p));
      const dead = t.name === 'kShm' ? `nobody-listens-${process.pid}-${Date.now()}` : 'tcp://127.0.0.1:1';
      for (let id = 1; id <= 3; id++) await sendFrames(raw, envelope({ callId: id, method: 'ok', replyTo: dead }));
      // With the only slot held until a dead reply gave up (30 s), this call would time out.
      expect(await code(p.client.call('ok', new LbmMeta(), { timeoutMs: 10_000 }))).to.equal('resolved');
      expect(p.server.stats.handled).to.be.at.least(4);
    });

    it('the client survives forged replies: unknown ids are counted, bad ones fail only their call', async () => {
      p = await t.make();
      p.server.handle('hang', () => new Promise<void>(() => {}));
      raw = await connectReply(p.server.transport, p.client.replyTo);
      const first = code(p.client.call('hang', new LbmMeta(), { timeoutMs: 20_000 })); // callId 1
      const second = code(p.client.call('hang', new LbmMeta(), { reply: () => new NumMeta(), timeoutMs: 20_000 })); // callId 2
      const rng = new Prng(16);
      for (let i = 0; i < 10; i++) await sendFrames(raw, rng.bytes(rng.int(1, 100)));
      await sendFrames(raw, envelope({ kind: RPC_KIND_REPLY, callId: 999 }));
      await sendFrames(raw, envelope({ callId: 1, method: 'x', replyTo: 'y' })); // a request, not a reply
      await sendFrames(raw, envelope({ kind: RPC_KIND_REPLY, callId: 1, status: 99, error: 'forged' }));
      await sendFrames(raw, envelope({ kind: RPC_KIND_REPLY, callId: 1, status: RpcStatus.OK }));
      // OK status but no body bytes for the NumMeta the caller expects.
      await sendFrames(raw, envelope({ kind: RPC_KIND_REPLY, callId: 2, status: RpcStatus.OK }));
      expect(await first).to.match(/^ERR_LBM_RPC_HANDLER: .*forged.*unknown status 99/);
      expect(await second).to.match(/^ERR_LBM_RPC_BAD_REPLY/);
      // A real call still works after all that.
      p.server.handle('ok', () => new LbmMeta());
      expect(await code(p.client.call('ok', new LbmMeta(), { timeoutMs: 10_000 }))).to.equal('resolved');
      expect(p.client.stats.unmatched).to.be.at.least(3);
      expect(p.client.stats.malformed).to.be.at.least(5);
    });
  });
}
