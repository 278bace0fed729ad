// The worker threads of the do-it-yourself pipeline (see diy-proc.mjs), talking to their main
// thread with postMessage only.
// - A, tput: writes each payload into a fresh ArrayBuffer (a transferred buffer is gone, so the
//   next message needs a new one) and transfers it; waits for credits when WINDOW are unconsumed.
// - B, tput: checks each payload, grants CREDIT_EVERY back after every CREDIT_EVERY messages.
// - A, rtt: stamps and transfers one RTT_SIZE buffer, times until its echo is back; the echo's
//   buffer (transferred back to it) carries the next request.
// - B, rtt: checks each request and transfers the same buffer back.
import { parentPort, workerData } from 'node:worker_threads';
import { COUNT, CREDIT_EVERY, ROUNDS, RTT_SIZE, SIZE, WAIT_MS, WARMUP, WINDOW, check, p50, rateClock, stamp } from './common.mjs';

const { role, mode } = workerData;
const port = parentPort;
/** A run that stalls fails (the harness also kills the process). */
const watchdog = () => setTimeout(() => { throw new Error(`DIY worker ${role} ${mode}: nothing for ${WAIT_MS} ms`); }, WAIT_MS);

if (role === 'A' && mode === 'tput') {
  let granted = 0;
  let wake = null;
  port.on('message', (n) => {
    granted += n;
    if (wake !== null) wake();
  });
  const credit = () =>
    new Promise((resolve) => {
      const t = watchdog();
      wake = () => {
        wake = null;
        clearTimeout(t);
        resolve();
      };
    });
  for (let seq = 0; seq < COUNT; seq++) {
    while (seq >= granted) await credit();
    const ab = new ArrayBuffer(SIZE);
    stamp(new Uint8Array(ab), SIZE, seq);
    port.postMessage(ab, [ab]);
  }
  while (granted < COUNT + WINDOW) await credit();
  port.close();
} else if (role === 'B' && mode === 'tput') {
  const clock = rateClock();
  let i = 0;
  let t = watchdog();
  port.on('message', (ab) => {
    clearTimeout(t);
    check(new Uint8Array(ab), SIZE, i, 'DIY');
    clock.consumed(i++);
    if (i % CREDIT_EVERY === 0) port.postMessage(CREDIT_EVERY);
    if (i < COUNT) t = watchdog();
    else {
      port.postMessage({ kind: 'tput', opsPerSec: clock.rate() });
      port.close();
    }
  });
  port.postMessage(WINDOW); // ready: the first window may come
} else if (role === 'A' && mode === 'rtt') {
  const samples = new Float64Array(ROUNDS);
  let i = 0;
  let t0 = 0;
  let t = watchdog();
  const ask = (ab) => {
    stamp(new Uint8Array(ab), RTT_SIZE, i);
    t0 = performance.now();
    port.postMessage(ab, [ab]);
  };
  port.on('message', (ab) => {
    const dt = performance.now() - t0;
    clearTimeout(t);
    check(new Uint8Array(ab), RTT_SIZE, i, 'DIY echo');
    if (i >= WARMUP) samples[i - WARMUP] = dt * 1000;
    if (++i < WARMUP + ROUNDS) {
      t = watchdog();
      ask(ab);
    } else {
      port.postMessage({ kind: 'rtt', p50Us: p50(samples) });
      port.close();
    }
  });
  ask(new ArrayBuffer(RTT_SIZE));
} else {
  let i = 0;
  let t = watchdog();
  port.on('message', (ab) => {
    clearTimeout(t);
    check(new Uint8Array(ab), RTT_SIZE, i, 'DIY ping');
    port.postMessage(ab, [ab]);
    if (++i < WARMUP + ROUNDS) t = watchdog();
    else port.close();
  });
}
