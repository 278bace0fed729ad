// The physical-limit peer for the shm round trip: two bare multi-producer, single-consumer rings
// (Vyukov's sequence-numbered slots) in one SharedArrayBuffer, carrying a 16-byte descriptor per
// message, with both ends busy-polling. It does what a transport must do at minimum (claim a slot
// by CAS, publish, consume, free) and nothing else, so the gap between it and Lightbeam is
// Lightbeam's own cost. Plain .mjs so a worker thread loads it without a TypeScript loader.
//
// Buffer: the ping ring (pinger produces, echo consumes) at `state.ping`, then the pong ring
// (echo produces, pinger consumes) at `state.pong`. Each ring, relative to its base (64-aligned):
//
// | offset | size      | field    | who writes it                                          |
// |-------:|----------:|----------|--------------------------------------------------------|
// |      0 |         4 | magic    | creator (`BARE_RING_MAGIC`)                            |
// |      4 |         4 | capacity | creator (slots, a power of two)                        |
// |   8-63 |        56 | reserved | -                                                      |
// |     64 |         4 | tail     | producers (CAS: claims a position)                     |
// | 68-127 |        60 | padding  | - (keeps the producers' line apart from the consumer's) |
// |    128 |         4 | head     | consumer (next position to read)                       |
// |132-191 |        60 | padding  | -                                                      |
// |    192 | cap. × 32 | slots    | see below                                              |
//
// Slot (32 bytes, two per 64-byte line):
//
// | offset | size | field    | who writes it                                                  |
// |-------:|-----:|----------|----------------------------------------------------------------|
// |      0 |    4 | turn     | producer (pos + 1: published), consumer (pos + cap: free again) |
// |      4 |    4 | reserved | -                                                              |
// |      8 |    4 | seq      | producer (descriptor: message sequence number)                 |
// |     12 |    4 | length   | producer (descriptor: payload bytes)                           |
// |     16 |    8 | offset   | producer (descriptor: f64 payload offset)                      |
// |  24-31 |    8 | reserved | -                                                              |
//
// Positions are i32 counters compared with wrap-around arithmetic. A slot is free for the
// producer that claimed position p when turn === p, and holds p's message when turn === p + 1.
// The descriptor is written with plain stores: it is the message body, and the Atomics.store of
// `turn` publishes it (the consumer reads it only after an Atomics.load that saw that store), the
// same way a memcpy'd payload is published; an atomic store per field would measure fences.
//
// Every loop is bounded by a count, the stop flag (word 0 of the control Int32Array, as in
// bench/shm/roles.mjs), or 10 s without progress. Nothing is allocated per message.
import { IDLE_MS, echoShouldStop } from './echo-stop.mjs';

/** "BBRG" little-endian: marks an initialised bare ring. */
export const BARE_RING_MAGIC = 0x47524242;
/** Bytes of a ring header: a read-only line, the producers' line, the consumer's line. */
export const BARE_RING_HEADER_BYTES = 192;
/** Bytes of a slot: an 8-byte slot header, the 16-byte descriptor, 8 bytes to keep lines whole. */
export const BARE_RING_SLOT_BYTES = 32;
/** Payload bytes every descriptor claims, matching the 64-byte messages of the shm bench. */
export const BARE_RING_PAYLOAD_BYTES = 64;

// Int32 indices relative to the ring base.
const I_MAGIC = 0;
const I_CAPACITY = 1;
const I_TAIL = 64 / 4;
const I_HEAD = 128 / 4;
const I_SLOTS = BARE_RING_HEADER_BYTES / 4;
const SLOT_I32 = BARE_RING_SLOT_BYTES / 4;
// Within a slot: Int32 indices, and the Float64 index of the offset field.
const S_TURN = 0;
const S_SEQ = 2;
const S_LENGTH = 3;
const S_OFFSET_F64 = 16 / 8;
const F64_SLOTS = BARE_RING_HEADER_BYTES / 8;
const SLOT_F64 = BARE_RING_SLOT_BYTES / 8;

// Empty polls between looks at the clock and the stop flag: rare enough to keep a poll to one
// cache line, often enough to notice a stop within microseconds.
const CHECK_EVERY = 4096;
// CAS retries per push attempt; the caller's loop (bounded by time) tries again.
const MAX_CAS = 64;

/** Bytes one ring of `capacity` slots occupies (a multiple of 64). */
function ringBytes(capacity) {
  return BARE_RING_HEADER_BYTES + capacity * BARE_RING_SLOT_BYTES;
}

/** Writes a fresh ring's header and slot turns at `base`; run once, before any thread attaches. */
function initRing(buffer, base, capacity) {
  const i32 = new Int32Array(buffer, base, ringBytes(capacity) / 4);
  for (let s = 0; s < capacity; s++) {
    // Slot s starts free for position s (first lap).
    Atomics.store(i32, I_SLOTS + s * SLOT_I32 + S_TURN, s);
  }
  // Read-only from here on; published together with the turns by the magic store below.
  Atomics.store(i32, I_CAPACITY, capacity);
  // Published last: a view that finds the magic finds the rest initialised.
  Atomics.store(i32, I_MAGIC, BARE_RING_MAGIC);
}

