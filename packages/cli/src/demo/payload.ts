/**
 * What every party of `lightbeam demo` agrees on: the bytes each message starts with, the
 * transform the workers apply, the checksum, the message metadata, and the clock.
 *
 * The worker script (`workers/demo-worker.mjs`) imports this module from `dist`, so the producer,
 * the workers and the remote verifier run the very same functions.
 */
import type { Archive } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';

/**
 * Milliseconds on a clock shared by every process of one machine (`performance.timeOrigin` is
 * wall-clock based), so a send timestamp taken in one process can be subtracted in another.
 * Across hosts the difference also carries the clock skew between them.
 */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One demo message as it travels: the sequence number, the checksum of the transformed bytes
 * (computed by the worker), the key of the run, and the producer's send timestamp. `stop` ends a
 * worker's serve loop.
 */
export class DemoMeta extends LbmMeta {
  /** Sequence number, 0 to count-1. */
  seq = 0;
  /** FNV-1a of the transformed bytes (set by the worker). */
  checksum = 0;
  /** The key the worker's transform mixes in (one per run). */
  key = 0;
  /** The producer's {@link sharedNowMs} when it handed the message on. */
  sentAt = 0;
  /** Tells a worker to leave its serve loop. */
  stop = false;

  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.seq = ar.u32(this.seq);
    this.checksum = ar.u32(this.checksum);
    this.key = ar.u32(this.key);
    this.sentAt = ar.f64(this.sentAt);
    this.stop = ar.bool(this.stop);
  }
}

/** Largest `--size`: the far side's default shared memory holds its ring of payloads this big. */
export const MAX_DEMO_SIZE = 8 << 20;

/** Bytes of the header frame of a baseline (raw zeromq.js) message. */
export const BASELINE_HEADER_BYTES = 20;

/** The header of a baseline message: what {@link DemoMeta} carries, without the bulk vectors. */
export interface BaselineHeader {
  /** Sequence number. */
  seq: number;
  /** FNV-1a of the transformed bytes. */
  checksum: number;
  /** Key of the run. */
  key: number;
  /** Producer's send timestamp ({@link sharedNowMs}). */
  sentAt: number;
}

/** Encodes a baseline header (little-endian u32 seq, checksum, key; f64 sentAt). */
export function encodeBaselineHeader(h: BaselineHeader): Uint8Array {
  const out = new Uint8Array(BASELINE_HEADER_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, h.seq, true);
  dv.setUint32(4, h.checksum, true);
  dv.setUint32(8, h.key, true);
  dv.setFloat64(12, h.sentAt, true);
  return out;
}

/** Decodes a baseline header, or `null` when the frame has the wrong size. */
export function decodeBaselineHeader(frame: Uint8Array): BaselineHeader | null {
  if (frame.byteLength !== BASELINE_HEADER_BYTES) return null;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { seq: dv.getUint32(0, true), checksum: dv.getUint32(4, true), key: dv.getUint32(8, true), sentAt: dv.getFloat64(12, true) };
}

/** 32-bit words of `view`; a view that is not 4-byte aligned is copied first (received frames may not be). */
function words(view: Uint8Array): Int32Array {
  if (view.byteLength % 4 !== 0) throw new RangeError(`demo payload must be a multiple of 4 bytes, got ${view.byteLength}`);
  const v = view.byteOffset % 4 === 0 ? view : view.slice();
  return new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
}

/** Fills `view` with message `seq`'s input: a xorshift sequence seeded by the number. */
export function fillPayload(view: Uint8Array, seq: number): void {
  const w = words(view);
  let x = Math.imul(seq + 1, 0x9e3779b1) | 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x;
  }
}

/** The workers' transform, in place: every word mixed with `key` and its index. `view` must be 4-byte aligned. */
export function transformPayload(view: Uint8Array, key: number): void {
  if (view.byteOffset % 4 !== 0) throw new RangeError(`demo transform needs a 4-byte aligned view, got offset ${view.byteOffset}`);
  const w = words(view);
  for (let i = 0; i < w.length; i++) w[i] = (Math.imul(w[i] ^ key, 0x85ebca6b) + i) | 0;
}

/** FNV-1a over the 32-bit words of `view`, unsigned. */
export function checksumPayload(view: Uint8Array): number {
  const w = words(view);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 16777619);
  return h >>> 0;
}

/**
 * The checksum message `seq` must arrive with, recomputed from scratch: the verifier does not
 * trust the checksum the message carries alone (a worker that skipped the transform would carry
 * a consistent but wrong one).
 *
 * @param scratch - a buffer of the payload size, reused between calls
 */
export function expectedChecksum(scratch: Uint8Array, seq: number, key: number): number {
  fillPayload(scratch, seq);
  transformPayload(scratch, key);
  return checksumPayload(scratch);
}

/**
 * Whether message `seq` is damaged on purpose (the hidden `--corrupt-every` option, to prove the
 * far side catches a bad payload): every `every`-th message, never when `every` is 0.
 */
export function isCorrupted(seq: number, every: number): boolean {
  return every > 0 && (seq + 1) % every === 0;
}
