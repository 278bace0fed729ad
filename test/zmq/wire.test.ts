/**
 * The wire (docs/porting.md) against raw zeromq.js sockets: frames a C++ peer would see,
 * frames a C++ peer would send, the batch marker, limits, and CURVE.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { BULK_XFER, ETIMEDOUT, LbmMeta } from '@lightbeam/core';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { BATCH_MARKER_BYTES, ZeroMqClient, isBatchMarker } from '@lightbeam/zmq-bridge';
import { Pull, Push, curveKeyPair } from 'zeromq';
import { PROTOCOLS, clientFor, closeAll, makeServer, uniqueAddress } from './support/zmq-pair.js';
import { RequestMeta } from '../support/metas.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const GOLDEN_MAGIC = '0100000000000000' + '0f00000000000000' + '02000000' + '0000000000000000';
const GOLDEN_CUSTOM = '0100000000000000' + '0d00000000000000' + '02000000' + '0000000000000000' + '2a000000' + '0700000000000000' + hex(Buffer.from('test_op'));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

for (const protocol of PROTOCOLS) {
  describe(`ZeroMQ wire over ${protocol}`, () => {
    let pull: Pull | undefined;
    let push: Push | undefined;
    let client: ZeroMqClient | undefined;
    let server: ZeroMqServer | undefined;
    let rawIpcPath: string | undefined;
    afterEach(async () => {
      pull?.close();
      push?.close();
      pull = push = undefined;
      await closeAll(client, server);
      client = server = undefined;
      // A raw zeromq.js socket leaves its ipc file behind (a ZeroMqServer removes its own).
      if (rawIpcPath !== undefined) rmSync(rawIpcPath, { force: true });
      rawIpcPath = undefined;
    });

    async function rawPull(): Promise<string> {
      pull = new Pull({ linger: 0 });
      const addr = uniqueAddress(protocol);
      if (protocol === 'ipc') rawIpcPath = addr;
      await pull.bind(protocol === 'tcp' ? `tcp://${addr}:*` : `${protocol}://${addr}`);
      const ep = pull.lastEndpoint as string;
      client = await ZeroMqClient.create(protocol === 'tcp' ? '127.0.0.1' : addr, protocol, protocol === 'tcp' ? Number(ep.split(':').pop()) : 1);
      return ep;
    }

    it('sends the golden 28-byte frame 0 and the data frame a C++ server expects', async () => {
      await rawPull();
      const m = new LbmMeta();
      m.send.push(client!.expose(utf8('unit_test_magic'), 15, BULK_XFER));
      expect(await client!.send(m, { timeoutMs: 5000 })).to.equal(0);
      const frames = await pull!.receive();
      expect(frames.map(hex)).to.deep.equal([GOLDEN_MAGIC, hex(utf8('unit_test_magic'))]);
    });

    it('sends the golden 47-byte custom meta, then an empty meta as one 16-byte frame', async () => {
      await rawPull();
      const m = new RequestMeta();
      m.requestId = 42;
      m.operation = 'test_op';
      m.send.push(client!.expose(utf8('Hello, World!'), 13, BULK_XFER));
      expect(await client!.send(m, { timeoutMs: 5000 })).to.equal(0);
      expect(await client!.send(new LbmMeta(), { timeoutMs: 5000 })).to.equal(0);
      expect((await pull!.receive()).map(hex)).to.deep.equal([GOLDEN_CUSTOM, hex(utf8('Hello, World!'))]);
      expect((await pull!.receive()).map(hex)).to.deep.equal(['00'.repeat(16)]);
    });

    it('receives golden frames fed by a raw PUSH as a C++ client sends them', async () => {
      server = await makeServer(protocol);
      push = new Push({ linger: 0 });
      push.connect(server.endpoint as string);
      await push.send([Buffer.from(GOLDEN_CUSTOM, 'hex'), Buffer.from('Hello, World!')]);
      const got = new RequestMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
      expect([got.requestId, got.operation]).to.deep.equal([42, 'test_op']);
      const buf = new Uint8Array(13);
      got.recv.push(server.expose(buf, 13, got.send[0].flags));
      expect(await server.recvBulks(got)).to.equal(0);
      expect(Buffer.from(buf).toString()).to.equal('Hello, World!');
    });

    it('marks a batch with an 8-byte frame 0, shorter than any C++ metadata frame', async () => {
      await rawPull();
      await client!.close();
      const addr = (pull!.lastEndpoint as string).replace(/^\w+:\/\//, '');
      client = await ZeroMqClient.create(protocol === 'tcp' ? '127.0.0.1' : addr, protocol, protocol === 'tcp' ? Number(addr.split(':').pop()) : 1, { batch: true });
      for (let i = 0; i < 3; i++) {
        const m = new LbmMeta();
        m.send.push(client.expose(utf8(`small ${i}`), 7, BULK_XFER));
        expect(await client.send(m)).to.equal(0);
      }
      const frames = await pull!.receive();
      expect(frames).to.have.length(2);
      expect(frames[0].byteLength).to.equal(BATCH_MARKER_BYTES).and.be.below(16);
      expect(isBatchMarker(frames[0])).to.equal(true);
      expect(frames[1].readUInt32LE(0)).to.equal(3);
    });
  });
}

describe('ZeroMQ limits', () => {
  let push: Push | undefined;
  let client: ZeroMqClient | undefined;
  let server: ZeroMqServer | undefined;
  afterEach(async () => {
    push?.close();
    push = undefined;
    await closeAll(client, server);
    client = server = undefined;
  });

  it('refuses a frame claiming a 2^60-byte bulk with -1, and the next message arrives intact', async () => {
    server = await makeServer('tcp');
    push = new Push({ linger: 0 });
    push.connect(server.endpoint as string);
    const lie = Buffer.alloc(28);
    lie.writeBigUInt64LE(1n, 0);
    lie.writeBigUInt64LE(1n << 60n, 8);
    lie.writeUInt32LE(BULK_XFER, 16);
    await push.send([lie, Buffer.from('tiny')]);
    await push.send([Buffer.from(GOLDEN_MAGIC, 'hex'), Buffer.from('unit_test_magic')]);
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 5000 })).to.equal(-1);
    const ok = new LbmMeta();
    expect(await server.waitMetadata(ok, { timeoutMs: 5000 })).to.equal(0);
    expect(ok.send[0].size).to.equal(15);
    expect(server.counters.malformed).to.equal(1);
  });

  it('applies archive limits from the options: a bulk above maxBulkSize is -1', async () => {
    server = await makeServer('tcp', { limits: { maxBulkSize: 1000 } });
    // A sender that does not negotiate (as the C++ client): a negotiating one refuses it itself.
    client = await clientFor(server, 'tcp', { negotiation: false });
    const m = new LbmMeta();
    m.send.push(client.expose(new Uint8Array(2000), 2000, BULK_XFER));
    expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 5000 })).to.equal(-1);
  });

  it('drops a message above maxMessageSize (ZMQ_MAXMSGSIZE) and still receives small ones', async () => {
    server = await makeServer('tcp', { maxMessageSize: 1024 });
    client = await clientFor(server, 'tcp', { linger: 0, negotiation: false });
    const big = new LbmMeta();
    big.send.push(client.expose(new Uint8Array(4096), 4096, BULK_XFER));
    expect(await client.send(big, { timeoutMs: 5000 })).to.equal(0);
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 300 })).to.equal(ETIMEDOUT);
    // libzmq dropped the connection; the client reconnects by itself and small messages flow.
    const small = new LbmMeta();
    small.send.push(client.expose(utf8('small'), 5, BULK_XFER));
    expect(await client.send(small, { timeoutMs: 5000 })).to.equal(0);
    const got = new LbmMeta();
    expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
    expect(got.send[0].size).to.equal(5);
  });
});

describe('ZeroMQ CURVE', () => {
  let clients: ZeroMqClient[] = [];
  let server: ZeroMqServer | undefined;
  afterEach(async () => {
    await closeAll(...clients, server);
    clients = [];
    server = undefined;
  });

  it('delivers with the server public key and nothing with a wrong one', async () => {
    const keys = curveKeyPair();
    server = await makeServer('tcp', { curve: { secretKey: keys.secretKey, publicKey: keys.publicKey } });
    // Senders that do not negotiate, as the C++ client: the first send goes out at once, onto the
    // pipe libzmq made at connect (a negotiating one first waits for an answer these handshakes
    // cannot bring, and by then the failed handshakes may have torn that pipe down).
    const wrong = await clientFor(server, 'tcp', { curve: { serverKey: curveKeyPair().publicKey }, linger: 0, negotiation: false });
    const plain = await clientFor(server, 'tcp', { linger: 0, negotiation: false });
    clients.push(wrong, plain);
    for (const c of [wrong, plain]) {
      const m = new LbmMeta();
      m.send.push(c.expose(utf8('intruder'), 8, BULK_XFER));
      expect(await c.send(m)).to.equal(0);
    }
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 500 })).to.equal(ETIMEDOUT);
    const right = await clientFor(server, 'tcp', { curve: { serverKey: keys.publicKey } });
    clients.push(right);
    const m = new LbmMeta();
    m.send.push(right.expose(utf8('friend'), 6, BULK_XFER));
    expect(await right.send(m, { timeoutMs: 5000 })).to.equal(0);
    const got = new LbmMeta();
    expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
    const buf = new Uint8Array(6);
    got.recv.push(server.expose(buf, 6, BULK_XFER));
    expect(await server.recvBulks(got)).to.equal(0);
    expect(Buffer.from(buf).toString()).to.equal('friend');
  });
});