/**
 * The shared state of a ping/pong pair of bare rings. A plain object, so it travels in
 * `workerData` or `postMessage` (the SharedArrayBuffer is shared, not copied).
 *
 * @typedef {object} BareRingState
 * @property {SharedArrayBuffer} buffer both rings
 * @property {number} ping byte offset of the ring the pinger produces into
 * @property {number} pong byte offset of the ring the echo produces into
 */

/**
 * Creates the shared state for one pinger and one echo. It can serve several `bareRingPing`
 * runs in turn against one `bareRingEcho`, because sequence numbers follow ring positions.
 *
 * @param {number} [capacity=64] slots per ring (a power of two, at least 2); a ping-pong keeps
 *   one message in flight, so this only matters for the memory the rings touch
 * @returns {BareRingState}
 */
export function createBareRings(capacity = 64) {
  if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`createBareRings capacity must be a power of two >= 2, got ${capacity}`);
  }
  const bytes = ringBytes(capacity);
  const buffer = new SharedArrayBuffer(2 * bytes);
  initRing(buffer, 0, capacity);
  initRing(buffer, bytes, capacity);
  return { buffer, ping: 0, pong: bytes };
}

/** One thread's view of one ring; `seq`, `length` and `offset` hold the last popped descriptor. */
class BareRing {
  constructor(buffer, base) {
    const probe = new Int32Array(buffer, base, I_SLOTS);
    // Acquire the creator's initialisation (published by the magic store).
    const magic = Atomics.load(probe, I_MAGIC);
    if (magic !== BARE_RING_MAGIC) throw new Error(`no bare ring at byte ${base}: magic 0x${(magic >>> 0).toString(16)}`);
    this.capacity = Atomics.load(probe, I_CAPACITY);
    this.mask = this.capacity - 1;
    this.i32 = new Int32Array(buffer, base, ringBytes(this.capacity) / 4);
    this.f64 = new Float64Array(buffer, base, ringBytes(this.capacity) / 8);
    // Acquire the consumer's position; only the (single) consumer uses this copy afterwards.
    this.head = Atomics.load(this.i32, I_HEAD);
    this.seq = 0;
    this.length = 0;
    this.offset = 0;
  }

  /** The next position a producer will claim (for a lone producer: how many it has sent). */
  tail() {
    // Acquire the producers' claim counter.
    return Atomics.load(this.i32, I_TAIL);
  }

  /** Publishes one descriptor; false if the ring is full (or the CAS kept losing). */
  tryPush(seq, length, offset) {
    const i32 = this.i32;
    // Acquire the claim counter; a stale value only costs a failed CAS.
    let pos = Atomics.load(i32, I_TAIL);
    for (let attempt = 0; attempt < MAX_CAS; attempt++) {
      const slot = pos & this.mask;
      const t = I_SLOTS + slot * SLOT_I32;
      // Acquire the slot's turn: equal to pos means the consumer freed it for this lap.
      const dif = (Atomics.load(i32, t + S_TURN) - pos) | 0;
      if (dif === 0) {
        // Claim position pos; on a lost race this returns the winner's tail to retry with.
        const seen = Atomics.compareExchange(i32, I_TAIL, pos, (pos + 1) | 0);
        if (seen === pos) {
          i32[t + S_SEQ] = seq;
          i32[t + S_LENGTH] = length;
          this.f64[F64_SLOTS + slot * SLOT_F64 + S_OFFSET_F64] = offset;
          // Publish the descriptor written above: the consumer reads it after seeing pos + 1.
          Atomics.store(i32, t + S_TURN, (pos + 1) | 0);
          return true;
        }
        pos = seen;
      } else if (dif < 0) {
        return false; // full: the slot still holds the previous lap's message
      } else {
        // Another producer took pos; re-acquire the counter it advanced.
        pos = Atomics.load(i32, I_TAIL);
      }
    }
    return false;
  }

  /** Takes the descriptor at head into `seq`/`length`/`offset`; false if none is published. */
  tryPop() {
    const i32 = this.i32;
    const pos = this.head;
    const slot = pos & this.mask;
    const t = I_SLOTS + slot * SLOT_I32;
    // Acquire the producer's publication of this slot and the descriptor written before it.
    if (Atomics.load(i32, t + S_TURN) !== ((pos + 1) | 0)) return false;
    this.seq = i32[t + S_SEQ];
    this.length = i32[t + S_LENGTH];
    this.offset = this.f64[F64_SLOTS + slot * SLOT_F64 + S_OFFSET_F64];
    // Release the slot to the producer of the next lap, after the reads above.
    Atomics.store(i32, t + S_TURN, (pos + this.capacity) | 0);
    this.head = (pos + 1) | 0;
    // Publish the consumer's position on its own line (for a view attaching later).
    Atomics.store(i32, I_HEAD, this.head);
    return true;
  }
}

