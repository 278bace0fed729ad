/**
 * Issue 24: two Lightbeam peers agree on what they both speak, per client, with no option set;
 * a peer of an unknown future version is fallen back from or refused with one clear line; a
 * message over the server's limit is refused at the sender; RPC over ZeroMQ negotiates too.
 */
import { expect } from 'chai';
import { BULK_XFER, EMSGSIZE, LbmMeta, LightbeamError, RpcClient, RpcServer, Transport } from '@lightbeam/core';
import { NEGOTIATE_ANSWER, NEGOTIATE_HELLO, NEGOTIATE_PORT_OFFSET, ZeroMqClient, ZeroMqServer, clientHello, decodeNegotiation, encodeNegotiation, serverHello } from '@lightbeam/zmq-bridge';
import { Dealer, Router, curveKeyPair } from 'zeromq';
import type { RawPeer } from './support/raw-peer.js';
import { rawPeer } from './support/raw-peer.js';
import { PROTOCOLS, clientFor, closeAll, makeServer } from './support/zmq-pair.js';
import { fixture, startNode } from './support/child.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function small(c: ZeroMqClient, text: string): LbmMeta {
  const m = new LbmMeta();
  m.send.push(c.expose(utf8(text), text.length, BULK_XFER));
  return m;
}

/** Runs `fn`, returning the process warnings it emitted. */
async function warnings(fn: () => Promise<void>, settleMs = 100): Promise<Error[]> {
  const seen: Error[] = [];
  const on = (w: Error): void => void seen.push(w);
  process.on('warning', on);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

for (const protocol of PROTOCOLS) {
  describe(`negotiation between TypeScript peers over ${protocol}`, () => {
    let client: ZeroMqClient | undefined;
    let server: ZeroMqServer | undefined;
    afterEach(async () => {
      await closeAll(client, server);
      client = server = undefined;
    });

    it('agrees on batching and the size limit with no client option set, and batches', async () => {
      server = await makeServer(protocol, { maxMessageSize: 8192 });
      client = await clientFor(server, protocol);
      expect(client.batching).to.equal(false);
      for (let i = 0; i < 5; i++) expect(await client.send(small(client, `m${i}`), { timeoutMs: 5000 })).to.equal(0);
      expect(client.peer).to.include({ protocol: 1, batchVersion: 1, maxMessageBytes: 8192 });
      expect(client.batching).to.equal(true);
      for (let i = 0; i < 5; i++) {
        const got = new LbmMeta();
        expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
        const buf = new Uint8Array(2);
        got.recv.push(server.expose(buf, 2, BULK_XFER));
        expect(await server.recvBulks(got)).to.equal(0);
        expect(Buffer.from(buf).toString()).to.equal(`m${i}`);
      }
      expect(server.negotiationStats).to.deep.equal({ answered: 1, refused: 0 });
    });

    it('refuses a message over the negotiated limit at the sender with EMSGSIZE and keeps sending', async () => {
      server = await makeServer(protocol, { maxMessageSize: 4096, limits: { maxBulkSize: 3000 } });
      client = await clientFor(server, protocol);
      const frameTooBig = new LbmMeta();
      frameTooBig.send.push(client.expose(new Uint8Array(5000), 5000, BULK_XFER));
      expect(await client.send(frameTooBig, { timeoutMs: 5000 })).to.equal(EMSGSIZE);
      const bulkTooBig = new LbmMeta();
      bulkTooBig.send.push(client.expose(new Uint8Array(3500), 3500, BULK_XFER));
      expect(await client.send(bulkTooBig, { timeoutMs: 5000 })).to.equal(EMSGSIZE);
      expect(client.peer).to.include({ maxMessageBytes: 4096, maxBulkBytes: 3000 });
      expect(await client.send(small(client, 'ok'), { timeoutMs: 5000 })).to.equal(0);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
      expect(got.send[0].size).to.equal(2);
    });

    it('honours batch: false, and a server with acceptBatches: false gets no batches', async () => {
      server = await makeServer(protocol, { acceptBatches: false });
      client = await clientFor(server, protocol);
      expect((await client.negotiate())?.batchVersion).to.equal(0);
      expect(client.batching).to.equal(false);
      const other = await clientFor(server, protocol, { batch: false });
      try {
        expect(await other.negotiate()).to.not.equal(null);
        expect(other.batching).to.equal(false);
      } finally {
        await other.close();
      }
    });

    it('negotiation: false on the server makes it a plain peer; on the client nothing is asked', async () => {
      server = await makeServer(protocol, { negotiation: false });
      expect(server.negotiationEndpoint).to.equal(null);
      client = await clientFor(server, protocol, { negotiation: { timeoutMs: 100 } });
      expect(await client.send(small(client, 'p'), { timeoutMs: 5000 })).to.equal(0);
      expect(client.peer).to.equal(null);
      expect(client.batching).to.equal(false);
      expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 5000 })).to.equal(0);
      const silent = await clientFor(server, protocol, { negotiation: false });
      try {
        expect(await silent.negotiate()).to.equal(null);
      } finally {
        await silent.close();
      }
    });
  });
}

