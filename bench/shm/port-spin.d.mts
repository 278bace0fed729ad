// Types of bench/shm/port-spin.mjs for the TypeScript benches that import it.
import type { MessagePort } from 'node:worker_threads';

/**
 * `warmup` untimed, then `n` timed MessagePort round trips of one reused `size`-byte Uint8Array
 * (size >= 4), spinning on `receiveMessageOnPort`; throws on a wrong reply or after 10 s without one.
 * @returns n round-trip times in microseconds
 */
export declare function portSpinPing(port: MessagePort, size: number, n: number, warmup: number): Float64Array;

/**
 * Posts every message on `port` straight back, spinning on `receiveMessageOnPort`, until
 * `stopCtl[0] !== 0` or 10 s without a message. Blocks its thread while it runs.
 * @returns how many messages it echoed
 */
export declare function portSpinEcho(port: MessagePort, stopCtl: Int32Array): number;
