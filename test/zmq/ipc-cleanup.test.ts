/**
 * Issue 22.2: whoever binds an ipc endpoint removes its socket file on close (libzmq leaves it),
 * so a process binding many ipc endpoints does not fill the temp folder. Counted in os.tmpdir().
 */
import { expect } from 'chai';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LbmMeta, RpcClient, RpcServer, Transport } from '@lightbeam/core';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { Pull } from 'zeromq';
import { uniqueAddress } from './support/zmq-pair.js';

function tmpCount(): number {
  return readdirSync(tmpdir()).length;
}

describe('ipc socket files (issue 22.2)', function () {
  this.timeout(20_000);

  it('a ZeroMqServer bound over ipc removes its socket file on close', async () => {
    const before = tmpCount();
    const path = uniqueAddress('ipc');
    const server = await ZeroMqServer.create(path, 'ipc', 0, { linger: 0 });
    expect(statSync(path).isSocket()).to.equal(true);
    // The data socket, and the negotiation socket beside it.
    expect(statSync(`${path}.lbmn`).isSocket()).to.equal(true);
    expect(tmpCount()).to.equal(before + 2);
    await server.close();
    expect(existsSync(path)).to.equal(false);
    expect(existsSync(`${path}.lbmn`)).to.equal(false);
    expect(tmpCount()).to.equal(before);
  });

  it('leaves a file another socket has since bound at the same path alone', async () => {
    const path = uniqueAddress('ipc');
    const first = await ZeroMqServer.create(path, 'ipc', 0, { linger: 0 });
    // libzmq lets a second socket take over an ipc path: the file is now the other socket's.
    const other = new Pull({ linger: 0 });
    await other.bind(`ipc://${path}`);
    try {
      await first.close();
      expect(statSync(path).isSocket()).to.equal(true);
    } finally {
      other.close();
      await ZeroMqServer.create(path, 'ipc', 0, { linger: 0 }).then((s) => s.close());
    }
    expect(existsSync(path)).to.equal(false);
  });

  it('an RpcClient/RpcServer pair over ipc leaves no lbm-rpc-*.sock files behind', async () => {
    const before = tmpCount();
    const path = join(tmpdir(), `lbm-zmq-rpc-${process.pid}.sock`);
    const server = await RpcServer.listen(Transport.kZeroMq, path, { protocol: 'ipc', serverOptions: { linger: 0 } });
    server.handle('ping', () => undefined);
    const clients = await Promise.all([0, 1, 2].map(() => RpcClient.connect(Transport.kZeroMq, path, { protocol: 'ipc' })));
    for (const c of clients) await c.call('ping', new LbmMeta(), { timeoutMs: 10_000 });
    // The server's request socket and one reply socket per client.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('lbm-rpc-')).length).to.be.at.least(3);
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    expect(tmpCount()).to.equal(before);
  });
});
