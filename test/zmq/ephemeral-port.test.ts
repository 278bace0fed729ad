/**
 * Issue #13 item 7: `TransportFactory.getServer(host, Transport.kZeroMq, 'tcp', 0)` binds an
 * ephemeral port (it used to bind 8192), the bound endpoint is readable from the server, and
 * `getAddress()` still returns the address given at construction, as in C++.
 */
import { expect } from 'chai';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';

describe('TransportFactory.getServer with port 0 over ZeroMQ (issue #13 item 7)', () => {
  const closers: Array<Client | Server> = [];

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
  });

  it('binds two servers on distinct ephemeral ports, each reachable at its bound endpoint', async () => {
    const servers = [
      await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0),
      await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0),
    ];
    closers.push(...servers);
    const ports: number[] = [];
    for (const [i, server] of servers.entries()) {
      expect(server).to.be.instanceOf(ZeroMqServer);
      const zs = server as ZeroMqServer;
      expect(server.getAddress()).to.equal('127.0.0.1');
      const endpoint = zs.getEndpoint();
      expect(endpoint).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const port = Number(/:(\d+)$/.exec(endpoint as string)![1]);
      expect(zs.port).to.equal(port);
      ports.push(port);

      const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
      closers.push(client);
      const body = new TextEncoder().encode(`to server ${i}`);
      const out = new LbmMeta();
      out.send.push(client.expose(body, body.byteLength, BULK_XFER));
      expect(await client.send(out, { timeoutMs: 5000 })).to.equal(0);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
      const buf = new Uint8Array(got.send[0].size);
      got.recv = [server.expose(buf, buf.byteLength, BULK_XFER)];
      expect(await server.recvBulks(got)).to.equal(0);
      expect(new TextDecoder().decode(buf)).to.equal(`to server ${i}`);
    }
    expect(ports[0]).to.not.equal(ports[1]);
  });

  it('reports no endpoint once closed', async () => {
    const server = (await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0)) as ZeroMqServer;
    expect(server.getEndpoint()).to.not.equal(null);
    await server.close();
    expect(server.getEndpoint()).to.equal(null);
  });
});
