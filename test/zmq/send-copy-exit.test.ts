/**
 * A process that ends right after its sends resolved must still put the bytes it sent on the
 * wire: libzmq sends what is queued during the linger, while Node tears the process down. At
 * that point Node hands back the memory of every external Buffer still alive (those zeromq.js
 * holds), so the send-copy helper must not reuse or free such memory once the process is
 * exiting; it did, and the first 8 bytes of queued copies went out as a free-list link.
 */
import { expect } from 'chai';
import { LbmMeta, BULK_XFER } from '@lightbeam/core';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { fixture, startNode } from './support/child.js';
import { closeAll, makeServer } from './support/zmq-pair.js';

describe('zeromq default send: a process that exits with messages queued', function () {
  this.timeout(60000);
  let server: ZeroMqServer | undefined;
  afterEach(async () => {
    await closeAll(server);
    server = undefined;
  });

  it('delivers every message as it was at send time after the sending process ended', async () => {
    const COUNT = 120;
    const SIZE = 300_000;
    // A receive queue of one message: libzmq here stops reading, so the sender's copies stay
    // queued in the sender until this side reads, after that process has begun to exit.
    server = await makeServer('tcp', { highWaterMark: 1 });
    const child = startNode([fixture('exit-with-queued.mjs'), String(server.port), String(COUNT), String(SIZE), '20000']);
    await child.printed('queued', 30000);
    await new Promise((r) => setTimeout(r, 300));
    const meta = new LbmMeta();
    const into = new Uint8Array(SIZE);
    const bad: number[] = [];
    for (let k = 0; k < COUNT; k++) {
      expect(await server.waitMetadata(meta, { timeoutMs: 10000 }), `message ${k}`).to.equal(0);
      meta.recv = [server.expose(into, SIZE, BULK_XFER)];
      expect(await server.recvBulks(meta)).to.equal(0);
      const dv = new DataView(into.buffer);
      const i = dv.getUint32(SIZE - 4, true);
      const fill = (i * 13 + 1) & 0xff;
      const intact = i === k && dv.getUint32(0, true) === i && dv.getUint32(4, true) === ~i >>> 0 && into[8] === fill && into[SIZE - 5] === fill;
      if (!intact) bad.push(k);
    }
    expect(bad, `corrupted messages (child: ${child.stdout()})`).to.deep.equal([]);
    expect(await child.exited(30000), child.stderr()).to.equal(0);
  });
});
