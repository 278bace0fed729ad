// What both ends of examples/piscina-pipeline.ts share: the job and result metadata, the data
// each job starts with, the in-place transform the workers apply, and the checksum both sides
// compute. Plain .mjs so piscina workers load it without a TypeScript loader.
import { LbmMeta } from '@lightbeam/core';

/** A job: transform the bytes of `send[0]` in place with `key`. `stop` ends a worker's serve loop. */
export class JobMeta extends LbmMeta {
  jobId = 0;
  key = 0;
  stop = false;
  serialize(ar) {
    super.serialize(ar);
    this.jobId = ar.i32(this.jobId);
    this.key = ar.u32(this.key);
    this.stop = ar.bool(this.stop);
  }
}

/** Result kinds a worker sends on the results channel. */
export const RESULT = 0;
/** The worker bound its job channel and is ready for jobs. */
export const READY = 1;

/**
 * A worker's answer: the transformed bulk (`send[0]`, EXPOSE, the same shared bytes), its
 * checksum, and the Pointer the worker saw, so the main thread can check it is its own.
 */
export class ResultMeta extends LbmMeta {
  kind = RESULT;
  jobId = 0;
  checksum = 0;
  workerThreadId = 0;
  seenMajor = -1;
  seenMinor = -1;
  seenOff = 0;
  serialize(ar) {
    super.serialize(ar);
    this.kind = ar.u8(this.kind);
    this.jobId = ar.i32(this.jobId);
    this.checksum = ar.u32(this.checksum);
    this.workerThreadId = ar.i32(this.workerThreadId);
    this.seenMajor = ar.i32(this.seenMajor);
    this.seenMinor = ar.i32(this.seenMinor);
    this.seenOff = ar.f64(this.seenOff);
  }
}

function words(view) {
  if (view.byteLength % 4 !== 0 || view.byteOffset % 4 !== 0) throw new RangeError(`job data must be 4-byte aligned and sized, got ${view.byteLength} bytes at ${view.byteOffset}`);
  return new Int32Array(view.buffer, view.byteOffset, view.byteLength >> 2);
}

/** Fills `view` with job `jobId`'s input (a xorshift sequence seeded by the id). */
export function fillJob(view, jobId) {
  const w = words(view);
  let x = Math.imul(jobId + 1, 0x9e3779b1) | 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x;
  }
}

/** The workers' transform, in place: every 32-bit word mixed with `key` and its index. */
export function transformInPlace(view, key) {
  const w = words(view);
  for (let i = 0; i < w.length; i++) w[i] = (Math.imul(w[i] ^ key, 0x85ebca6b) + i) | 0;
}

/** FNV-1a over the 32-bit words of `view`, as an unsigned 32-bit number. */
export function checksum(view) {
  const w = words(view);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 16777619);
  return h >>> 0;
}

/** The checksum job `jobId` must come back with, computed from scratch in private memory. */
export function expectedChecksum(size, jobId, key) {
  const v = new Uint8Array(size);
  fillJob(v, jobId);
  transformInPlace(v, key);
  return checksum(v);
}
