// Types of bench/shm/bare-ring.mjs for the TypeScript benches that import it.

/** "BBRG" little-endian: marks an initialised bare ring. */
export declare const BARE_RING_MAGIC: number;
/** Bytes of a ring header: a read-only line, the producers' line, the consumer's line. */
export declare const BARE_RING_HEADER_BYTES: number;
/** Bytes of a slot: an 8-byte slot header, the 16-byte descriptor, 8 bytes to keep lines whole. */
export declare const BARE_RING_SLOT_BYTES: number;
/** Payload bytes every descriptor claims, matching the 64-byte messages of the shm bench. */
export declare const BARE_RING_PAYLOAD_BYTES: number;

/** The shared state of a ping/pong pair of bare rings; travels in `workerData` as is. */
export interface BareRingState {
  /** Both rings. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the ring the pinger produces into. */
  readonly ping: number;
  /** Byte offset of the ring the echo produces into. */
  readonly pong: number;
}

/**
 * Creates the shared state for one pinger and one echo (reusable for several pings in turn).
 * @param capacity - slots per ring, a power of two >= 2
 * @defaultValue capacity 64
 */
export declare function createBareRings(capacity?: number): BareRingState;

/**
 * `warmup` untimed, then `n` timed round trips, spinning for each reply; throws on a reply whose
 * sequence number, length or offset is not the one sent, or after 10 s without one.
 * @returns n round-trip times in microseconds
 */
export declare function bareRingPing(state: BareRingState, n: number, warmup: number): Float64Array;

/**
 * `n` verified round trips back to back with no clock per message (Node 20's `performance.now()`
 * allocates, which would hide whether the ring does); for allocation checks.
 * @returns microseconds for all n
 */
export declare function bareRingPingBatch(state: BareRingState, n: number): number;

/**
 * Echoes every descriptor back, verifying sequence numbers, until `stopCtl[0] !== 0` or 10 s
 * without a message. Spins: blocks its thread while it runs.
 * @returns how many messages it echoed
 */
export declare function bareRingEcho(state: BareRingState, stopCtl: Int32Array): number;
