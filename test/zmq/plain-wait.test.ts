/**
 * A wait with no deadline and no signal (how the RPC receive loops wait, once per message) awaits
 * the socket's receive as it is: no race, so no listener on the close signal per message; close
 * still ends it, because closing the socket rejects the receive.
 */
import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { BULK_XFER, ESHUTDOWN, LbmMeta } from '@lightbeam/core';
import type { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { PROTOCOLS, clientFor, closeAll, makeServer } from './support/zmq-pair.js';

const closeSignal = (server: ZeroMqServer): AbortSignal => (Reflect.get(server, 'closeController') as AbortController).signal;

for (const protocol of PROTOCOLS) {
  describe(`zeromq server, a wait without deadline or signal (${protocol})`, function () {
    this.timeout(20000);
    let server: ZeroMqServer;
    let client: ZeroMqClient;

    beforeEach(async () => {
      server = await makeServer(protocol);
      client = await clientFor(server, protocol);
    });
    afterEach(async () => {
      await closeAll(client, server);
    });

    it('adds no listener to the close signal while it waits, and receives what comes', async () => {
      const got = new LbmMeta();
      const waiting = server.waitMetadata(got);
      await new Promise((r) => setTimeout(r, 20)); // parked on the socket by now
      expect(getEventListeners(closeSignal(server), 'abort')).to.have.length(0);
      const m = new LbmMeta();
      const bytes = new Uint8Array(300).fill(5);
      m.send.push(client.expose(bytes, bytes.length, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 5000 })).to.equal(0);
      expect(await waiting).to.equal(0);
      expect(got.send[0].size).to.equal(300);
    });

    it('resolves ESHUTDOWN when the server closes during the wait', async () => {
      const waiting = server.waitMetadata(new LbmMeta());
      await new Promise((r) => setTimeout(r, 20));
      await server.close();
      expect(await waiting).to.equal(ESHUTDOWN);
    });
  });
}
