// The sending process of bench/zmq.bench.ts. argv: mode (raw | lbm | lbm-batch | lbm-auto | lbm-default) port.
// Waits for {size, count} over IPC, sends `count` messages of one metadata frame + one bulk of
// `size` bytes, answers {sent}. Socket options match the receiver's (same HWM, same linger).
// lbm and lbm-batch run zero copy (copyXfer: false), as raw zeromq.js does: the payload is never
// rewritten. lbm-default is what a user gets without options: every XFER bulk copied (so the
// caller may reuse its buffer once send resolved), a new meta per message, awaited one by one.
import { BULK_XFER, LbmMeta, encodeMeta, expose } from '@lightbeam/core';
import { ZeroMqClient, zmqSendCopyStats } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';

const [mode, port] = process.argv.slice(2);
const HWM = 1000;
const LINGER = 1000;
const url = `tcp://127.0.0.1:${port}`;

let sendBatch;
/** What the sender reports beside `sent`: the default send's copy counters. */
let extra = () => ({});
if (mode === 'raw') {
  const push = new Push({ sendHighWaterMark: HWM, linger: LINGER });
  push.connect(url);
  sendBatch = async (size, count) => {
    const payload = Buffer.alloc(size, 0x5a);
    // The same 28-byte frame 0 Lightbeam sends for one XFER bulk of this size.
    const m = new LbmMeta();
    m.send.push(expose(payload, size, BULK_XFER));
    const header = encodeMeta(m);
    for (let i = 0; i < count; i++) await push.send([header, payload]);
  };
} else if (mode === 'lbm-default') {
  extra = () => ({ copies: zmqSendCopyStats() });
  const client = await ZeroMqClient.create('127.0.0.1', 'tcp', Number(port), { highWaterMark: HWM, linger: LINGER });
  const wait = { timeoutMs: 60_000 };
  sendBatch = async (size, count) => {
    const payload = Buffer.alloc(size, 0x5a);
    for (let i = 0; i < count; i++) {
      const meta = new LbmMeta();
      meta.send.push(client.expose(payload, size, BULK_XFER));
      const rc = await client.send(meta, wait);
      if (rc !== 0) throw new Error(`send failed: ${rc}`);
    }
  };
} else {
  // lbm-auto leaves `batch` at its default ('auto': batches once the server said it reads them).
  const batch = mode === 'lbm-auto' ? {} : { batch: mode === 'lbm-batch' };
  const client = await ZeroMqClient.create('127.0.0.1', 'tcp', Number(port), { highWaterMark: HWM, linger: LINGER, ...batch, copyXfer: false });
  const wait = { timeoutMs: 60_000 };
  sendBatch = async (size, count) => {
    const payload = Buffer.alloc(size, 0x5a);
    // One meta for the whole batch, as the raw sender reuses its header frame.
    const meta = new LbmMeta();
    meta.send.push(client.expose(payload, size, BULK_XFER));
    for (let i = 0; i < count; i++) {
      const rc = await client.send(meta, wait);
      if (rc !== 0) throw new Error(`send failed: ${rc}`);
    }
    await client.flush();
  };
}

process.on('message', async ({ size, count }) => {
  try {
    await sendBatch(size, count);
    process.send({ sent: count, ...extra() });
  } catch (err) {
    process.send({ error: String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
