// The peer a user would pick for low latency without Lightbeam: a MessagePort round trip where
// both ends busy-poll with `receiveMessageOnPort` instead of waiting for 'message' events, so no
// event-loop turn sits between the message arriving and its handling. What remains is
// postMessage's own cost: a structured clone of the payload and the port's internal queue.
// Plain .mjs so a worker thread loads it without a TypeScript loader.
//
// Every loop is bounded by a count, the stop flag (word 0 of the control Int32Array, as in
// bench/shm/roles.mjs), or 10 s without progress.
import { IDLE_MS, echoShouldStop } from './echo-stop.mjs';
import { receiveMessageOnPort } from 'node:worker_threads';

// Empty polls between looks at the clock and the stop flag.
const CHECK_EVERY = 1024;

/** Reads the little-endian i32 sequence number in a payload's first 4 bytes, without a view. */
function seqOf(bytes) {
  return bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
}

/**
 * The pinging end: `warmup` untimed, then `n` timed round trips of one `size`-byte Uint8Array,
 * spinning on `receiveMessageOnPort` for each reply. The same view is posted every time, its first
 * 4 bytes rewritten with the sequence number, so the only per-message allocation is the clone
 * postMessage makes (the peer's inherent cost). A reply with the wrong sequence or size throws.
 *
 * @param {import('node:worker_threads').MessagePort} port one end of a channel whose other end runs `portSpinEcho`
 * @param {number} size payload bytes (at least 4: the sequence number travels in them)
 * @param {number} n timed round trips
 * @param {number} warmup untimed round trips first
 * @returns {Float64Array} n round-trip times in microseconds
 */
export function portSpinPing(port, size, n, warmup) {
  if (!Number.isInteger(size) || size < 4) throw new RangeError(`portSpinPing size must be an integer >= 4, got ${size}`);
  const payload = new Uint8Array(size).fill(7);
  const times = new Float64Array(n);
  let seq = 0;
  for (let i = -warmup; i < n; i++) {
    payload[0] = seq;
    payload[1] = seq >>> 8;
    payload[2] = seq >>> 16;
    payload[3] = seq >>> 24;
    const t0 = performance.now();
    port.postMessage(payload);
    let got = receiveMessageOnPort(port);
    for (let spins = 1; got === undefined; spins++) {
      if (spins % CHECK_EVERY === 0 && performance.now() - t0 > IDLE_MS) {
        throw new Error(`port spin: no reply to seq ${seq} in ${IDLE_MS} ms`);
      }
      got = receiveMessageOnPort(port);
    }
    const t1 = performance.now();
    const reply = got.message;
    if (!(reply instanceof Uint8Array) || reply.length !== size || seqOf(reply) !== seq || reply[size - 1] !== 7) {
      const what = reply instanceof Uint8Array ? `${reply.length} bytes, seq ${seqOf(reply)}` : typeof reply;
      throw new Error(`port spin: reply of ${what}, sent ${size} bytes, seq ${seq}`);
    }
    if (i >= 0) times[i] = (t1 - t0) * 1000;
    seq = (seq + 1) | 0;
  }
  return times;
}

/**
 * The echoing end: posts every message straight back (the clone it received, so it allocates
 * nothing of its own), until `stopCtl[0]` is non-zero or nothing arrives for 10 s. Spins without
 * yielding, so it blocks its thread's event loop while it runs.
 *
 * @param {import('node:worker_threads').MessagePort} port the other end of the pinger's channel
 * @param {Int32Array} stopCtl control words over a SharedArrayBuffer; word 0 is the stop flag
 * @returns {number} how many messages it echoed
 */
export function portSpinEcho(port, stopCtl) {
  let echoed = 0;
  let spins = 0;
  const idle = { idleSince: 0 };
  for (;;) {
    const got = receiveMessageOnPort(port);
    if (got !== undefined) {
      port.postMessage(got.message);
      echoed++;
      spins = 0;
      continue;
    }
    if (echoShouldStop(++spins, CHECK_EVERY, stopCtl, idle)) return echoed;
  }
}
