/**
 * The workloads of act 1 of `lightbeam demo` and what a run of one reports. A workload is the
 * same for every path: `count` payloads of `size` bytes, the same transform, the same number of
 * messages in flight, every message's bytes verified by the consumer against a checksum computed
 * from scratch before the clock starts.
 */
import { checksumPayload, fillPayload, transformPayload } from './payload.js';

/**
 * `pipe`: producer -> one worker transforms in place -> consumer; `fan`: every worker reads each
 * payload; `chain`: producer -> worker 0 -> worker 1 -> ... -> consumer, each worker a stage that
 * transforms the payload with its own key (the workload's key plus its stage number).
 */
export type LocalMode = 'pipe' | 'fan' | 'chain';

/** One workload of act 1. */
export interface LocalWorkload {
  /** Row label, e.g. `pipeline 4 KiB`. */
  name: string;
  /** Channel-name stem (a ring keeps its capacity for the region's life: one stem per workload). */
  stem: string;
  /** Pipeline or fan-out. */
  mode: LocalMode;
  /** Payload bytes (a multiple of 4). */
  size: number;
  /** Payloads per run. */
  count: number;
  /** Messages in flight per worker (pipeline), in the whole chain, or payloads in flight (fan-out); a power of two. */
  window: number;
  /** The transform key (pipeline; a chain's first stage). */
  key: number;
}

/** How one path of one run went. */
export interface LocalRunResult {
  /** Wall time from the first payload produced to the last one verified, in ms. */
  ms: number;
  /** Messages verified (fan-out: payloads x workers). */
  verified: number;
  /** Messages whose bytes were wrong. */
  mismatches: number;
  /** The first mismatch, if any. */
  firstMismatch: string | null;
}

/**
 * The act's workloads at `scale` (1 = the default run; tests use less).
 *
 * @param scale - multiplies every count (each stays at least 4)
 * @param key - the transform key of the whole act
 */
export function localWorkloads(scale: number, key: number): LocalWorkload[] {
  const n = (x: number): number => Math.max(4, Math.round(x * scale));
  return [
    // A stream of small records with light work per record: per-message cost decides it.
    { name: 'records 256 B', stem: 'act1-records', mode: 'pipe', size: 256, count: n(10000), window: 64, key },
    { name: 'pipeline 4 KiB', stem: 'act1-pipe-small', mode: 'pipe', size: 4096, count: n(8000), window: 32, key },
    { name: 'pipeline 1 MiB', stem: 'act1-pipe-large', mode: 'pipe', size: 1 << 20, count: n(320), window: 8, key },
    // Stages in a row, each its own thread: the payload crosses a thread per stage.
    { name: 'stages 1 KiB', stem: 'act1-stages', mode: 'chain', size: 1024, count: n(8000), window: 64, key },
    { name: 'fan-out 1 MiB', stem: 'act1-fan-large', mode: 'fan', size: 1 << 20, count: n(240), window: 8, key },
    // A large payload every worker reads: a copy per worker is what shared memory saves.
    { name: 'fan-out 8 MiB', stem: 'act1-fan-huge', mode: 'fan', size: 8 << 20, count: n(24), window: 4, key },
  ];
}

/**
 * The checksum each message of `w` must come back with, computed before any run (so verifying is
 * the same cheap comparison on every path, out of the timing): the transformed bytes for a
 * pipeline, the bytes after every stage for a chain, the bytes as produced for a fan-out.
 *
 * @param w - the workload
 * @param stages - the stages of a chain (its worker count)
 */
export function expectedChecksums(w: LocalWorkload, stages: number): Uint32Array {
  const scratch = new Uint8Array(w.size);
  const out = new Uint32Array(w.count);
  for (let seq = 0; seq < w.count; seq++) {
    fillPayload(scratch, seq);
    if (w.mode === 'pipe') transformPayload(scratch, w.key);
    else if (w.mode === 'chain') for (let s = 0; s < stages; s++) transformPayload(scratch, w.key + s);
    out[seq] = checksumPayload(scratch);
  }
  return out;
}

/** Messages the consumer verifies in one run of `w` with `workers` threads. */
export function messagesOf(w: LocalWorkload, workers: number): number {
  return w.mode === 'fan' ? w.count * workers : w.count;
}

/** Counts verified messages and mismatches of one run. */
export class RunTally {
  /** Messages checked so far. */
  verified = 0;
  /** Messages whose bytes or checksum were wrong. */
  mismatches = 0;
  /** The first mismatch, as one line. */
  firstMismatch: string | null = null;

  /**
   * Checks one message's bytes: their checksum, the one the worker reported, and the expected one.
   *
   * @param seq - its sequence number
   * @param data - its bytes (`null`: none arrived)
   * @param reported - the checksum the worker sent
   * @param want - the expected checksums
   */
  check(seq: number, data: Uint8Array | null, reported: number, want: Uint32Array): void {
    this.verified++;
    let why: string | null = null;
    if (seq >= want.length) why = `sequence number out of range`;
    else if (reported !== want[seq]) why = `worker reported checksum ${reported}, expected ${want[seq]}`;
    else if (data !== null && checksumPayload(data) !== want[seq]) why = 'bytes do not match their checksum';
    if (why !== null) {
      this.mismatches++;
      this.firstMismatch ??= `message ${seq}: ${why}`;
    }
  }
}
