// The two ends of every measurement in bench/shm.bench.ts, as plain functions any thread can run
// (the main thread imports them; bench/shm/worker.mjs runs them in workers). Plain .mjs so a
// worker loads it without a TypeScript loader. Every loop is bounded by a count, a stop flag, or
// IDLE_MS without progress.
//
// ctl (Int32Array over a 64-byte SharedArrayBuffer) words:
//
// | word | field    | who writes it                                                      |
// |-----:|----------|--------------------------------------------------------------------|
// |    0 | STOP     | main thread (1: stop)                                              |
// |    1 | READY    | each end once it is set up (counter)                               |
// |    2 | RECEIVED | a sink, once per message it finished with (counter; also the ack   |
// |      |          | a flow-controlled postMessage sender waits for)                    |
// |    3 | SEQ      | the raw Atomics ping-pong (odd: ping, even: pong)                  |
// |    8 | GC_WORD  | a bare-ring pinger's young-GC count (bench/shm/peers.bench.ts)     |
//
// Lightbeam ends here never allocate per message on the synchronous path: each end builds one
// outgoing LbmMeta (one Bulk, made once) and one incoming LbmMeta, and receives into the same
// recv Bulk every time. The receive refills the incoming meta in place and empties its `recv`
// with pop, so pushing the reused Bulk back costs nothing (never `recv.length = 0`: V8 drops the
// backing store and the next push allocates).
import { BULK_EXPOSE, BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import { GcCounter } from '../support/gc-count.mjs';

/** ctl word: stop flag. */
export const STOP = 0;
/** ctl word: ready counter. */
export const READY = 1;
/** ctl word: messages a sink received (also the flow-controlled postMessage sender's ack). */
export const RECEIVED = 2;
/** ctl word: raw ping-pong sequence. */
export const SEQ = 3;

// Empty polls between looks at the clock: rare enough that a spin stays on the ring's line (and
// allocates nothing: Node 20's performance.now() returns a fresh HeapNumber), often enough to
// notice a stall within microseconds of IDLE_MS.
const CHECK_EVERY = 4096;
/** Milliseconds without progress after which a spinning end gives up. */
const IDLE_MS = 10_000;
/** Longest blocking or async wait for one message before the run is declared broken. */
const WAIT_MS = 10_000;
// One options object for every waiting call: a literal per call would allocate per message.
const WAIT = Object.freeze({ timeoutMs: WAIT_MS });

const stopped = (ctl) => Atomics.load(ctl, STOP) !== 0;

/** Says "this end is set up" to whoever waits on ctl[READY]. */
export function signalReady(ctl) {
  // Publishes that this thread bound its channel before the other side starts sending.
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY);
}

