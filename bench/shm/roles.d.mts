// Types of bench/shm/roles.mjs for the TypeScript benches that import it.
import type { MessagePort } from 'node:worker_threads';
import type { Bulk, LbmMeta } from '@lightbeam/core';
import type { ShmClient, ShmServer, ShmServerOptions } from '@lightbeam/shm';

/** ctl word: stop flag. */
export declare const STOP: number;
/** ctl word: ready counter. */
export declare const READY: number;
/** ctl word: messages a sink received (also the flow-controlled postMessage sender's ack). */
export declare const RECEIVED: number;
/** ctl word: raw ping-pong sequence. */
export declare const SEQ: number;
/** `BULK_EXPOSE`, re-exported for the worker. */
export declare const BULK_EXPOSE: number;
/** `BULK_XFER`, re-exported for the worker. */
export declare const BULK_XFER: number;

/**
 * How a Lightbeam round-trip end receives: `spin` polls `recvMetadataNow`, `block` sleeps in
 * `waitMetadataSync`, `async` awaits `waitMetadata` (the server's `spinUs` decides whether it
 * spins first).
 */
export type RoundTripMode = 'spin' | 'block' | 'async';
/**
 * How a stream sink receives: `sync` drains with `recvMetadataNow` and blocks in
 * `waitMetadataSync` when empty, `spin` only polls, `async` awaits `waitMetadata`.
 */
export type SinkMode = 'sync' | 'spin' | 'async';
/** How a raw Atomics ping-pong end waits. */
export type AtomicsHow = 'spin' | 'wait' | 'async';
/** What a flow-controlled postMessage stream posts: a cloned copy, a transferred buffer, a shared view. */
export type PortStreamKind = 'copy' | 'transfer' | 'shared';

/** One end's per-message state, made once by {@link shmKit}. */
export interface ShmKit {
  /** The channel this end receives on (`null` for a send-only end). */
  readonly server: ShmServer | null;
  /** The channel this end sends to (`null` for a receive-only end). */
  readonly client: ShmClient | null;
  /** Payload bytes per message. */
  readonly size: number;
  /** Flags of the one bulk of every message. */
  readonly flags: number;
  /** The outgoing meta, reused for every send. */
  readonly out: LbmMeta;
  /** The incoming meta, refilled in place by every receive. */
  readonly inbox: LbmMeta;
  /** Where this end writes the sequence number it sends (its XFER buffer or EXPOSE block). */
  readonly outBytes: Uint8Array;
  /** Where XFER data is received. */
  readonly inBytes: Uint8Array;
  /** The recv bulk over `inBytes`, pushed after every receive. */
  readonly recvBulk: Bulk | null;
  /** The last sequence number sent or received. */
  seq?: number;
  /** Frees the EXPOSE block, if any. */
  dispose(): void;
}

/** Counts this end as set up in ctl[READY]. */
export declare function signalReady(ctl: Int32Array): void;
/**
 * Waits (polling on a timer, so the event loop runs) until `n` ends are ready.
 * @defaultValue timeoutMs 20000
 */
export declare function awaitReady(ctl: Int32Array, n: number, timeoutMs?: number): Promise<void>;
/** Spins until ctl[RECEIVED] reaches `target`; throws after 10 s without progress. */
export declare function spinUntilReceived(ctl: Int32Array, target: number): void;
/** Binds `channel` and connects to `reply`. */
export declare function shmEnds(channel: string, reply: string, serverOptions?: ShmServerOptions): Promise<{ server: ShmServer; client: ShmClient }>;
/**
 * One end's reusable metas and buffers: one bulk of `size` bytes with `flags` (XFER of a private
 * buffer, or EXPOSE of a slab block of this thread's MemoryManager).
 */
export declare function shmKit(ends: { server: ShmServer | null; client: ShmClient | null; size: number; flags: number }): ShmKit;
/** `warmup` + `n` round trips on the synchronous API; clocked into `times` unless it is `null`. */
export declare function shmPingSync(kit: ShmKit, mode: 'spin' | 'block', n: number, warmup: number, times: Float64Array | null): number;
/** Answers `count` messages on the synchronous API. */
export declare function shmEchoSync(kit: ShmKit, mode: 'spin' | 'block', count: number): void;
/** `warmup` + `n` round trips on the async API, clocked into `times`. */
export declare function shmPingAsync(kit: ShmKit, n: number, warmup: number, times: Float64Array): Promise<void>;
/** Answers `count` messages on the async API. */
export declare function shmEchoAsync(kit: ShmKit, count: number): Promise<void>;
/**
 * Runs `section(warmup)`, then counts this thread's young GCs over `section(n)`.
 * @returns `[microseconds for the n, young GCs]`
 */
export declare function countGcs(section: (count: number) => void, n: number, warmup: number): Promise<Float64Array>;
/** Receives exactly `count` messages, counting each in ctl[RECEIVED]. */
export declare function shmSink(kit: ShmKit, mode: SinkMode, count: number, ctl: Int32Array): Promise<void>;
/** The spinning sink loop for `count` messages (unclocked, for GC counts). */
export declare function shmSinkSpin(kit: ShmKit, count: number, ctl: Int32Array): void;
/** Sends `count` messages with `sendNow`, spinning while the ring is full. */
export declare function shmStreamSync(kit: ShmKit, count: number): void;
/** Sends `count` messages with `await send`. */
export declare function shmStreamAsync(kit: ShmKit, count: number): Promise<void>;
/** Posts every message on `port` back ('message' events), copied or transferred, until 'stop'. */
export declare function portEcho(port: MessagePort, transfer: boolean): void;
/** `warmup` + `n` event-driven round trips of a `size`-byte Uint8Array. @returns n times in microseconds */
export declare function portPing(port: MessagePort, size: number, transfer: boolean, n: number, warmup: number): Promise<Float64Array>;
/** Posts `count` messages with at most `window` unacknowledged (acks in ctl[RECEIVED]). */
export declare function portStream(port: MessagePort, ctl: Int32Array, kind: PortStreamKind, size: number, count: number, window: number): void;
/** Counts (acknowledges) every message in ctl[RECEIVED]; returns a reader of the bytes it touched. */
export declare function portSink(port: MessagePort, ctl: Int32Array): () => number;
/** Answers the raw ping-pong on ctl[SEQ] until ctl[STOP]. */
export declare function atomicsEcho(ctl: Int32Array, how: AtomicsHow): Promise<void>;
/** `warmup` + `n` raw ping-pong round trips. @returns n times in microseconds */
export declare function atomicsPing(ctl: Int32Array, how: AtomicsHow, n: number, warmup: number): Promise<Float64Array>;
