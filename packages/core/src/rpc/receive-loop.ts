/**
 * The receive loop the RPC client and server share. Over shared memory `waitMetadata` spins
 * synchronously before it parks, which would hold the thread while the work the last message
 * started (a handler, a caller's continuation sending its next request) waits in the microtask
 * queue. So the loop drains what is ready without waiting (`recvMetadataNow`), lets the thread's
 * queued work run (one `setImmediate` turn), then polls for a while (a reply or the next
 * request usually arrives within microseconds, and a wake-up from a park costs tens of them on a
 * loaded machine), and only then waits. The loop spins once per wake-up: an idle endpoint parks.
 *
 * The poll adapts. Two peers that both park fall into a trap: each one's spin runs out while
 * the other is still waking, so every message pays a wake-up. A park that ended soon (within
 * {@link MAX_SPIN_US}) means the next message is likely as close: the next poll lasts that long
 * (bounded), which catches it and lets the peer's wake-up go unpaid. A long park resets the poll
 * to `spinUs`, so an idle endpoint spins briefly once and parks.
 *
 * A dedicated worker that asked for it (`blockMs`) blocks instead while it is idle: a futex wake
 * is the fastest there is and costs no CPU while waiting, which matters most when the machine's
 * cores are shared (a spinning waiter then takes the core its peer needs). The block is bounded,
 * and the event loop gets a turn between blocks, so the thread's timers and messages still run.
 * Its poll before blocking adapts the same way (a block a request ended soon lengthens it).
 *
 * Every poll, and every lengthening, is skipped while the machine has more runnable threads than
 * cores (`cpuOversubscribed`): there a spin takes the core its peer needs, and parking at once
 * measured faster. With no poll to come, the event-loop turn before the wait is skipped too (at
 * most for {@link TURN_EVERY_MS}): the wait parks asynchronously, so the caller's queued work runs
 * anyway, and the turn cost an immediate and an epoll call on each side of every call.
 *
 * A caller given a reply bell (reply-bell.ts) waits on the bell instead of parking on its
 * endpoint, and a server given one rings it after each drain: one wake-up per burst of replies.
 */
import type { RpcEnvelope } from './envelope.js';
import type { RpcReplyBell } from './reply-bell.js';
import { EAGAIN, ECANCELED, ECONNRESET, ENOBUFS, ESHUTDOWN, LBM_MALFORMED, LBM_OK } from '../protocol/return-codes.js';
import type { Server } from '../protocol/server.js';
import { cpuOversubscribed } from '../protocol/cpu-pressure.js';

/** What the loop does with each message. */
export interface ReceiveLoopHandlers {
  /** Makes the envelope the next message decodes into. */
  make(): RpcEnvelope;
  /** Takes a decoded message; the loop releases nothing (the handler owns `env`). */
  onMessage(env: RpcEnvelope): void;
  /** Counts a message that could not be decoded. */
  onMalformed(): void;
  /** True once the owner is closing. */
  stopped(): boolean;
  /** Microseconds to poll an empty synchronous transport before waiting (0: wait at once). */
  spinUs: number;
  /**
   * Milliseconds to block the thread (`waitMetadataSync`) when {@link ReceiveLoopHandlers.idle}
   * says nothing else needs it; 0 never blocks.
   */
  blockMs: number;
  /** True when no work of the owner is in progress (no handler running or finishing). */
  idle(): boolean;
  /** Called after each drain of every message ready (the server rings its reply bell). */
  drained?(): void;
  /** Wait on this bell instead of parking on the endpoint (a caller whose server rings it). */
  bell?: RpcReplyBell | null;
}

/** Longest adaptive poll, in microseconds: beyond it a park is cheaper than the spin. */
export const MAX_SPIN_US = 400;

/** Poll before an idle endpoint blocks, in microseconds (see {@link receiveLoop}). */
export const BLOCK_SPIN_US = 8;

/**
 * Longest stretch, in ms, in which a loop that does not poll skips the event-loop turn between
 * messages (see {@link receiveLoop}): timers and I/O of the thread still run at least this often.
 */
export const TURN_EVERY_MS = 1;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/**
 * Receives until the server closes or `h.stopped()`; never throws.
 *
 * @param server - the endpoint to receive from
 * @param h - what to do with messages
 */
export async function receiveLoop(server: Server, h: ReceiveLoopHandlers): Promise<void> {
  const bell = h.bell ?? null;
  // A pending Atomics.waitAsync does not keep the event loop alive; the endpoint's own park holds
  // a timer ref'd while it waits, and a wait on the bell does the same with this one.
  const keepAlive = bell === null ? null : setInterval(noop, 2 ** 30);
  keepAlive?.unref();
  try {
    await loop(server, h, bell, keepAlive);
  } finally {
    if (keepAlive !== null) clearInterval(keepAlive);
  }
}

const noop = (): void => {};

