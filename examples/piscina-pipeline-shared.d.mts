// Types of examples/piscina-pipeline-shared.mjs.
import { LbmMeta } from '@lightbeam/core';
import type { Archive } from '@lightbeam/core';

/** A job: transform the bytes of `send[0]` in place with `key`; `stop` ends a worker's serve loop. */
export declare class JobMeta extends LbmMeta {
  jobId: number;
  key: number;
  stop: boolean;
  serialize(ar: Archive): void;
}
/** Result kind: a transformed job. */
export declare const RESULT: number;
/** Result kind: the worker is ready for jobs. */
export declare const READY: number;
/** A worker's answer: the transformed bulk, its checksum, and the Pointer the worker saw. */
export declare class ResultMeta extends LbmMeta {
  kind: number;
  jobId: number;
  checksum: number;
  workerThreadId: number;
  seenMajor: number;
  seenMinor: number;
  seenOff: number;
  serialize(ar: Archive): void;
}
/** Fills `view` with job `jobId`'s input. */
export declare function fillJob(view: Uint8Array, jobId: number): void;
/** The workers' transform, in place. */
export declare function transformInPlace(view: Uint8Array, key: number): void;
/** FNV-1a over the 32-bit words of `view`. */
export declare function checksum(view: Uint8Array): number;
/** The checksum job `jobId` must come back with. */
export declare function expectedChecksum(size: number, jobId: number, key: number): number;