describe('negotiation with a peer of an unknown future version', () => {
  let peer: RawPeer | undefined;
  let client: ZeroMqClient | undefined;
  let server: ZeroMqServer | undefined;
  let dealer: Dealer | undefined;
  afterEach(async () => {
    await closeAll(client, server);
    peer?.close();
    dealer?.close();
    peer = client = server = dealer = undefined;
  });

  const future = (minProtocol: number, maxProtocol: number): Buffer =>
    encodeNegotiation(NEGOTIATE_ANSWER, { ...serverHello(true, 1 << 20, Number.MAX_SAFE_INTEGER), minProtocol, maxProtocol, batchVersions: 0b111, features: 0xffn });

  it('falls back to version 1 with a server speaking 1..9 (and longer frames, more framings, unknown features)', async () => {
    const answer = Buffer.concat([future(1, 9), Buffer.alloc(24, 0xee)]);
    peer = await rawPeer('tcp', answer);
    client = await ZeroMqClient.create(peer.addr, 'tcp', peer.port);
    expect(await client.send(small(client, 'x'), { timeoutMs: 5000 })).to.equal(0);
    expect(client.peer).to.include({ protocol: 1, batchVersion: 1, features: 0n });
    expect((await peer.pull.receive()).length).to.equal(2);
  });

  it('fails every send with one ERR_LBM_PROTOCOL_VERSION naming both versions when the server speaks only 2..9', async () => {
    peer = await rawPeer('tcp', future(2, 9));
    client = await ZeroMqClient.create(peer.addr, 'tcp', peer.port);
    const err = await client.send(small(client, 'x'), { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LightbeamError);
    expect((err as LightbeamError).code).to.equal('ERR_LBM_PROTOCOL_VERSION');
    expect((err as Error).message).to.match(/server speaks Lightbeam protocol version 2\.\.9, this side speaks 1;/);
    expect((err as Error).message.split('\n')).to.have.length(1);
    const again = await client.send(small(client, 'y')).catch((e: unknown) => e);
    expect((again as LightbeamError).code).to.equal('ERR_LBM_PROTOCOL_VERSION');
    // Nothing reached the server; the process and other clients go on.
    peer.pull.receiveTimeout = 200;
    const nothing = await peer.pull.receive().catch((e: unknown) => e);
    expect((nothing as { code?: string }).code).to.equal('EAGAIN');
  });

  it('a server asked by a client speaking only 2..9 answers it and warns once, naming both versions, and serves others', async () => {
    server = await makeServer('tcp');
    const seen = await warnings(async () => {
      dealer = new Dealer({ linger: 0, receiveTimeout: 5000 });
      dealer.connect(server!.negotiationEndpoint as string);
      await dealer.send(encodeNegotiation(NEGOTIATE_HELLO, { ...clientHello(true), minProtocol: 2, maxProtocol: 9 }));
      const [answer] = await dealer.receive();
      expect(decodeNegotiation(answer, NEGOTIATE_ANSWER)).to.include({ minProtocol: 1, maxProtocol: 1 });
    });
    const ours = seen.filter((w) => (w as LightbeamError).code === 'ERR_LBM_PROTOCOL_VERSION');
    expect(ours).to.have.length(1);
    expect(ours[0].message).to.match(/client speaks Lightbeam protocol version 2\.\.9, this side speaks 1;/);
    expect(server.negotiationStats).to.deep.equal({ answered: 0, refused: 1 });
    client = await clientFor(server, 'tcp');
    expect(await client.send(small(client, 'ok'), { timeoutMs: 5000 })).to.equal(0);
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 5000 })).to.equal(0);
  });

  it('ignores hellos that are not Lightbeam negotiation frames (hostile bytes get no answer)', async () => {
    server = await makeServer('tcp');
    dealer = new Dealer({ linger: 0, receiveTimeout: 300 });
    dealer.connect(server.negotiationEndpoint as string);
    await dealer.send(Buffer.from('not a hello, but long enough to look like one at first sight'));
    await dealer.send([Buffer.alloc(40), Buffer.alloc(40)]);
    const err = await dealer.receive().catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('EAGAIN');
    expect(server.negotiationStats).to.deep.equal({ answered: 0, refused: 0 });
  });
});