async function loop(server: Server, h: ReceiveLoopHandlers, bell: RpcReplyBell | null, keepAlive: NodeJS.Timeout | null): Promise<void> {
  // Only a transport that answers synchronously (shared memory) spins inside waitMetadata; a
  // protected getter of Server, read without widening Server's public surface.
  const spins = Reflect.get(server, 'receivesSynchronously') === true;
  let spinUs = h.spinUs;
  // The idle poll before a block adapts like the park's: a block that a message ended soon
  // (the caller's next request, a few microseconds of its JS after our reply) means the next one
  // is as close, so poll that long (bounded) and let neither side pay a futex wake.
  const minBlockPollUs = Math.min(h.spinUs, BLOCK_SPIN_US);
  let blockPollUs = minBlockPollUs;
  let turnedAt = -Infinity;
  for (;;) {
    let env = h.make();
    let rc: number;
    if (spins) {
      while ((rc = receiveNow(server, env)) === LBM_OK || rc === LBM_MALFORMED) {
        if (rc === LBM_OK) {
          deliver(h, env);
          env = h.make();
        } else h.onMalformed();
      }
      // Everything ready was handled: the replies it sent go out with one ring of the bell.
      h.drained?.();
      if (rc !== EAGAIN && rc !== ENOBUFS) return;
      // An idle endpoint that may block polls only briefly first: a request that follows its
      // reply at once is caught without a wake-up, while a longer spin on shared cores takes the
      // core its peer needs to send that request (measured: 50 us spins gave a 150 us mode).
      // No poll at all where a spin cannot win (more runnable threads than cores): measured on
      // 2 cores at load 12, RPC round trips took 60-82 us parking at once against 103-115 us
      // polling first, the poll holding the core the peer's wake-up needed.
      let polledAt = performance.now();
      const oversubscribed = cpuOversubscribed(polledAt);
      if (!oversubscribed || polledAt - turnedAt >= TURN_EVERY_MS) {
        // A poll holds the thread: the work the last message started (a handler, the caller's
        // next request) runs first, in a full event-loop turn.
        await turn();
        polledAt = turnedAt = performance.now();
      } else {
        // Where nothing will poll, the wait below parks asynchronously or blocks an idle worker:
        // a turn of the event loop per message (an immediate and an epoll call on each side of a
        // call) buys nothing there, so only the microtasks queued so far run first; a full turn
        // still comes at least every TURN_EVERY_MS.
        await undefined;
      }
      if (h.stopped()) return;
      const block = h.blockMs > 0 && h.idle();
      const pollUs = oversubscribed ? 0 : block ? blockPollUs : spinUs;
      if (pollUs > 0) {
        const until = polledAt + pollUs / 1000;
        // The clock only every 64 polls: reading it costs more than a poll, and on Node 20 each
        // reading allocates (a spin that read it every 16 polls made 1 KiB of garbage per call).
        for (let i = 1; (rc = receiveNow(server, env)) === EAGAIN; i++) {
          if ((i & 63) === 0 && performance.now() >= until) break;
        }
        if (rc === LBM_OK || rc === LBM_MALFORMED) {
          if (rc === LBM_OK) deliver(h, env);
          else h.onMalformed();
          continue;
        }
      }
      if (block) {
        const blockedAt = performance.now();
        rc = blockFor(server, env, h.blockMs);
        if (minBlockPollUs > 0) {
          const now = performance.now();
          const blockedUs = (now - blockedAt) * 1000;
          // Lengthen only where a spin can win: with more runnable threads than cores, this
          // poll would take the core the caller needs to send its next request.
          blockPollUs = blockedUs <= MAX_SPIN_US && !cpuOversubscribed(now) ? Math.max(minBlockPollUs, Math.min(MAX_SPIN_US, blockedUs * 1.25)) : minBlockPollUs;
        }
        if (rc === LBM_OK) deliver(h, env);
        else if (rc === LBM_MALFORMED) h.onMalformed();
        else if (rc === ESHUTDOWN || server.closed) return;
        // ETIMEDOUT: a turn for the event loop, then block again; EAGAIN: the async path below.
        if (rc !== EAGAIN && rc !== ECONNRESET) continue;
        if (rc === ECONNRESET) return;
      }
    }
    const parkedAt = spins ? performance.now() : 0;
    if (spins && bell !== null) {
      // Wait on the bell, not on the endpoint: replies published meanwhile wake nobody, and the
      // server rings once its burst is out. The last check after arming closes the race with a
      // ring that came before the flag was seen.
      const armed = bell.arm();
      rc = receiveNow(server, env);
      if (rc === EAGAIN) {
        keepAlive?.ref();
        await bell.wait(armed);
        keepAlive?.unref();
        if (h.spinUs > 0) spinUs = adapt(h.spinUs, parkedAt);
        if (h.stopped() || server.closed) return;
        continue;
      }
      bell.disarm();
    } else {
      try {
        rc = await server.waitMetadata(env);
      } catch {
        rc = LBM_MALFORMED;
      }
    }
    if (spins && h.spinUs > 0) spinUs = adapt(h.spinUs, parkedAt);
    if (rc === LBM_OK) deliver(h, env);
    else if (rc === LBM_MALFORMED) h.onMalformed();
    else if (rc === ESHUTDOWN || rc === ECANCELED || h.stopped() || server.closed) return;
    // ENOBUFS: every receive slot holds a message in use; one frees when its work ends. Any
    // other code is transient: do not spin on it.
    else await pause();
  }
}

/** The next poll's length after a park that began at `parkedAt` (see {@link receiveLoop}). */
function adapt(minUs: number, parkedAt: number): number {
  const now = performance.now();
  const parkedUs = (now - parkedAt) * 1000;
  return parkedUs <= MAX_SPIN_US && !cpuOversubscribed(now) ? Math.max(minUs, Math.min(MAX_SPIN_US, parkedUs * 1.25)) : minUs;
}

function deliver(h: ReceiveLoopHandlers, env: RpcEnvelope): void {
  try {
    h.onMessage(env);
  } catch {
    h.onMalformed();
  }
}

// Two named functions instead of a closure around each receive: the poll calls one thousands of
// times per spin, and a closure per call was most of an RPC call's garbage (4 KiB per call).
function receiveNow(server: Server, env: RpcEnvelope): number {
  try {
    return server.recvMetadataNow(env);
  } catch {
    return LBM_MALFORMED;
  }
}

function blockFor(server: Server, env: RpcEnvelope, ms: number): number {
  try {
    return server.waitMetadataSync(env, ms);
  } catch {
    return LBM_MALFORMED;
  }
}
