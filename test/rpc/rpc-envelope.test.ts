/**
 * The RPC envelope's bytes, as docs/rpc.md gives them for a C++ peer, and its decoding rules.
 */
import { expect } from 'chai';
import type { Archive } from '@lightbeam/core';
import { LbmMeta, RPC_KIND_CANCEL, RPC_KIND_REPLY, RpcEnvelope, decodeMeta, encodeMeta } from '@lightbeam/core';

class Num extends LbmMeta {
  n = 0;
  override serialize(ar: Archive): void {
    this.n = ar.i32(this.n);
  }
}

const hex = (u: Uint8Array): string => [...u].map((b) => b.toString(16).padStart(2, '0')).join(' ');
const unhex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((h) => parseInt(h, 16)));

const REQUEST = `
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
01 01
01 00 00 00 00 00 00 00
03 00 00 00 00 00 00 00 61 64 64
e8 03 00 00
00 00 00 00
02 00 00 00 00 00 00 00 72 31
00 00 00 00 00 00 00 00
05 00 00 00`;

describe('RpcEnvelope wire format (docs/rpc.md)', () => {
  it('encodes the documented 67-byte request', () => {
    const env = Object.assign(new RpcEnvelope(), { callId: 1, method: 'add', budgetMs: 1000, replyTo: 'r1', body: Object.assign(new Num(), { n: 5 }) });
    expect(hex(encodeMeta(env))).to.equal(hex(unhex(REQUEST)));
  });

  it('encodes the documented reply (62 bytes) and cancel (60 bytes)', () => {
    const reply = encodeMeta(Object.assign(new RpcEnvelope(), { kind: RPC_KIND_REPLY, callId: 1, body: Object.assign(new Num(), { n: 6 }) }));
    expect(reply.byteLength).to.equal(62);
    expect(hex(reply.subarray(16, 26))).to.equal('01 02 01 00 00 00 00 00 00 00');
    expect(hex(reply.subarray(58))).to.equal('06 00 00 00');
    const cancel = encodeMeta(Object.assign(new RpcEnvelope(), { kind: RPC_KIND_CANCEL, callId: 1, replyTo: 'r1' }));
    expect(cancel.byteLength).to.equal(60);
  });

  it('decodes the documented request, choosing the body by method', () => {
    const env = new RpcEnvelope((e) => (e.method === 'add' ? new Num() : new LbmMeta()));
    expect(decodeMeta(unhex(REQUEST), env)).to.equal(0);
    expect([env.callId, env.method, env.budgetMs, env.replyTo, (env.body as Num).n, env.bodyMalformed]).to.deep.equal([1, 'add', 1000, 'r1', 5, false]);
  });

  it('decodes each method and replyTo anew when it differs from the last one decoded, at the same length too', () => {
    // The decoder hands back the last string of a field when the bytes repeat it: a string of the
    // same length with other bytes, or non-ASCII bytes, must not be taken for it.
    const names: Array<[string, string]> = [
      ['add', 'r1'],
      ['add', 'r1'],
      ['adc', 'r2'],
      ['adc', 'r2'],
      // Three bytes as 'adc' is, one of them not ASCII.
      ['äd', 'r2'],
      ['ädd', 'rä'],
      ['ädd', 'rä'],
      ['a\u0000d', 'r\u007f'],
      ['add', 'r1'],
    ];
    for (const [method, replyTo] of names) {
      const bytes = encodeMeta(Object.assign(new RpcEnvelope(), { callId: 7, method, budgetMs: 1, replyTo, body: new Num() }));
      const env = new RpcEnvelope(() => new Num());
      decodeMeta(bytes, env);
      expect([env.method, env.replyTo]).to.deep.equal([method, replyTo]);
    }
  });

  it('rejects a bad version, an unknown kind, call id 0 and oversized strings as malformed', () => {
    const good = unhex(REQUEST);
    const bad = (at: number, bytes: number[]): number => {
      const f = good.slice();
      f.set(bytes, at);
      return decodeMeta(f, new RpcEnvelope(() => new Num()));
    };
    expect(bad(16, [2])).to.equal(-1);
    expect(bad(17, [4])).to.equal(-1);
    expect(bad(18, [0])).to.equal(-1);
    expect(bad(26, [0, 2])).to.equal(-1); // method of 512 bytes > 256
  });

  it('marks a missing body as malformed without losing the call id', () => {
    const frame = unhex(REQUEST).subarray(0, 63);
    const env = new RpcEnvelope(() => new Num());
    expect(decodeMeta(frame, env)).to.equal(0);
    expect([env.callId, env.bodyMalformed]).to.deep.equal([1, true]);
  });
});
