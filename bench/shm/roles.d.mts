// Types of bench/shm/roles.mjs for the TypeScript bench that imports it.
import type { MessagePort } from 'node:worker_threads';
import type { ShmClient, ShmServer, ShmServerOptions } from '@lightbeam/shm';

/** ctl word: stop flag. */
export declare const STOP: number;
/** ctl word: ready counter. */
export declare const READY: number;
/** ctl word: messages a sink received. */
export declare const RECEIVED: number;
/** ctl word: raw ping-pong sequence. */
export declare const SEQ: number;
/** How a receiving role waits: polling the async API, waiting, draining synchronously, or spinning on the sync API. */
export type ReceiveMode = 'poll' | 'wait' | 'sync' | 'spin';
/** How a raw Atomics ping-pong end waits. */
export type AtomicsHow = 'spin' | 'wait' | 'async';
/** One end of a shm measurement. */
export interface ShmEnd {
  server: ShmServer;
  client: ShmClient;
  size: number;
  mode: ReceiveMode;
  ctl: Int32Array;
}
export declare function signalReady(ctl: Int32Array): void;
export declare function awaitReady(ctl: Int32Array, n: number, timeoutMs?: number): Promise<void>;
export declare function shmEnds(channel: string, reply: string, serverOptions?: ShmServerOptions): Promise<{ server: ShmServer; client: ShmClient }>;
export declare function shmEcho(end: ShmEnd): Promise<void>;
export declare function shmPing(end: ShmEnd & { n: number; warmup: number }): Promise<Float64Array>;
export declare function portEcho(port: MessagePort, transfer: boolean): void;
export declare function portPing(port: MessagePort, size: number, transfer: boolean, n: number, warmup: number): Promise<Float64Array>;
export declare function atomicsEcho(ctl: Int32Array, how: AtomicsHow): Promise<void>;
export declare function atomicsPing(ctl: Int32Array, how: AtomicsHow, n: number, warmup: number): Promise<Float64Array>;
export declare function shmSink(end: Omit<ShmEnd, 'client'> & { client?: ShmClient }): Promise<number>;
export declare function portSink(port: MessagePort, ctl: Int32Array): () => number;
