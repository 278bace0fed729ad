// The Lightbeam ends of bench/shm.bench.ts: round-trip pingers and echoes, stream sources and
// sinks, and the young-GC counts, on the synchronous and the async API. Nothing here allocates per
// message on the synchronous path (see ../roles.mjs).
import { BULK_EXPOSE, BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import { GcCounter } from '../../support/gc-count.mjs';
import { CHECK_EVERY, IDLE_MS, RECEIVED, WAIT, WAIT_MS } from './ctl.mjs';

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

