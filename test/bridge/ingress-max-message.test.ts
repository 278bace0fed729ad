/**
 * Issue #13 item 2, bridge side: the ingress socket carries ZeroMQ's own bound (ZMQ_MAXMSGSIZE,
 * `maxMessageBytes`, `--max-message-bytes`): a peer sending a larger frame is disconnected before
 * the frame is read, nothing of it reaches the bridge, and the next message is delivered.
 */
import { expect } from 'chai';
import { BULK_XFER, LBM_OK, encodeMeta } from '@lightbeam/core';
import { MemoryManager, ShmServer } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';
import { SeqMeta, fnv1a, payload } from './support/bridge-meta.js';
import type { BridgeChild } from './support/bridge-process.js';
import { startBridge } from './support/bridge-process.js';
import { sendAndSeeDropped } from '../zmq/support/dropped.js';

function frames(seq: number, size: number): Uint8Array[] {
  const m = new SeqMeta();
  const data = payload(seq, size);
  m.seq = seq;
  m.checksum = fnv1a(data);
  m.tag = 'raw';
  m.send.push({ data: null, size, flags: BULK_XFER });
  return [encodeMeta(m), data];
}

describe('bridge ingress maxMessageBytes (issue #13 item 2)', function () {
  this.timeout(30000);
  let serial = 0;

  before(() => {
    if (MemoryManager.current() === null) MemoryManager.create({ regionBytes: 64 * 1024 * 1024 });
  });
  // Leave the thread without a memory manager for the next file, which makes its own.
  after(() => MemoryManager.current()?.detach());

  it('disconnects a peer sending a frame above the bound; nothing is counted, the next message arrives', async () => {
    const channel = `maxmsg-${process.pid}-${serial++}`;
    const bridge = await Bridge.create({ listen: 'tcp://127.0.0.1:0', defaultChannel: channel, maxMessageBytes: 64 * 1024 });
    const rx = await ShmServer.create(channel);
    try {
      expect(await sendAndSeeDropped(new Push({ linger: 0 }), `tcp://127.0.0.1:${bridge.port}`, frames(1, 1024 * 1024))).to.equal(true);
      expect(bridge.stats().ingress.received).to.equal(0);
      const push = new Push({ linger: 0 });
      push.connect(`tcp://127.0.0.1:${bridge.port}`);
      await push.send(frames(2, 60 * 1024));
      const m = new SeqMeta();
      expect(await rx.waitMetadata(m, { timeoutMs: 10000 })).to.equal(LBM_OK);
      expect(m.seq).to.equal(2);
      await rx.recvBulks(m);
      push.close();
      expect(bridge.stats().ingress).to.include({ received: 1, delivered: 1 });
    } finally {
      await bridge.close();
      await rx.close();
    }
  });

  it('takes the bound from "lightbeam bridge --max-message-bytes"', async () => {
    let child: BridgeChild | null = null;
    try {
      child = await startBridge(['--listen', 'tcp://127.0.0.1:0', '--default-channel', 'in', '--max-message-bytes', '4096']);
      expect(await sendAndSeeDropped(new Push({ linger: 0 }), `tcp://127.0.0.1:${child.port}`, frames(1, 100000))).to.equal(true);
      child.proc.kill('SIGTERM');
      expect(await child.exited(20000)).to.equal(0);
      expect(child.stats()?.ingress.received).to.equal(0);
    } finally {
      child?.kill();
    }
  });
});
