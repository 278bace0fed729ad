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
// The roles live in roles/: ctl.mjs (the control block), lightbeam-ends.mjs, peer-ends.mjs.
import { BULK_EXPOSE, BULK_XFER } from '@lightbeam/core';

export { READY, RECEIVED, SEQ, STOP, awaitReady, signalReady, spinUntilReceived } from './roles/ctl.mjs';
export * from './roles/lightbeam-ends.mjs';
export * from './roles/peer-ends.mjs';
export { BULK_EXPOSE, BULK_XFER };
