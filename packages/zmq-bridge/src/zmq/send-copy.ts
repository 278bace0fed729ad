/**
 * The memory the default send copies XFER frames into. zeromq.js keeps a frame over 128 bytes
 * by reference until its I/O thread has written it and gives no event when it lets go, so the
 * copy must live in memory nobody else writes until then. A fresh Buffer per copy is safe but
 * slow at 64 KiB and above: its pages are faulted in and zeroed by the kernel on first touch,
 * which costs more than the copy itself (1 MiB: several hundred microseconds against tens).
 *
 * When the native helper (`native/send_copy.c`, built at install with the C compiler) is there,
 * each copy is still a new Buffer, so V8 counts it as new external memory and collects as it
 * would for fresh Buffers (no collection is forced), but its bytes come from chunks used
 * before: a chunk goes back to the helper's free list when V8 collects the Buffer, which cannot
 * happen before zeromq.js has dropped it. They come back in batches, at V8's full collections
 * (measured: lent memory fell at each mark-compact and at no scavenge; Node keeps a weak handle
 * on every external Buffer, which the young-generation collector does not clear), so the free
 * list keeps up to 256 MiB, and new chunks of 256 KiB and up come from huge pages (see the
 * header of send_copy.c). Without the helper, or with `LBM_ZMQ_SEND_COPY=fresh`
 * in the environment, or in a worker thread, every copy is a fresh Buffer, as before.
 *
 * At process exit libzmq still sends what is queued, during the linger, while Node finalizes
 * every external Buffer left, those zeromq.js still sends from included: on the process's 'exit'
 * event the helper is retired, and the memory it lent stays untouched from then on
 * (test/zmq/send-copy-exit.test.ts shows what happened before: queued copies went out with their
 * first 8 bytes overwritten).
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

/** How often idle chunks are trimmed, in ms: a chunk no copy needed for a whole period is freed. */
const TRIM_PERIOD_MS = 10_000;

/**
 * Bytes copied between two turns of the event loop that a sender asks for. zeromq.js resolves a
 * send on a socket with `sendTimeout` 0 at once, so a loop of awaited sends never lets the event
 * loop turn; but zeromq.js drops the buffers libzmq has sent only from an event-loop callback,
 * and the helper's chunks come back from one too. Without a turn neither happens: a sender that
 * never waits would hold every copy it made. One turn per 16 MiB costs microseconds against the
 * milliseconds the copies took.
 */
const TURN_BYTES = 16 << 20;
let sinceTurn = 0;

/** Counters of the memory the default kZeroMq send copies into (see {@link zmqSendCopyStats}). */
export interface ZmqSendCopyStats {
  /** True when copies go into reused memory (the native helper is loaded). */
  readonly reusing: boolean;
  /** Copies made into memory a previous copy used (0 without the helper). */
  readonly reused: number;
  /** Copies made into newly allocated memory (counted only with the helper). */
  readonly fresh: number;
  /** Bytes of memory waiting to be reused. */
  readonly idleBytes: number;
  /** Bytes of memory in copies V8 has not collected yet (zeromq.js may still hold them). */
  readonly lentBytes: number;
}

interface SendCopyAddon {
  copy(view: Uint8Array): Buffer | undefined;
  stats(): { reused: number; fresh: number; idleBytes: number; lentBytes: number };
  trim(): void;
  retire(): void;
}

let addon: SendCopyAddon | null | undefined;
let trimTimer: NodeJS.Timeout | null = null;

function helper(): SendCopyAddon | null {
  if (addon === undefined) {
    addon = null;
    // Main thread only: when a worker thread exits, Node hands back the memory of its Buffers at
    // once, while libzmq may still be sending queued messages out of it (linger), and another
    // thread could then copy into it. The main thread exits with the process.
    if (isMainThread && process.env.LBM_ZMQ_SEND_COPY !== 'fresh') {
      try {
        // From dist/zmq/ (and src/zmq/ under tsx) to native/build/ of this package.
        const loaded = createRequire(import.meta.url)('../../native/build/send_copy.node') as Partial<SendCopyAddon>;
        // A build older than retire() would let queued copies be overwritten at exit: not used.
        if (typeof loaded.retire === 'function') {
          // Before teardown, which finalizes the Buffers zeromq.js still sends from during the
          // linger: their memory must then stay as it is (see native/send_copy.c).
          process.once('exit', () => (loaded as SendCopyAddon).retire());
          addon = loaded as SendCopyAddon;
        }
      } catch {
        // Not built here (no compiler or no Node headers at install): copy into fresh memory.
      }
    }
  }
  return addon;
}

function trimSoon(a: SendCopyAddon): void {
  if (trimTimer !== null) return;
  trimTimer = setTimeout(() => {
    trimTimer = null;
    a.trim();
    // Keep trimming while memory waits, so a burst gives its memory back within two periods.
    if (a.stats().idleBytes > 0) trimSoon(a);
  }, TRIM_PERIOD_MS);
  trimTimer.unref();
}

/**
 * A copy of `view` that nobody else writes until zeromq.js and the garbage collector are done
 * with it, in reused memory when the native helper is there.
 *
 * @param view - more than 128 bytes (smaller frames are copied by zeromq.js itself)
 */
export function sendCopy(view: Uint8Array): Uint8Array {
  const a = helper();
  if (a !== null) {
    const copy = a.copy(view);
    if (copy !== undefined) {
      sinceTurn += view.byteLength;
      trimSoon(a);
      return copy;
    }
  }
  return freshCopy(view);
}

/**
 * A copy of `view` in a new Buffer of its own, counted towards the next event-loop turn as
 * {@link sendCopy}'s are (zeromq.js drops sent Buffers only when the loop turns).
 *
 * @param view - the bytes to copy
 */
export function freshCopy(view: Uint8Array): Uint8Array {
  sinceTurn += view.byteLength;
  // Not zero-filled first (`allocUnsafeSlow`): every byte is written by the copy.
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  copy.set(view);
  return copy;
}

/**
 * True once {@link TURN_BYTES} were copied since the last call that returned true: the sender
 * should let the event loop turn before its send resolves (see {@link afterTurn}).
 */
export function turnDue(): boolean {
  if (sinceTurn < TURN_BYTES) return false;
  sinceTurn = 0;
  return true;
}

/** Resolves to `rc` after one turn of the event loop (its check phase). */
export function afterTurn(rc: number): Promise<number> {
  return new Promise((resolve) => setImmediate(resolve, rc));
}

/**
 * Counters of the memory the default kZeroMq send (`copyXfer: true`) copies XFER frames into,
 * for this process (all clients and threads together).
 */
export function zmqSendCopyStats(): ZmqSendCopyStats {
  const a = helper();
  if (a === null) return { reusing: false, reused: 0, fresh: 0, idleBytes: 0, lentBytes: 0 };
  const s = a.stats();
  return { reusing: true, reused: s.reused, fresh: s.fresh, idleBytes: s.idleBytes, lentBytes: s.lentBytes };
}
