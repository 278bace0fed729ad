/**
 * RPC through the bridge (two bridges each way over tcp loopback, in one process sharing this
 * thread's memory, as test/bridge/pipeline.test.ts does): requests go to a local channel the
 * egress forwards, the server's replies go to the channel the client advertised (`replyTo`),
 * which the other egress forwards back. XFER bulks cross both ways; EXPOSE bulks arrive as
 * descriptors only.
 */
import { expect } from 'chai';
import type { Archive } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, RpcClient, RpcServer, Transport } from '@lightbeam/core';
import { ShmClient, ShmServer } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { withOwnMemory } from './support/own-memory.js';

class Tag extends LbmMeta {
  tag = '';
  override serialize(ar: Archive): void {
    this.tag = ar.string(this.tag);
  }
}

describe('RPC through the bridge (tcp loopback)', function () {
  this.timeout(60_000);
  withOwnMemory();
  const closers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
  });

  it('carries requests and replies across, with XFER bytes both ways and EXPOSE as descriptors', async () => {
    const inA = await Bridge.create({ listen: 'tcp://127.0.0.1:0' });
    const inB = await Bridge.create({ listen: 'tcp://127.0.0.1:0' });
    closers.push(inA, inB);
    const outA = await Bridge.create({ peer: `tcp://127.0.0.1:${inB.port}`, channels: [{ local: 'rpc-req-out', remote: 'rpc-req-in' }] });
    const outB = await Bridge.create({ peer: `tcp://127.0.0.1:${inA.port}`, channels: [{ local: 'rpc-rep-out', remote: 'rpc-rep-in' }] });
    closers.push(outA, outB);

    // Host B: the server listens where B's ingress delivers requests.
    const server = await RpcServer.listen(Transport.kShm, 'rpc-req-in');
    closers.push(server);
    let exposeSeen: string | null = null;
    server.handle<Tag>(
      'upper',
      (req) => {
        const x = req.send[0];
        exposeSeen = req.send[1] === undefined ? null : `${req.send[1].size}:${req.send[1].flags}:${req.send[1].data === null ? 'null' : 'data'}`;
        const text = new TextDecoder().decode(x?.data?.ptr.subarray(0, x.size)).toUpperCase();
        const bytes = new TextEncoder().encode(text);
        const reply = Object.assign(new Tag(), { tag: `${req.tag}!` });
        reply.send.push({ data: { ptr: bytes, shm: { allocId: { major: 0, minor: 0 }, off: 0 } }, size: bytes.byteLength, flags: BULK_XFER });
        return reply;
      },
      { create: () => new Tag() },
    );

    // Host A: requests to the egress channel; replies arrive on A's ingress channel, and the
    // address the server answers to is B's egress channel.
    const replies = await ShmServer.create('rpc-rep-in');
    const client = new RpcClient(new ShmClient('rpc-req-out'), replies, 'rpc-rep-out');
    closers.push(client);

    const req = Object.assign(new Tag(), { tag: 'hello' });
    const text = new TextEncoder().encode('across the bridge');
    req.send.push(client.requests.expose(text, text.byteLength, BULK_XFER), { data: null, size: 4096, flags: BULK_EXPOSE });
    const replyMetas = await Promise.all(Array.from({ length: 20 }, () => client.call('upper', req, { reply: () => new Tag(), timeoutMs: 20_000 })));
    for (const reply of replyMetas) {
      expect(reply.tag).to.equal('hello!');
      expect(new TextDecoder().decode(reply.send[0]?.data?.ptr)).to.equal('ACROSS THE BRIDGE');
    }
    expect(exposeSeen).to.equal(`4096:${BULK_EXPOSE}:null`);
  });
});
