/**
 * Issue #13 item 8: a CURVE client with random keys that knew the server's public key used to be
 * admitted, with no way to say which clients may connect. `curve.allowedClients` now admits only
 * the listed public keys (a ZAP handler refuses the rest during the handshake), over the factory
 * and the bridge; servers without a list are untouched, and the handler does not keep a process
 * alive once the last list is released.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import { Bridge, ZeroMqServer, registerCurveAllowList, z85Encode } from '@lightbeam/zmq-bridge';
import { curveKeyPair } from 'zeromq';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

async function sendText(client: Client, text: string): Promise<void> {
  const m = new LbmMeta();
  const body = new TextEncoder().encode(text);
  m.send.push(client.expose(body, body.byteLength, BULK_XFER));
  expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
}

async function receiveText(server: Server, timeoutMs = 10000): Promise<string | number> {
  const m = new LbmMeta();
  const rc = await server.waitMetadata(m, { timeoutMs });
  if (rc !== 0) return rc;
  const buf = new Uint8Array(m.send[0].size);
  m.recv = [server.expose(buf, buf.byteLength, BULK_XFER)];
  expect(await server.recvBulks(m)).to.equal(0);
  return new TextDecoder().decode(buf);
}

/** Resolves once `read()` is at least `n` (bounded by `ms`). */
async function until(read: () => number, n: number, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (read() < n) {
    if (Date.now() > deadline) throw new Error(`counter stayed at ${read()} (wanted ${n}) for ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CURVE client allow-list through ZAP (issue #13 item 8)', function () {
  // The bridge cases make this thread's shared memory; leave the thread without it for the next file.
  after(() => MemoryManager.current()?.detach());
  this.timeout(30000);
  const closers: Array<{ close(): Promise<void> }> = [];

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
  });

  it('admits the listed client and refuses a random key that knows the server key', async () => {
    const serverKeys = curveKeyPair();
    const friend = curveKeyPair();
    const server = (await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0, {
      curve: { ...serverKeys, allowedClients: [friend.publicKey] },
    })) as ZeroMqServer;
    closers.push(server);
    // The intruder does not negotiate, as a C++ client: its negotiation would be refused too, and
    // by the time it gave up the data connection's refusal could leave no pipe to queue its send.
    const intruder = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port!, {
      curve: { serverKey: serverKeys.publicKey },
      linger: 0,
      negotiation: false,
    });
    closers.push(intruder);
    await sendText(intruder, 'intruder');
    await until(() => server.curveStats!.refused, 1);
    const ok = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port!, { curve: { serverKey: serverKeys.publicKey, ...friend } });
    closers.push(ok);
    await sendText(ok, 'friend');
    expect(await receiveText(server)).to.equal('friend');
    expect(server.curveStats).to.deep.include({ admitted: 1 });
    // Nothing of the intruder's was handed over, before or after.
    expect(await receiveText(server, 300)).to.be.a('number');
  });

  it('leaves a CURVE server without a list admitting any client that knows its key, in the same process', async () => {
    // In a child process: closing CURVE sockets under a ZAP handler tripped an assertion inside
    // the libzmq that zeromq.js bundles (pipe.cpp:355, in pipe termination) about once in ten
    // runs of this file, aborting the whole test process. The handler's delayed close made it go
    // away here (0 in 30 runs); should it still fire, it takes down only this child, which is run
    // again (at most three times) only for exactly that abort. Anything else fails.
    const script = `
      import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
      import { ZeroMqServer } from '@lightbeam/zmq-bridge';
      import { curveKeyPair } from 'zeromq';
      const listed = curveKeyPair();
      const guarded = await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { curve: { ...listed, allowedClients: [curveKeyPair().publicKey] } });
      const open = curveKeyPair();
      const server = await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { curve: open });
      const anyone = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port, { curve: { serverKey: open.publicKey } });
      const m = new LbmMeta();
      const body = new TextEncoder().encode('hello');
      m.send.push(anyone.expose(body, body.byteLength, BULK_XFER));
      const sent = await anyone.send(m, { timeoutMs: 5000 });
      const got = new LbmMeta();
      const rc = await server.waitMetadata(got, { timeoutMs: 10000 });
      const buf = new Uint8Array(rc === 0 ? got.send[0].size : 0);
      if (rc === 0) {
        got.recv = [server.expose(buf, buf.byteLength, BULK_XFER)];
        await server.recvBulks(got);
      }
      console.log(JSON.stringify({ sent, rc, text: new TextDecoder().decode(buf) }));
      await anyone.close();
      await server.close();
      await guarded.close();`;
    let out = '';
    for (let attempt = 1; ; attempt++) {
      try {
        out = (await run(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 20000 })).stdout;
        break;
      } catch (err) {
        const e = err as { signal?: string; stderr?: string };
        if (attempt < 3 && e.signal === 'SIGABRT' && /pipe\.cpp/.test(e.stderr ?? '')) continue;
        throw err;
      }
    }
    expect(JSON.parse(out.trim().split('\n')[0])).to.deep.equal({ sent: 0, rc: 0, text: 'hello' });
  });

  it('admits only the listed peer bridge on a bridge ingress', async () => {
    if (MemoryManager.current() === null) MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
    const far = curveKeyPair();
    const near = curveKeyPair();
    const stranger = curveKeyPair();
    const ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0', curve: { ...far, allowedClients: [near.publicKey] } });
    closers.push(ingress);
    const name = `allow-${process.pid}`;
    const rx = await ShmServer.create(`${name}-in`);
    closers.push(rx);
    for (const [who, keys] of [['stranger', stranger], ['near', near]] as const) {
      const egress = await Bridge.create({
        peer: `tcp://127.0.0.1:${ingress.port}`,
        channels: [{ local: `${name}-${who}`, remote: `${name}-in` }],
        curve: { ...keys, serverKey: far.publicKey },
        drainMs: 0,
      });
      closers.push(egress);
      const tx = new ShmClient(`${name}-${who}`);
      closers.push(tx);
      await sendText(tx, `from ${who}`);
    }
    expect(await receiveText(rx)).to.equal('from near');
    expect(ingress.stats().ingress.received).to.equal(1);
  });

  it('rejects a key that is not 40 Z85 characters', async () => {
    let err: unknown;
    try {
      await registerCurveAllowList(['not-a-key']);
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).to.equal('ERR_LBM_INVALID_ARGUMENT');
  });

  it('encodes keys as zeromq.js does (Z85)', () => {
    // RFC 32's test vector.
    expect(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).to.equal('HelloWorld');
  });

  it('does not keep a process alive once its last allow-listed server closed', async () => {
    const script = `
      import { ZeroMqServer } from '@lightbeam/zmq-bridge';
      import { curveKeyPair } from 'zeromq';
      const k = curveKeyPair();
      const s = await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { curve: { ...k, allowedClients: [curveKeyPair().publicKey] } });
      await s.close();
      console.log('closed');`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 20000 });
    expect(stdout.trim()).to.equal('closed');
  });
});

describe('ZAP handler re-registration', function () {
  this.timeout(30000);

  it('binds again at once after the last allow-list of its context was released (50 times in a row)', async () => {
    const key = curveKeyPair().publicKey;
    // Releasing the last list closes the handler's socket; a register right behind it used to
    // fail with EADDRINUSE while libzmq still held the inproc endpoint of the closed one.
    for (let i = 0; i < 50; i++) {
      const list = await registerCurveAllowList([key]);
      expect(list.domain).to.match(/^lightbeam-/);
      list.release();
    }
  });
});
