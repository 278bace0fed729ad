// The two ends of every measurement in bench/shm.bench.ts, as plain functions any thread can run
// (the main thread imports them; bench/shm/worker.mjs runs them in workers). Plain .mjs so a
// worker loads it without a TypeScript loader. Every loop is bounded by a count or a stop flag.
//
// ctl (Int32Array over a SharedArrayBuffer) words: 0 = stop flag (1: stop), 1 = ready counter,
// 2 = messages received by a sink, 3 = raw ping-pong sequence.
import { BULK_EXPOSE, BULK_XFER, EAGAIN, ETIMEDOUT, LbmMeta } from '@lightbeam/core';
import { ShmClient, ShmServer } from '@lightbeam/shm';

export const STOP = 0;
export const READY = 1;
export const RECEIVED = 2;
export const SEQ = 3;

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
    const v = Atomics.load(ctl, READY);
    if (v >= n) return;
    if (performance.now() > deadline) throw new Error(`only ${v} of ${n} bench threads became ready`);
    // A timer, not Atomics.waitAsync: a pending waitAsync does not keep the event loop alive.
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A one-bulk message of `size` bytes from `buf` with `flags`. */
function oneBulk(client, buf, size, flags) {
  const m = new LbmMeta();
  m.send.push(client.expose(buf, size, flags));
  return m;
}

/**
 * Receives one message on `server` into `buf` (its XFER data), by busy polling (`poll`) or by a
 * waiting receive (`wait`). Returns 0, or ETIMEDOUT/EAGAIN when stopped.
 */
async function receiveOne(server, meta, buf, mode, ctl) {
  if (mode === 'spin') {
    // An active peer on the synchronous API: spins on the ring without ever yielding.
    for (;;) {
      const rc = server.recvMetadataNow(meta);
      if (rc === 0) break;
      if (rc !== EAGAIN) throw new Error(`recvMetadataNow: ${rc}`);
      if (stopped(ctl)) return EAGAIN;
    }
  } else if (mode === 'sync') {
    // Drain without a promise per message; park only when the ring is empty.
    for (;;) {
      let rc = server.recvMetadataNow(meta);
      if (rc === EAGAIN) rc = await server.waitMetadata(meta, { timeoutMs: 200 });
      if (rc === 0) break;
      if (rc !== ETIMEDOUT) throw new Error(`recvMetadataNow: ${rc}`);
      if (stopped(ctl)) return ETIMEDOUT;
    }
  } else if (mode === 'poll') {
    for (;;) {
      const rc = await server.recvMetadata(meta);
      if (rc === 0) break;
      if (rc !== EAGAIN) throw new Error(`recvMetadata: ${rc}`);
      if (stopped(ctl)) return EAGAIN;
    }
  } else {
    for (;;) {
      const rc = await server.waitMetadata(meta, { timeoutMs: 200 });
      if (rc === 0) break;
      if (rc !== ETIMEDOUT) throw new Error(`waitMetadata: ${rc}`);
      if (stopped(ctl)) return ETIMEDOUT;
    }
  }
  const s = meta.send[0];
  if (s !== undefined && (s.flags & BULK_XFER) !== 0) meta.recv.push(server.expose(buf, s.size, s.flags));
  const rc = server.recvBulksNow(meta);
  if (rc !== 0) throw new Error(`recvBulks: ${rc}`);
  return 0;
}

/** Sends one message: synchronously in spin mode (falling back to a waiting send), else awaited. */
function sendOne(client, meta, mode) {
  if (mode === 'spin') {
    const rc = client.sendNow(meta);
    if (rc !== EAGAIN) return rc;
  }
  return client.send(meta, { timeoutMs: 5000 });
}

/** Binds `channel` and connects to `reply`; returns both. */
export async function shmEnds(channel, reply, serverOptions) {
  const server = await ShmServer.create(channel, serverOptions);
  const client = new ShmClient(reply);
  return { server, client };
}

/**
 * Echo side of the shm round trip: every message that arrives on `server` goes back on `client`
 * with the same size, until ctl[STOP].
 */
