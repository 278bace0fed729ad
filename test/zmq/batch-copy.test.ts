/**
 * A batching client sends messages too large to batch as they are: their XFER data must still be
 * copied before zeromq.js gets it, so a sender that reuses its buffer at once corrupts nothing.
 */
import { expect } from 'chai';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { clientFor, closeAll, makeServer } from './support/zmq-pair.js';

describe('zeromq batching client and large messages', function () {
  this.timeout(30000);
  let server: ZeroMqServer;
  let client: ZeroMqClient;

  beforeEach(async () => {
    server = await makeServer('tcp');
    client = await clientFor(server, 'tcp', { batch: { maxMessageBytes: 1024 } });
  });
  afterEach(async () => {
    await closeAll(client, server);
  });

  it('delivers large and small messages as they were at send time although the sender rewrites its buffers at once', async () => {
    const big = new Uint8Array(64 * 1024);
    const small = new Uint8Array(100);
    for (let round = 0; round < 20; round++) {
      for (const buf of [big, small]) {
        buf.fill(round);
        const m = new LbmMeta();
        m.send.push(client.expose(buf, buf.length, BULK_XFER));
        expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
        buf.fill(0xee); // reused at once, as the contract allows
      }
    }
    for (let round = 0; round < 20; round++) {
      for (const size of [big.length, small.length]) {
        const m = new LbmMeta();
        expect(await server.waitMetadata(m, { timeoutMs: 10000 })).to.equal(0);
        const got = new Uint8Array(m.send[0].size);
        m.recv.push(server.expose(got, got.length, BULK_XFER));
        expect(await server.recvBulks(m)).to.equal(0);
        expect(got.length).to.equal(size);
        expect(got.every((b) => b === round), `round ${round} size ${size}`).to.equal(true);
      }
    }
  });
});
