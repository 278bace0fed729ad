/**
 * The options, counters and tuning constants of the shared-memory server (server.ts), apart from
 * its receive logic so a reader of the options meets no ring code.
 */
import type { ServerOptions, WaitSpec } from '@lightbeam/core';

/** A receive that must not wait. */
export const NO_WAIT: WaitSpec = Object.freeze({ deadline: 0, signal: undefined });

/** Options of a shared-memory server. */
export interface ShmServerOptions extends ServerOptions {
  /**
   * Ring slots (messages in flight), a power of two. Used when the channel is created.
   * @defaultValue 1024
   */
  capacity?: number;
  /**
   * Most bytes of shared memory the ring's messages may hold (their shared and moved bulks, and
   * envelopes too large for a slot), rounded up to KiB. At the bound, `send` resolves `EAGAIN`
   * (or waits for room, with a timeout) before it takes a slot, as when the ring is full: a
   * producer far ahead of its consumer then waits instead of filling the slab until allocations
   * fail. A message that crosses the bound is accepted, so one larger than the bound still
   * passes an empty ring. `0` lifts the bound (only `capacity` then limits the ring). Used when
   * the channel is created.
   * @defaultValue 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Bytes per ring slot; envelopes up to `slotBytes - 16` travel inline, larger ones in a slab block.
   * @defaultValue 256
   */
  slotBytes?: number;
  /**
   * Microseconds to spin on an empty ring before parking; `0` parks at once. The spin is
   * adaptive: after a few spins that found nothing, the server parks at once until traffic resumes.
   * @defaultValue 20
   */
  spinUs?: number;
  /**
   * How often the server proves it is alive (a counter in the ring header), in ms.
   * @defaultValue 200
   */
  heartbeatMs?: number;
  /**
   * A slot claimed by a producer but left unpublished this long is skipped: its producer thread
   * was terminated between claiming and publishing (a live producer publishes within microseconds).
   * A live producer paused longer than this (a debugger, a stopped process) gets `ETIMEDOUT` from
   * that send: the message is not delivered, and the channel carries on. The block of a large
   * envelope is freed by the server only when its producer is known to have exited (a thread
   * started with `startWorker`, `watchWorker` or a pool); a stalled producer frees its own once it
   * resumes, and a thread that exited unwatched mid-send leaves its block allocated.
   * @defaultValue 2000
   */
  stuckSlotMs?: number;
  /**
   * Most messages received and not yet released (no `recvBulks`, in-place views kept, blocks
   * not taken). At the bound, receives answer `ENOBUFS` without consuming anything until the
   * application releases some: a receiver that never releases cannot exhaust shared memory.
   * @defaultValue 4096
   */
  maxUnreleased?: number;
}

/** How often a park re-checks a head slot that a producer claimed but has not published yet. */
export const STUCK_RECHECK_MS = 50;
/** Spins that found nothing before the adaptive spin switches itself off. */
export const IDLE_SPINS_BEFORE_PARKING = 3;
/** A park that a message ends within this many spin lengths switches the adaptive spin back on. */
export const REWARM_SPINS = 2;
/**
 * Empty no-wait polls between two checks for an abandoned head slot: the check reads the tail,
 * a line every producer writes, so a poll loop must not pay it on every miss.
 */
export const POLLS_PER_STUCK_CHECK = 1024;
/** Received messages kept for reuse (each holds an inline copy buffer of the ring's payload size). */
export const POOL_LIMIT = 64;

/** What {@link ShmServer.stats} reports. */
export interface ShmServerStats {
  /** Messages published (or claimed) and not yet received. */
  depth: number;
  /** Ring slots. */
  capacity: number;
  /** `RING_OPEN`, `RING_CLOSED` or `RING_DEAD`. */
  state: number;
  /** Messages received and not released yet. */
  unreleased: number;
  /** Receives answered `ENOBUFS` because `maxUnreleased` messages were held. */
  refusedUnreleased: number;
  /** Shared memory the ring's messages hold now, in bytes (KiB-rounded). */
  heldBytes: number;
  /** The ring's byte bound (`maxBytes`, KiB-rounded); 0 when it has none. */
  maxBytes: number;
}

/** Default {@link ShmServerOptions.maxBytes}: 64 MiB. */
export const DEFAULT_RING_MAX_BYTES = 64 * 1024 * 1024;

/**
 * What `take` returns, internally only, for a message that refers to a region this thread has not
 * received yet: nothing was consumed. Never a code any caller sees.
 */
export const REGION_PENDING = -1000;
/** What `takeSlot` returns, internally only, for a slot that held no message (`TAG_VOID`): look again. */
export const SKIPPED = -1001;
/** Longest wait for a region another thread added before its message is dropped as undeliverable. */
export const REGION_WAIT_MS = 5000;

