// The pipeline a user would build without Lightbeam, main thread of one process. ROLE=A is the
// side whose worker sends (throughput) or asks (round trip); ROLE=B the side whose worker
// receives or echoes. MODE=tput or rtt. A binds PORT_A and connects to PORT_B; B the reverse.
//
//   worker A --postMessage (transfer)--> main A --zeromq.js PUSH--> tcp --> PULL main B
//            --postMessage--> worker B
//
// and back the same way for credits (throughput) or echoes (round trip). zeromq.js allows one
// send in progress per socket, so each main thread feeds its PUSH socket from an ordered queue
// (at most WINDOW deep: the workers' flow control bounds it).
//
// zeromq.js and transfer lists: a received frame over 128 bytes is an external buffer over
// libzmq's own message memory (zeromq.js src/incoming_msg.cc, zero_copy_threshold). Node cannot
// detach such an ArrayBuffer: listed in a transfer list it is silently cloned instead (Node 20,
// zeromq.js 6.8: no error, the frame stays readable here and a write to it after postMessage is
// not seen by the worker). A clone is serialised on this thread and deserialised on the worker's,
// two copies: a one-off measurement on this 2-core machine gave ~300-500 us per MiB end to end,
// against ~90 us for copying the frame once into a fresh ArrayBuffer (`ArrayBuffer.prototype.
// slice`) and transferring that. So B's main thread does the latter: one copy per message, the
// fastest correct hand-off there is. Frames up to 128 bytes are copied by zeromq.js into an
// ordinary, detachable buffer, which is transferred as is.
import { Worker } from 'node:worker_threads';
import { Pull, Push } from 'zeromq';
import { COUNT, CREDIT_EVERY, HOST_A, HOST_B, ROUNDS, WAIT_MS, WARMUP, creditFrame, creditOf, num, out } from './common.mjs';

/** zeromq.js hands frames larger than this over as (undetachable) external buffers. */
const ZMQ_ZERO_COPY_THRESHOLD = 128;

const role = process.env.ROLE;
const mode = process.env.MODE;
if ((role !== 'A' && role !== 'B') || (mode !== 'tput' && mode !== 'rtt')) throw new Error(`ROLE must be A or B, MODE tput or rtt; got ${role} ${mode}`);
const [bindPort, peerPort] = role === 'A' ? [num('PORT_A', 0), num('PORT_B', 0)] : [num('PORT_B', 0), num('PORT_A', 0)];

const pull = new Pull({ receiveTimeout: WAIT_MS });
await pull.bind(`tcp://${role === 'A' ? HOST_A : HOST_B}:${bindPort}`);
const push = new Push({ linger: 2000 });
push.connect(`tcp://${role === 'A' ? HOST_B : HOST_A}:${peerPort}`);

const worker = new Worker(new URL('./diy-worker.mjs', import.meta.url), { workerData: { role, mode }, execArgv: [] });
let failed = null;
worker.on('error', (err) => (failed = err));

// Worker -> PUSH, in order, one send at a time.
const queue = [];
let pumping = null;
async function pump() {
  while (queue.length > 0) await push.send(queue.shift());
  pumping = null;
}
worker.on('message', (m) => {
  if (m instanceof ArrayBuffer) queue.push(m); // data (A, tput) or an echo (B, rtt): by reference
  else if (typeof m === 'number') queue.push(creditFrame(m)); // a credit (B, tput)
  else return out(m); // the worker's result line
  pumping ??= pump().catch((err) => (failed = err));
});

/** PULL -> worker: a credit as a number, anything else as a transferred ArrayBuffer. */
function handoff(frame) {
  if (role === 'A' && mode === 'tput') return worker.postMessage(creditOf(frame));
  if (frame.byteLength > ZMQ_ZERO_COPY_THRESHOLD || frame.byteOffset !== 0 || frame.byteLength !== frame.buffer.byteLength) {
    const ab = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength); // the one copy
    return worker.postMessage(ab, [ab]);
  }
  worker.postMessage(frame.buffer, [frame.buffer]);
}

const exited = new Promise((resolve) => worker.once('exit', resolve));
// What arrives on PULL: B gets the COUNT data messages (tput) or every request (rtt); A gets the
// credits (the first window, then one per CREDIT_EVERY messages) or every echo (rtt). Each
// receive is bounded by receiveTimeout.
const expected = mode === 'rtt' ? WARMUP + ROUNDS : role === 'B' ? COUNT : 1 + COUNT / CREDIT_EVERY;
try {
  for (let i = 0; i < expected && failed === null; i++) handoff((await pull.receive())[0]);
} catch (err) {
  failed ??= err;
  await worker.terminate();
}
const code = await exited;
if (pumping !== null) await pumping; // the last credits or echoes go out before we close
pull.close();
push.close();
if (failed !== null) throw failed;
if (code !== 0) throw new Error(`DIY worker ${role} exited with ${code}`);
