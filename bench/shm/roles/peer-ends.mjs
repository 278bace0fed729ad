// The peers of bench/shm.bench.ts: MessagePort ends (event-driven, copy or transfer) and raw
// Atomics ping-pongs (spin, Atomics.wait, Atomics.waitAsync).
import { CHECK_EVERY, IDLE_MS, RECEIVED, SEQ, WAIT_MS, stopped } from './ctl.mjs';

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