/** Pushes, spinning while the ring is full; throws after IDLE_MS without space. */
function pushSpin(ring, seq, length, offset) {
  let waitingSince = 0;
  for (let spins = 1; !ring.tryPush(seq, length, offset); spins++) {
    if (spins % CHECK_EVERY !== 0) continue;
    const now = performance.now();
    if (spins === CHECK_EVERY) waitingSince = now;
    else if (now - waitingSince > IDLE_MS) throw new Error(`bare ring: no free slot for seq ${seq} in ${IDLE_MS} ms`);
  }
}

/**
 * One round trip: publishes `seq` on `out`, spins on `back` for the reply, and verifies it. A
 * reply whose sequence number, length or offset is not the one sent throws, so a lost,
 * duplicated, reordered or torn message cannot pass as a fast one. Reads the clock only every
 * CHECK_EVERY empty polls, so a prompt reply costs no clock read (and no allocation).
 */
function roundTrip(out, back, seq) {
  const offset = (seq & out.mask) * BARE_RING_PAYLOAD_BYTES;
  pushSpin(out, seq, BARE_RING_PAYLOAD_BYTES, offset);
  let waitingSince = 0;
  for (let spins = 1; !back.tryPop(); spins++) {
    if (spins % CHECK_EVERY !== 0) continue;
    const now = performance.now();
    if (spins === CHECK_EVERY) waitingSince = now;
    else if (now - waitingSince > IDLE_MS) throw new Error(`bare ring: no reply to seq ${seq} in ${IDLE_MS} ms`);
  }
  if (back.seq !== seq || back.length !== BARE_RING_PAYLOAD_BYTES || back.offset !== offset) {
    throw new Error(`bare ring: reply seq ${back.seq} length ${back.length} offset ${back.offset}, sent seq ${seq} length ${BARE_RING_PAYLOAD_BYTES} offset ${offset}`);
  }
}

/**
 * The pinging end: `warmup` untimed, then `n` timed round trips of one descriptor each, spinning
 * on the pong ring for every reply and verifying it (see `roundTrip`).
 *
 * @param {BareRingState} state from `createBareRings`, shared with a running `bareRingEcho`
 * @param {number} n timed round trips
 * @param {number} warmup untimed round trips first (JIT, caches)
 * @returns {Float64Array} n round-trip times in microseconds
 */
export function bareRingPing(state, n, warmup) {
  const out = new BareRing(state.buffer, state.ping);
  const back = new BareRing(state.buffer, state.pong);
  const times = new Float64Array(n);
  // The lone producer's position is also the next sequence number the echo expects.
  let seq = out.tail();
  for (let i = 0; i < warmup; i++) {
    roundTrip(out, back, seq);
    seq = (seq + 1) | 0;
  }
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    roundTrip(out, back, seq);
    times[i] = (performance.now() - t0) * 1000;
    seq = (seq + 1) | 0;
  }
  return times;
}

/**
 * The pinging end without a clock per message: `n` verified round trips back to back, timed as a
 * whole. For allocation checks: in Node 20 `performance.now()` itself allocates (about 16 young
 * GCs per million calls), which would hide whether the ring does.
 *
 * @param {BareRingState} state from `createBareRings`, shared with a running `bareRingEcho`
 * @param {number} n round trips
 * @returns {number} microseconds for all n (n / result = round trips per microsecond)
 */
export function bareRingPingBatch(state, n) {
  const out = new BareRing(state.buffer, state.ping);
  const back = new BareRing(state.buffer, state.pong);
  let seq = out.tail();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    roundTrip(out, back, seq);
    seq = (seq + 1) | 0;
  }
  return (performance.now() - t0) * 1000;
}

/**
 * The echoing end: sends every descriptor from the ping ring back on the pong ring, checking
 * each one's sequence number is the next expected, until `stopCtl[0]` is non-zero or nothing
 * arrives for 10 s. Spins without yielding, so it blocks its thread's event loop while it runs.
 *
 * @param {BareRingState} state from `createBareRings`
 * @param {Int32Array} stopCtl control words over a SharedArrayBuffer; word 0 is the stop flag
 * @returns {number} how many messages it echoed
 */
export function bareRingEcho(state, stopCtl) {
  const inbox = new BareRing(state.buffer, state.ping);
  const outbox = new BareRing(state.buffer, state.pong);
  let expected = inbox.head;
  let echoed = 0;
  let spins = 0;
  const idle = { idleSince: 0 };
  for (;;) {
    if (inbox.tryPop()) {
      if (inbox.seq !== expected) throw new Error(`bare ring echo: got seq ${inbox.seq}, expected ${expected}`);
      pushSpin(outbox, inbox.seq, inbox.length, inbox.offset);
      expected = (expected + 1) | 0;
      echoed++;
      spins = 0;
      continue;
    }
    if (echoShouldStop(++spins, CHECK_EVERY, stopCtl, idle)) return echoed;
  }
}
