// The receiving side of bench/zmq/send-breakdown.mjs and default-send-steady.mjs, forked as a child
// process: a PULL on a free tcp port, sent to the parent first. The parent arms it with
// `{ count }` (answered `{ armed: true }`) and is told `{ done }` once that many two-frame messages
// came; with LBM_TRACE set, `{ got }` every 32 messages meanwhile. Any other shape of message ends it
// with an error. It exits when the parent goes.
import { Pull } from 'zeromq';

const pull = new Pull({ receiveHighWaterMark: 1000 });
await pull.bind('tcp://127.0.0.1:*');
let want = 0;
let got = 0;
process.on('message', (m) => {
  want = m.count;
  got = 0;
  process.send({ armed: true });
});
process.on('disconnect', () => process.exit(0));
process.send({ port: Number(pull.lastEndpoint.split(':').pop()) });
for await (const frames of pull) {
  if (frames.length !== 2) throw new Error('a message without 2 frames');
  if (++got === want) process.send({ done: got });
  else if (process.env.LBM_TRACE && (got & 31) === 0) process.send({ got });
}
