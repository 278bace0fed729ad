/**
 * CURVE between two bridges: with the peer ingress's public key the egress delivers; with a wrong
 * key nothing arrives (and nothing is corrupted), and the ingress keeps serving the right peer.
 */
import { expect } from 'chai';
import { BULK_XFER, ETIMEDOUT, LBM_OK, LbmMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { curveKeyPair } from 'zeromq';

describe('bridge with CURVE', function () {
  this.timeout(30000);
  let manager: MemoryManager;
  const closers: { close(): Promise<void> }[] = [];
  let serial = 0;

  before(() => {
    manager = MemoryManager.current() ?? MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  // Leave the thread without a memory manager for the next file, which makes its own.
  after(() => MemoryManager.current()?.detach());
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
  });

  async function pair(serverKey: string): Promise<{ tx: ShmClient; rx: ShmServer }> {
    const far = curveKeyPair();
    const near = curveKeyPair();
    const name = `curve-${process.pid}-${serial++}`;
    const ingress = await Bridge.create({ listen: 'tcp://127.0.0.1:0', curve: { secretKey: far.secretKey, publicKey: far.publicKey } });
    closers.push(ingress);
    const key = serverKey === 'right' ? far.publicKey : curveKeyPair().publicKey;
    const egress = await Bridge.create({
      peer: `tcp://127.0.0.1:${ingress.port}`,
      channels: [{ local: `${name}-out`, remote: `${name}-in` }],
      curve: { secretKey: near.secretKey, publicKey: near.publicKey, serverKey: key },
      sendTimeoutMs: 500,
      drainMs: 0,
    });
    closers.push(egress);
    const rx = await ShmServer.create(`${name}-in`);
    const tx = new ShmClient(`${name}-out`);
    closers.push(tx, rx);
    return { tx, rx };
  }

  function message(tx: ShmClient, text: string): LbmMeta {
    const m = new LbmMeta();
    const body = new TextEncoder().encode(text);
    m.send.push(tx.expose(body, body.length, BULK_XFER));
    return m;
  }

  it('delivers through an encrypted link when the egress knows the ingress public key', async () => {
    const { tx, rx } = await pair('right');
    expect(await tx.send(message(tx, 'secret payload'), { timeoutMs: 5000 })).to.equal(LBM_OK);
    const m = new LbmMeta();
    expect(await rx.waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
    const buf = new Uint8Array(m.send[0].size);
    m.recv.push(rx.expose(buf, buf.length, BULK_XFER));
    expect(await rx.recvBulks(m)).to.equal(LBM_OK);
    expect(new TextDecoder().decode(buf)).to.equal('secret payload');
  });

  it('delivers nothing when the egress has the wrong server key', async () => {
    const { tx, rx } = await pair('wrong');
    expect(await tx.send(message(tx, 'must not arrive'), { timeoutMs: 5000 })).to.equal(LBM_OK);
    expect(await rx.waitMetadata(new LbmMeta(), { timeoutMs: 1000 })).to.equal(ETIMEDOUT);
  });
});
