/**
 * The synchronous hot-loop API over ZeroMQ, which cannot answer synchronously: `sendNow` and
 * `recvMetadataNow` say EAGAIN and change nothing, and the async API then works as usual.
 */
import { expect } from 'chai';
import { BULK_XFER, EAGAIN, EOPNOTSUPP, LbmMeta } from '@lightbeam/core';
import type { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { clientFor, closeAll, makeServer } from './support/zmq-pair.js';

describe('zeromq synchronous API', function () {
  this.timeout(30000);
  let server: ZeroMqServer;
  let client: ZeroMqClient;

  beforeEach(async () => {
    server = await makeServer('tcp');
    client = await clientFor(server, 'tcp', {});
  });
  afterEach(async () => {
    await closeAll(client, server);
  });

  it('answers EAGAIN from sendNow and recvMetadataNow without sending or consuming anything', async () => {
    const body = new TextEncoder().encode('via send');
    const m = new LbmMeta();
    m.send.push(client.expose(body, body.length, BULK_XFER));
    expect(client.sendNow(m)).to.equal(EAGAIN);
    expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
    const got = new LbmMeta();
    // The message may already be readable: the synchronous call must still leave it alone.
    await new Promise((r) => setTimeout(r, 50));
    expect(server.recvMetadataNow(got)).to.equal(EAGAIN);
    // A blocking receive would stall the thread zeromq.js delivers on: declined, nothing consumed.
    expect(server.waitMetadataSync(got, 100)).to.equal(EOPNOTSUPP);
    expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
    const buf = new Uint8Array(got.send[0].size);
    got.recv.push(server.expose(buf, buf.length, BULK_XFER));
    expect(server.recvBulksNow(got)).to.equal(0);
    expect(new TextDecoder().decode(buf)).to.equal('via send');
    expect(await server.waitMetadata(new LbmMeta(), { timeoutMs: 200 })).to.not.equal(0);
  });
});