describe('negotiation under CURVE', () => {
  it('asks with the data connection\'s keys: an allowed client negotiates, a plain one cannot even ask', async () => {
    const keys = curveKeyPair();
    const mine = curveKeyPair();
    const server = await makeServer('tcp', { curve: { secretKey: keys.secretKey, publicKey: keys.publicKey, allowedClients: [mine.publicKey] } });
    const allowed = await clientFor(server, 'tcp', { curve: { serverKey: keys.publicKey, ...mine } });
    const plain = await clientFor(server, 'tcp', { negotiation: { timeoutMs: 200 }, linger: 0 });
    try {
      expect(await allowed.negotiate()).to.include({ protocol: 1, batchVersion: 1 });
      expect(await plain.negotiate()).to.equal(null);
      expect(server.negotiationStats).to.deep.equal({ answered: 1, refused: 0 });
    } finally {
      await closeAll(allowed, plain, server);
    }
  });
});

describe('negotiation endpoint binding', () => {
  let server: ZeroMqServer | undefined;
  let squatter: Router | undefined;
  afterEach(async () => {
    await server?.close();
    squatter?.close();
    server = squatter = undefined;
  });

  it('a server that answered a negotiation does not keep its process alive (nor does its client)', async () => {
    const child = startNode([fixture('idle-negotiating.mjs')]);
    try {
      expect(await child.exited(20_000), child.stderr()).to.equal(0);
    } finally {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
    }
    expect(child.stdout()).to.include('sent 0 received 0 batching true answered 1');
  });

  it('refuses a negotiation port outside 1..65535 on either side, naming the option', () => {
    expect(() => new ZeroMqClient('127.0.0.1', 'tcp', 9000, { negotiation: { port: 70000 } })).to.throw(RangeError, /negotiation\.port .* got 70000/);
    expect(() => new ZeroMqServer('127.0.0.1', 'tcp', 0, { negotiation: { port: 0 } })).to.throw(RangeError, /negotiation\.port .* got 0/);
  });

  it('a server whose negotiation port is taken still serves, and says so once (LBM_NO_NEGOTIATION)', async () => {
    // A squatter on an ephemeral port, and the server on the data port 1000 below it (tried
    // again with another squatter when some other process holds that data port).
    let port = 0;
    let seen: Error[] = [];
    for (let attempt = 0; attempt < 5 && server === undefined; attempt++) {
      squatter?.close();
      squatter = new Router({ linger: 0 });
      await squatter.bind('tcp://127.0.0.1:*');
      port = Number((squatter.lastEndpoint as string).split(':').pop()) - NEGOTIATE_PORT_OFFSET;
      seen = await warnings(async () => {
        server = await ZeroMqServer.create('127.0.0.1', 'tcp', port).catch(() => undefined);
      }, 0);
    }
    if (server === undefined) throw new Error('no free data port found below an ephemeral one');
    expect(seen.map((w) => (w as { code?: string }).code)).to.deep.equal(['LBM_NO_NEGOTIATION']);
    expect(server.negotiationEndpoint).to.equal(null);
    const client = await ZeroMqClient.create('127.0.0.1', 'tcp', port, { negotiation: { timeoutMs: 100 } });
    try {
      expect(await client.send(small(client, 'p'), { timeoutMs: 5000 })).to.equal(0);
      expect(client.peer).to.equal(null);
      expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 5000 })).to.equal(0);
    } finally {
      await client.close();
    }
  });
});

describe('RPC over ZeroMQ negotiates both ways', () => {
  it('the request client and the reply client each get an answer', async () => {
    const rpcServer = await RpcServer.listen(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: 0 });
    const port = (rpcServer.server as ZeroMqServer).port as number;
    const rpc = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port });
    try {
      rpcServer.handle('ping', () => undefined);
      for (let i = 0; i < 3; i++) await rpc.call('ping', new LbmMeta(), { timeoutMs: 10_000 });
      // RPC clients do not batch unless asked (a batch waits for the end of the turn), so the
      // agreement has no batch version, but it was negotiated all the same.
      expect((rpc.requests as ZeroMqClient).peer).to.include({ protocol: 1, batchVersion: 0 });
      expect((rpcServer.server as ZeroMqServer).negotiationStats).to.deep.equal({ answered: 1, refused: 0 });
      // The server's reply client asked the client's reply endpoint.
      expect((rpc.replies as ZeroMqServer).negotiationStats).to.deep.equal({ answered: 1, refused: 0 });
    } finally {
      await rpc.close();
      await rpcServer.close();
    }
  });
});