export async function shmEcho({ server, client, size, mode, ctl }) {
  const buf = new Uint8Array(Math.max(size, 1));
  const meta = new LbmMeta();
  while ((await receiveOne(server, meta, buf, mode, ctl)) === 0) {
    const rc = await sendOne(client, oneBulk(client, buf, size, BULK_XFER), mode);
    if (rc !== 0) throw new Error(`echo send: ${rc}`);
  }
}

/**
 * Pinger side of the shm round trip: `n` timed round trips (after `warmup` untimed ones).
 * @returns round-trip times in microseconds
 */
export async function shmPing({ server, client, size, mode, ctl, n, warmup }) {
  const buf = new Uint8Array(Math.max(size, 1)).fill(7);
  const back = new Uint8Array(Math.max(size, 1));
  const meta = new LbmMeta();
  const times = new Float64Array(n);
  for (let i = -warmup; i < n; i++) {
    const t0 = performance.now();
    const rc = await sendOne(client, oneBulk(client, buf, size, BULK_XFER), mode);
    if (rc !== 0) throw new Error(`ping send: ${rc}`);
    if ((await receiveOne(server, meta, back, mode, ctl)) !== 0) throw new Error('ping stopped');
    if (i >= 0) times[i] = (performance.now() - t0) * 1000;
  }
  if (back[0] !== 7) throw new Error('echo returned wrong bytes');
  return times;
}

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

/** Pinger over a MessagePort: `n` timed round trips of a `size`-byte Uint8Array. */
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

// Raw Atomics ping-pong on ctl[SEQ]: the pinger stores an odd value, the echo answers value+1.
// `spin` busy-waits on Atomics.load; `wait` blocks in Atomics.wait; `async` parks in Atomics.waitAsync.

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
    else if (how === 'async') await Atomics.waitAsync(ctl, SEQ, v, 100).value;
  }
}

/** Pinger side of the raw Atomics ping-pong: `n` timed round trips. */
export async function atomicsPing(ctl, how, n, warmup) {
  const alive = setInterval(() => {}, 1000);
  try {
    return await atomicsPingLoop(ctl, how, n, warmup);
  } finally {
    clearInterval(alive);
  }
}

async function atomicsPingLoop(ctl, how, n, warmup) {
  const times = new Float64Array(n);
  for (let i = -warmup; i < n; i++) {
    const t0 = performance.now();
    const ask = (Atomics.load(ctl, SEQ) + 1) | 1;
    // Publish the ping; wake the echo if it parks.
    Atomics.store(ctl, SEQ, ask);
    if (how !== 'spin') Atomics.notify(ctl, SEQ);
    for (;;) {
      const v = Atomics.load(ctl, SEQ);
      if (v === ask + 1) break;
      if (how === 'wait') Atomics.wait(ctl, SEQ, v, 100);
      else if (how === 'async') await Atomics.waitAsync(ctl, SEQ, v, 100).value;
    }
    if (i >= 0) times[i] = (performance.now() - t0) * 1000;
  }
  return times;
}

/**
 * Sink for rate and bandwidth runs: receives messages until ctl[STOP], copying XFER data into its
 * own buffer and touching the first byte of each EXPOSE bulk; counts them in ctl[RECEIVED].
 */
export async function shmSink({ server, size, mode, ctl }) {
  const buf = new Uint8Array(Math.max(size, 1));
  const meta = new LbmMeta();
  let sink = 0;
  while ((await receiveOne(server, meta, buf, mode, ctl)) === 0) {
    const s = meta.send[0];
    if (s !== undefined && (s.flags & BULK_XFER) === 0) {
      if (s.data === null) throw new Error('EXPOSE bulk arrived without its shared bytes');
      sink += s.data.ptr[0];
    }
    // Counts the message for the sender, which waits for the total.
    Atomics.add(ctl, RECEIVED, 1);
  }
  return sink;
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
    Atomics.add(ctl, RECEIVED, 1);
  });
  return () => sink;
}

export { BULK_EXPOSE, BULK_XFER };