/** Waits (without blocking the event loop) until `n` ends signalled ready. */
export async function awaitReady(ctl, n, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // Acquire the ends' ready counts (and the channel binds published before them).
    const v = Atomics.load(ctl, READY);
    if (v >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${v} of ${n} bench threads became ready`);
    // A timer, not Atomics.waitAsync: a pending waitAsync does not keep the event loop alive.
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Spins until ctl[RECEIVED] reaches `target` (a sink in another thread counts there); throws
 * after IDLE_MS without the count moving. Blocks the calling thread meanwhile, so the time of
 * the last message's arrival is seen within a poll.
 */
export function spinUntilReceived(ctl, target) {
  let last = -1;
  let since = 0;
  for (let spins = 1; ; spins++) {
    // Acquire the sink's count; it bumps it after each message it finished with.
    const got = Atomics.load(ctl, RECEIVED);
    if (got >= target) return;
    if (spins % CHECK_EVERY !== 0) continue;
    const now = performance.now();
    if (got !== last) {
      last = got;
      since = now;
    } else if (now - since > IDLE_MS) {
      throw new Error(`only ${got} of ${target} messages arrived (no progress in ${IDLE_MS} ms)`);
    }
  }
}

// ---- Lightbeam ends -------------------------------------------------------------------------

/** Binds `channel` and connects to `reply`; returns both. */
export async function shmEnds(channel, reply, serverOptions) {
  const server = await ShmServer.create(channel, serverOptions);
  const client = new ShmClient(reply);
  return { server, client };
}

/**
 * Everything one end needs per message, made once: the outgoing meta (one `size`-byte bulk with
 * `flags`: XFER of a private buffer, or EXPOSE of a slab block of this thread's memory), the
 * incoming meta, and the recv bulk that XFER data is copied into. A 4-byte sequence number
 * travels in the first bytes of every payload, so a lost, repeated or stale message fails the
 * run instead of passing as a fast one.
 *
 * @param {{ server: ShmServer | null, client: ShmClient | null, size: number, flags: number }} ends
 */
export function shmKit({ server, client, size, flags }) {
  if (flags !== BULK_XFER && flags !== BULK_EXPOSE) throw new RangeError(`shmKit flags must be BULK_XFER or BULK_EXPOSE, got ${flags}`);
  if (!Number.isInteger(size) || size < 4) throw new RangeError(`shmKit size must be an integer >= 4 (a sequence number travels in it), got ${size}`);
  let block = null;
  let outBytes;
  let manager = null;
  if (flags === BULK_EXPOSE) {
    manager = MemoryManager.current();
    if (manager === null) throw new Error('shmKit: EXPOSE needs a MemoryManager in this thread');
    block = manager.allocateOrThrow(size);
    outBytes = manager.toFullPtr(block, size);
  } else {
    outBytes = new Uint8Array(size);
  }
  const out = new LbmMeta();
  if (client !== null) out.send.push(client.expose(outBytes, size, flags));
  const inBytes = new Uint8Array(size);
  return {
    server,
    client,
    size,
    flags,
    out,
    inbox: new LbmMeta(),
    /** Where this end writes the sequence number it sends. */
    outBytes: flags === BULK_EXPOSE ? outBytes.ptr : outBytes,
    /** Where XFER data is received. */
    inBytes,
    recvBulk: server === null ? null : server.expose(inBytes, size, BULK_XFER),
    /** Frees the EXPOSE block (after the run: the peer may read it until then). */
    dispose() {
      if (block !== null) manager.free(block);
      block = null;
    },
  };
}

/** Writes `seq` little-endian into `bytes[0..3]` (no view, no allocation). */
function putSeq(bytes, seq) {
  bytes[0] = seq;
  bytes[1] = seq >>> 8;
  bytes[2] = seq >>> 16;
  bytes[3] = seq >>> 24;
}

/** Reads the little-endian i32 in `bytes[0..3]`. */
function getSeq(bytes) {
  return bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
}

/**
 * Calls `op` on `target` with `meta` while it answers EAGAIN; throws on any other non-zero code,
 * or when it has kept answering EAGAIN for IDLE_MS (`stall` says what that means). `op` is the
 * method itself (no closure), so a retry loop allocates nothing.
 */
function retrySpin(op, target, meta, stall) {
  let rc = op.call(target, meta);
  if (rc === 0) return;
  let since = 0;
  for (let spins = 1; rc === EAGAIN; spins++) {
    if (spins % CHECK_EVERY === 0) {
      const now = performance.now();
      if (since === 0) since = now;
      else if (now - since > IDLE_MS) throw new Error(`${op.name}: ${stall} for ${IDLE_MS} ms`);
    }
    rc = op.call(target, meta);
  }
  if (rc !== 0) throw new Error(`${op.name}: ${rc}`);
}

/** `sendNow`, retried while the ring is full (EAGAIN); throws on any other code or a long stall. */
function sendSpin(client, meta) {
  retrySpin(client.sendNow, client, meta, 'ring full');
}

/** `recvMetadataNow` until a message arrives; throws on -1 or another code, or a long stall. */
function recvSpin(server, meta) {
  retrySpin(server.recvMetadataNow, server, meta, 'nothing');
}

/** The blocking receive (`waitMetadataSync`: the thread sleeps in Atomics.wait). */
function recvBlock(server, meta) {
  const rc = server.waitMetadataSync(meta, WAIT_MS);
  if (rc !== 0) throw new Error(`waitMetadataSync: ${rc}`);
}

/** Receives by `mode` ('spin' or 'block') into `kit.inbox`. */
function recvSync(kit, mode) {
  if (mode === 'spin') recvSpin(kit.server, kit.inbox);
  else recvBlock(kit.server, kit.inbox);
}

/**
 * Checks the message in `kit.inbox` (one bulk of the kit's size and flags), takes its data (XFER:
 * copied into `kit.inBytes` by `recvBulksNow` through the reused recv bulk; EXPOSE: read in
 * place, nothing to release) and returns the sequence number it carries.
 */
function takeMessage(kit) {
  const meta = kit.inbox;
  const b = meta.send[0];
  if (meta.send.length !== 1 || b.size !== kit.size || b.flags !== kit.flags) {
    throw new Error(`got ${meta.send.length} bulk(s), the first of ${b?.size} bytes with flags ${b?.flags}; expected one of ${kit.size} bytes with flags ${kit.flags}`);
  }
  if (kit.flags === BULK_XFER) {
    // The receive emptied recv (with pop): this push reuses its backing store.
    meta.recv.push(kit.recvBulk);
    const rc = kit.server.recvBulksNow(meta);
    if (rc !== 0) throw new Error(`recvBulksNow: ${rc}`);
    return getSeq(kit.inBytes);
  }
  // An EXPOSE-only message has no data frames: the transport released it at receive.
  if (b.data === null) throw new Error('EXPOSE bulk arrived without its shared bytes');
  return getSeq(b.data.ptr);
}

/**
 * The pinging end on the synchronous API: `warmup` untimed, then `n` round trips, each
 * `sendNow` (retried while full) and a receive by `mode`: `spin` (`recvMetadataNow` in a loop) or
 * `block` (`waitMetadataSync`). With `times`, each round trip is clocked into it (microseconds);
 * with `null`, nothing is (the clock allocates, which a GC count must not see).
 *
 * @returns the sequence number of the last round trip
 */
export function shmPingSync(kit, mode, n, warmup, times) {
  let seq = kit.seq ?? 0;
  for (let i = -warmup; i < n; i++) {
    seq = (seq + 1) | 0;
    const t0 = times === null ? 0 : performance.now();
    putSeq(kit.outBytes, seq);
    sendSpin(kit.client, kit.out);
    recvSync(kit, mode);
    const got = takeMessage(kit);
    if (times !== null && i >= 0) times[i] = (performance.now() - t0) * 1000;
    if (got !== seq) throw new Error(`ping: reply carries seq ${got}, sent ${seq}`);
  }
  kit.seq = seq;
  return seq;
}

/** The echoing end on the synchronous API: answers `count` messages, checking their sequence. */
export function shmEchoSync(kit, mode, count) {
  let expected = kit.seq ?? 0;
  for (let i = 0; i < count; i++) {
    recvSync(kit, mode);
    const got = takeMessage(kit);
    expected = (expected + 1) | 0;
    if (got !== expected) throw new Error(`echo: got seq ${got}, expected ${expected}`);
    putSeq(kit.outBytes, got);
    sendSpin(kit.client, kit.out);
  }
  kit.seq = expected;
}

/** `await client.send` with the shared options object; throws on a non-zero code. */
async function sendAsync(client, meta) {
  const rc = await client.send(meta, WAIT);
  if (rc !== 0) throw new Error(`send: ${rc}`);
}

/** `await server.waitMetadata` with the shared options object; throws on a non-zero code. */
async function recvAsync(server, meta) {
  const rc = await server.waitMetadata(meta, WAIT);
  if (rc !== 0) throw new Error(`waitMetadata: ${rc}`);
}

/**
 * The pinging end on the async API (`await send`, `await waitMetadata`): as `shmPingSync`, timed.
 * Whether a waiting receive spins first or parks at once is the server's `spinUs`.
 */
export async function shmPingAsync(kit, n, warmup, times) {
  let seq = kit.seq ?? 0;
  for (let i = -warmup; i < n; i++) {
    seq = (seq + 1) | 0;
    const t0 = performance.now();
    putSeq(kit.outBytes, seq);
    await sendAsync(kit.client, kit.out);
    await recvAsync(kit.server, kit.inbox);
    const got = takeMessage(kit);
    if (i >= 0) times[i] = (performance.now() - t0) * 1000;
    if (got !== seq) throw new Error(`ping: reply carries seq ${got}, sent ${seq}`);
  }
  kit.seq = seq;
}

/** The echoing end on the async API: answers `count` messages, checking their sequence. */
export async function shmEchoAsync(kit, count) {
  let expected = kit.seq ?? 0;
  for (let i = 0; i < count; i++) {
    await recvAsync(kit.server, kit.inbox);
    const got = takeMessage(kit);
    expected = (expected + 1) | 0;
    if (got !== expected) throw new Error(`echo: got seq ${got}, expected ${expected}`);
    putSeq(kit.outBytes, got);
    await sendAsync(kit.client, kit.out);
  }
  kit.seq = expected;
}

/**
 * Young GCs on this thread over `n` messages handled by `section(n)`, after `warmup` handled by
 * `section(warmup)` (JIT, pools, caches); `section` must not read the clock per message.
 *
 * @returns [microseconds for the n, young GCs among them]
 */
export async function countGcs(section, n, warmup) {
  section(warmup);
  const gc = new GcCounter();
  gc.start();
  const t0 = performance.now();
  section(n);
  const us = (performance.now() - t0) * 1000;
  const { young } = await gc.stop();
  return Float64Array.of(us, young);
}

/**
 * A sink of a one-way stream: receives exactly `count` messages of the kit's size and flags,
 * taking each one's data (XFER copied out, EXPOSE read in place), and counts each in
 * ctl[RECEIVED] for the sender. `mode`: `sync` drains with `recvMetadataNow` and blocks in
 * `waitMetadataSync` when the ring is empty (the synchronous API's consumer); `spin` only polls
 * (`recvMetadataNow`); `async` awaits `waitMetadata` per message.
 */
export async function shmSink(kit, mode, count, ctl) {
  const server = kit.server;
  const meta = kit.inbox;
  let expected = 0;
  for (let i = 0; i < count; i++) {
    if (mode === 'async') await recvAsync(server, meta);
    else if (mode === 'spin') recvSpin(server, meta);
    else {
      const rc = server.recvMetadataNow(meta);
      if (rc === EAGAIN) recvBlock(server, meta);
      else if (rc !== 0) throw new Error(`recvMetadataNow: ${rc}`);
    }
    const got = takeMessage(kit);
    expected = (expected + 1) | 0;
    // An EXPOSE stream shares one block that the sender rewrites while earlier messages are in
    // flight: only XFER data (staged at send) keeps each message's own sequence number.
    if (got !== expected && kit.flags === BULK_XFER) throw new Error(`sink: got seq ${got}, expected ${expected}`);
    // Counts the message for the sender, which waits for the total.
    Atomics.add(ctl, RECEIVED, 1);
  }
}

/** The synchronous sink loop of `shmSink` for `count` messages from `kit.seq` on (for GC counts). */
export function shmSinkSpin(kit, count, ctl) {
  let expected = kit.seq ?? 0;
  for (let i = 0; i < count; i++) {
    recvSpin(kit.server, kit.inbox);
    const got = takeMessage(kit);
    expected = (expected + 1) | 0;
    if (got !== expected) throw new Error(`sink: got seq ${got}, expected ${expected}`);
    // Counts the message for the sender, which waits for the total.
    Atomics.add(ctl, RECEIVED, 1);
  }
  kit.seq = expected;
}

/**
 * The sending end of a one-way stream on the synchronous API: `count` messages, `sendNow` each,
 * spinning while the ring is full (the ring is the flow control). Numbers them from `kit.seq`.
 */
export function shmStreamSync(kit, count) {
  let seq = kit.seq ?? 0;
  for (let i = 0; i < count; i++) {
    seq = (seq + 1) | 0;
    putSeq(kit.outBytes, seq);
    sendSpin(kit.client, kit.out);
  }
  kit.seq = seq;
}

/**
 * The sending end on the async API: `count` messages, `await send` each (a full ring parks the
 * send until the sink frees a slot).
 */
export async function shmStreamAsync(kit, count) {
  let seq = kit.seq ?? 0;
  for (let i = 0; i < count; i++) {
    seq = (seq + 1) | 0;
    putSeq(kit.outBytes, seq);
    await sendAsync(kit.client, kit.out);
  }
  kit.seq = seq;
}

// ---- MessagePort peers -------------------------------------------------------------------------

/** Echo side over a MessagePort: copies, or moves the buffer back (transfer list). */
export function portEcho(port, transfer) {
  port.on('message', (m) => {
    if (m === 'stop') {
      port.close();
      return;
    }
    if (transfer) port.postMessage(m, [m.buffer]);
    else port.postMessage(m);
  });
}

/**
 * Pinger over a MessagePort with a 'message' listener (the event-driven default): `n` timed
 * round trips of a `size`-byte Uint8Array after `warmup` untimed ones. The promise per round trip
 * is the event-driven style's own cost.
 */
export async function portPing(port, size, transfer, n, warmup) {
  let resolve = null;
  port.on('message', (m) => resolve(m));
  const times = new Float64Array(n);
  let buf = new Uint8Array(size).fill(7);
  for (let i = -warmup; i < n; i++) {
    const t0 = performance.now();
    const got = new Promise((r) => {
      resolve = r;
    });
    if (transfer) port.postMessage(buf, [buf.buffer]);
    else port.postMessage(buf);
    buf = await got;
    if (i >= 0) times[i] = (performance.now() - t0) * 1000;
  }
  port.removeAllListeners('message');
  return times;
}

/**
 * The flow-controlled postMessage sender of a one-way stream: `count` messages of `size` bytes,
 * never more than `window` unacknowledged (the sink counts each in ctl[RECEIVED]); spins on that
 * count when the window is full. `copy` posts one reused Uint8Array (cloned by postMessage);
 * `transfer` posts a fresh one with its buffer in the transfer list (a transferred buffer is
 * detached, so it cannot be reused: that allocation is the peer's inherent cost); `shared` posts
 * one reused view of a SharedArrayBuffer (only the view is cloned).
 */
export function portStream(port, ctl, kind, size, count, window) {
  const src = kind === 'shared' ? new Uint8Array(new SharedArrayBuffer(size)).fill(1) : new Uint8Array(size).fill(1);
  let since = 0;
  for (let i = 0; i < count; i++) {
    // Acquire the sink's count: everything it counted is off the port.
    for (let spins = 1; i - Atomics.load(ctl, RECEIVED) >= window; spins++) {
      if (spins % CHECK_EVERY !== 0) continue;
      const now = performance.now();
      if (since === 0) since = now;
      else if (now - since > IDLE_MS) throw new Error(`postMessage stream: no ack for ${IDLE_MS} ms at message ${i}`);
    }
    since = 0;
    if (kind === 'transfer') {
      const b = new Uint8Array(size);
      b[0] = 1;
      port.postMessage(b, [b.buffer]);
    } else {
      port.postMessage(src);
    }
  }
}

/** Sink over a MessagePort: counts messages in ctl[RECEIVED] (touching one byte of each). */
export function portSink(port, ctl) {
  let sink = 0;
  port.on('message', (m) => {
    if (m === 'stop') {
      port.close();
      return;
    }
    // A Uint8Array: copied, transferred, or (over a SharedArrayBuffer) shared.
    sink += m[0];
    // Acknowledges the message: the flow-controlled sender waits for this count.
    Atomics.add(ctl, RECEIVED, 1);
  });
  return () => sink;
}

// ---- raw Atomics ping-pong -----------------------------------------------------------------------
// On ctl[SEQ]: the pinger stores an odd value, the echo answers value+1. `spin` busy-waits on
// Atomics.load; `wait` blocks in Atomics.wait; `async` parks in Atomics.waitAsync. The waitAsync
// ends wait without a timeout: V8 arms a platform timer for every waitAsync that has one, a cost
// per park our own parked receive does not pay (it waits without a timeout too). The echo is
// woken for the stop by the notify on ctl[SEQ] that stopRoles sends; the pinger by a watchdog.

/** Echo side of the raw Atomics ping-pong, until ctl[STOP]. */
export async function atomicsEcho(ctl, how) {
  // A pending Atomics.waitAsync does not keep a thread's event loop alive; this timer does.
  const alive = setInterval(() => {}, 1000);
  try {
    await atomicsEchoLoop(ctl, how);
  } finally {
    clearInterval(alive);
  }
}

async function atomicsEchoLoop(ctl, how) {
  let last = 0;
  for (;;) {
    // Acquire the pinger's store.
    const v = Atomics.load(ctl, SEQ);
    if ((v & 1) === 1 && v !== last) {
      last = v;
      // Answer and wake the pinger if it parks.
      Atomics.store(ctl, SEQ, v + 1);
      if (how !== 'spin') Atomics.notify(ctl, SEQ);
      continue;
    }
    if (stopped(ctl)) return;
    if (how === 'wait') Atomics.wait(ctl, SEQ, v, 100);
    else if (how === 'async') await Atomics.waitAsync(ctl, SEQ, v).value;
  }
}

/** Pinger side of the raw Atomics ping-pong: `n` timed round trips after `warmup` untimed ones. */
export async function atomicsPing(ctl, how, n, warmup) {
  // Keeps the event loop alive during waitAsync parks, and breaks a stalled park: with no
  // progress for IDLE_MS it marks the run stalled and wakes the pinger.
  const watch = { progress: 0, seen: -1, stalledAt: 0, stalled: false };
  const alive = setInterval(() => {
    if (watch.progress !== watch.seen) {
      watch.seen = watch.progress;
      watch.stalledAt = performance.now();
    } else if (performance.now() - watch.stalledAt > IDLE_MS) {
      watch.stalled = true;
      Atomics.notify(ctl, SEQ);
    }
  }, 1000);
  try {
    return await atomicsPingLoop(ctl, how, n, warmup, watch);
  } finally {
    clearInterval(alive);
  }
}

async function atomicsPingLoop(ctl, how, n, warmup, watch) {
  const times = new Float64Array(n);
  for (let i = -warmup; i < n; i++) {
    const t0 = performance.now();
    const ask = (Atomics.load(ctl, SEQ) + 1) | 1;
    // Publish the ping; wake the echo if it parks.
    Atomics.store(ctl, SEQ, ask);
    if (how !== 'spin') Atomics.notify(ctl, SEQ);
    for (let spins = 1; ; spins++) {
      const v = Atomics.load(ctl, SEQ);
      if (v === ask + 1) break;
      if (how === 'wait') {
        if (Atomics.wait(ctl, SEQ, v, WAIT_MS) === 'timed-out') throw new Error(`atomics wait: no reply in ${WAIT_MS} ms`);
      } else if (how === 'async') {
        await Atomics.waitAsync(ctl, SEQ, v).value;
        if (watch.stalled) throw new Error(`atomics waitAsync: no reply in ${IDLE_MS} ms`);
      } else if (spins % (CHECK_EVERY * 256) === 0 && performance.now() - t0 > IDLE_MS) {
        throw new Error(`atomics spin: no reply in ${IDLE_MS} ms`);
      }
    }
    if (i >= 0) times[i] = (performance.now() - t0) * 1000;
    watch.progress++;
  }
  return times;
}

export { BULK_EXPOSE, BULK_XFER };
