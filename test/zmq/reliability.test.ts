/**
 * Reliability of the ZeroMQ transport: back-pressure without a peer, bind errors, close with
 * queued messages, reconnection after a server restart, and a sender killed mid-stream.
 */
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, ECANCELED, ETIMEDOUT, LbmMeta, LightbeamError, Transport, TransportFactory } from '@lightbeam/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZeroMqClientOptions } from '@lightbeam/zmq-bridge';
import { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { bounded, fixture, startNode } from './support/child.js';
import type { Child } from './support/child.js';
import { closeAll, makeServer } from './support/zmq-pair.js';

/** A tcp port nobody listens on: bound once, then released. */
async function freePort(): Promise<number> {
  const s = await ZeroMqServer.create('127.0.0.1', 'tcp', 0);
  const port = s.port as number;
  await s.close();
  return port;
}

let nobodyCounter = 0;

/** A client towards an ipc path nobody will ever bind: messages can only queue. */
function clientToNobody(options: ZeroMqClientOptions): Promise<ZeroMqClient> {
  return ZeroMqClient.create(join(tmpdir(), `lbm-nobody-${process.pid}-${++nobodyCounter}.sock`), 'ipc', 0, options);
}

/** Binds `port` again; the old socket's unbind completes in libzmq's I/O thread, so retry briefly. */
async function rebind(port: number): Promise<ZeroMqServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ZeroMqServer.create('127.0.0.1', 'tcp', port);
    } catch (err) {
      if (attempt >= 40 || (err as LightbeamError).errno !== 98) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function meta1(bytes: Uint8Array, client: ZeroMqClient): LbmMeta {
  const m = new LbmMeta();
  m.send.push(client.expose(bytes, bytes.length, BULK_XFER));
  return m;
}

/** Receives one message and returns its single bulk. */
async function recvOne(server: ZeroMqServer, timeoutMs = 5000): Promise<Uint8Array> {
  const m = new LbmMeta();
  const rc = await server.waitMetadata(m, { timeoutMs });
  expect(rc, 'waitMetadata').to.equal(0);
  const buf = new Uint8Array(m.send[0].size);
  m.recv.push(server.expose(buf, buf.length, m.send[0].flags));
  expect(await server.recvBulks(m)).to.equal(0);
  return buf;
}

/** The payload the sender fixture sends for `seq` (kept in step with test/fixtures/zmq/sender.mjs). */
function payload(tag: string, seq: number): Buffer {
  const head = Buffer.from(`${tag}:${seq}:`);
  const body = Buffer.alloc(200 + (seq % 50));
  for (let i = 0; i < body.length; i++) body[i] = (seq + i * 7) & 0xff;
  return Buffer.concat([head, body]);
}

describe('ZeroMQ back-pressure and close', () => {
  let client: ZeroMqClient | undefined;
  afterEach(async () => {
    await closeAll(client);
    client = undefined;
  });

  it('resolves EAGAIN once the high-water mark is reached with no peer', async () => {
    client = await clientToNobody({ highWaterMark: 10, linger: 0 });
    const data = new Uint8Array(64);
    let queued = 0;
    let rc = 0;
    while (queued < 100_000) {
      rc = await client.send(meta1(data, client));
      if (rc !== 0) break;
      queued++;
    }
    expect(rc).to.equal(EAGAIN);
    expect(queued).to.be.within(1, 10_000);
  });

  it('waits for room with timeoutMs and resolves ETIMEDOUT, or ECANCELED on abort', async () => {
    client = await clientToNobody({ highWaterMark: 1, linger: 0 });
    const data = new Uint8Array(64);
    while ((await client.send(meta1(data, client))) === 0);
    expect(await client.send(meta1(data, client), { timeoutMs: 30 })).to.equal(ETIMEDOUT);
    const ac = new AbortController();
    const pending = client.send(meta1(data, client), { timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await pending).to.equal(ECANCELED);
  });

  it('closes promptly with queued messages and no peer', async () => {
    client = await clientToNobody({ highWaterMark: 100, linger: 100 });
    const data = new Uint8Array(4096);
    while ((await client.send(meta1(data, client))) === 0);
    await bounded(client.close(), 5000, () => 'close() hung with queued messages');
    expect(client.closed).to.equal(true);
  });

  it('lets a process with queued messages and no peer exit after close (finite linger)', async () => {
    const child = startNode([fixture('queued-close.mjs'), String(await freePort()), '200']);
    expect(await child.exited(20_000), child.stderr()).to.equal(0);
    expect(child.stdout()).to.match(/queued \d+ closed/);
  });

  it('closes a batching client promptly with batches it could not hand over', async () => {
    client = await clientToNobody({ highWaterMark: 1, linger: 50, batch: { maxBatchBytes: 1024 } });
    const data = new Uint8Array(100);
    let rc = 0;
    for (let i = 0; i < 10_000 && rc === 0; i++) rc = await client.send(meta1(data, client));
    expect(rc).to.equal(EAGAIN);
    await bounded(client.close(), 5000, () => 'close() hung with queued batches');
  });
});

describe('ZeroMQ bind errors', () => {
  let server: ZeroMqServer | undefined;
  afterEach(async () => {
    await closeAll(server);
    server = undefined;
  });

  it('rejects with ERR_LBM_BIND naming the URL and the reason when the port is in use', async () => {
    server = await makeServer('tcp');
    const port = server.port as number;
    const err = await ZeroMqServer.create('127.0.0.1', 'tcp', port).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(LightbeamError);
    const e = err as LightbeamError;
    expect(e.code).to.equal('ERR_LBM_BIND');
    expect(e.message).to.include(`tcp://127.0.0.1:${port}`).and.match(/address already in use/i);
    expect(e.errno).to.equal(98);
  });

  it('rejects through the factory too', async () => {
    server = await makeServer('tcp');
    const port = server.port as number;
    const err = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', port).catch((e: unknown) => e);
    expect((err as LightbeamError).code).to.equal('ERR_LBM_BIND');
  });

  it('rejects an ipc path in a missing directory', async () => {
    const err = await ZeroMqServer.create('/nonexistent-dir-lbm/x.sock', 'ipc').catch((e: unknown) => e);
    expect((err as LightbeamError).code).to.equal('ERR_LBM_BIND');
    expect((err as LightbeamError).message).to.include('ipc:///nonexistent-dir-lbm/x.sock');
  });

  it('rejects an unknown protocol and a bad port up front', () => {
    expect(() => new ZeroMqServer('127.0.0.1', 'udp', 1)).to.throw(LightbeamError, /protocol/);
    expect(() => new ZeroMqClient('127.0.0.1', 'tcp', 70000)).to.throw(LightbeamError, /port/);
    expect(() => new ZeroMqClient('127.0.0.1', 'tcp', 0)).to.throw(LightbeamError, /port/);
  });
});

describe('ZeroMQ reconnection and dying senders', () => {
  let server: ZeroMqServer | undefined;
  let client: ZeroMqClient | undefined;
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) c.proc.kill('SIGKILL');
    await closeAll(client, server);
    server = undefined;
    client = undefined;
  });

  it('delivers to a server restarted on the same port while the client keeps sending', async () => {
    server = await makeServer('tcp');
    const port = server.port as number;
    client = await ZeroMqClient.create('127.0.0.1', 'tcp', port, { linger: 0 });
    expect(await client.send(meta1(Buffer.from('before'), client), { timeoutMs: 5000 })).to.equal(0);
    expect(Buffer.from(await recvOne(server)).toString()).to.equal('before');
    await server.close();
    // Sent while nobody listens: queued in the client (some may die with the old connection).
    for (let i = 0; i < 5; i++) expect(await client.send(meta1(Buffer.from(`gap ${i}`), client), { timeoutMs: 5000 })).to.equal(0);
    server = await rebind(port);
    expect(await client.send(meta1(Buffer.from('after'), client), { timeoutMs: 5000 })).to.equal(0);
    const got: string[] = [];
    while (got[got.length - 1] !== 'after') got.push(Buffer.from(await recvOne(server, 10_000)).toString());
    for (const g of got.slice(0, -1)) expect(g).to.match(/^gap \d$/);
  });

  it('keeps working after a sender process is killed mid-stream; the next sender arrives intact', async () => {
    server = await makeServer('tcp');
    const port = String(server.port);
    const first = startNode([fixture('sender.mjs'), port, 'A', '0']);
    children.push(first);
    await first.printed('ready', 20_000);
    // Receive a little, then kill it while it is still sending.
    let seqA = 0;
    for (; seqA < 20; seqA++) expect(Buffer.compare(await recvOne(server), payload('A', seqA))).to.equal(0);
    first.proc.kill('SIGKILL');
    await first.exited(10_000);
    // Whatever of A still arrives is intact and in order; then B's 300 messages, all intact.
    const second = startNode([fixture('sender.mjs'), port, 'B', '300']);
    children.push(second);
    let seqB = 0;
    while (seqB < 300) {
      const buf = Buffer.from(await recvOne(server, 20_000));
      const tag = buf.subarray(0, 2).toString();
      if (tag === 'A:') expect(Buffer.compare(buf, payload('A', seqA++))).to.equal(0);
      else expect(Buffer.compare(buf, payload('B', seqB++))).to.equal(0);
    }
    expect(await second.exited(20_000)).to.equal(0);
    expect(await server.recvMetadata(new LbmMeta())).to.equal(EAGAIN);
  });
});
