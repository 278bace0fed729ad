/**
 * The far side's bookkeeping for one demo run: which sequence numbers arrived, whether each
 * payload matches both the checksum it carries and the one recomputed from scratch, and how long
 * each took from the producer.
 */
import { checksumPayload, expectedChecksum } from './payload.js';

/** Largest run (count x size) whose expected checksums are computed before it starts. */
export const PRECOMPUTE_BYTES = 512 << 20;

/** What a run expects; sent by the local side before it starts. */
export interface RunExpectation {
  /** Messages the run sends (sequence numbers 0 to count-1). */
  count: number;
  /** Payload bytes of each message. */
  size: number;
  /** The transform key of the run. */
  key: number;
}

/** The far side's verdict on one run. */
export interface RunVerdict {
  /** Messages expected. */
  expected: number;
  /** Distinct sequence numbers received. */
  received: number;
  /** Received messages whose bytes or checksum were wrong (or that had no bytes). */
  mismatches: number;
  /** Expected sequence numbers never received. */
  lost: number;
  /** Messages received twice, or with a sequence number out of range. */
  unexpected: number;
  /** Payload bytes received. */
  bytes: number;
  /** Latency percentiles in ms (producer send to verification), `null` with no message. */
  p50Ms: number | null;
  /** 99th percentile latency in ms. */
  p99Ms: number | null;
  /** One line on the first mismatch, if any. */
  firstMismatch: string | null;
}

/** Tracks one run; {@link Verifier.done} resolves once every expected message arrived. */
export class Verifier {
  private readonly seen: Uint8Array;
  private readonly scratch: Uint8Array;
  private readonly latencies: Float64Array;
  private readonly want: Uint32Array | null;
  private received = 0;
  private mismatches = 0;
  private unexpected = 0;
  private bytes = 0;
  private firstMismatch: string | null = null;
  private lastArrival = performance.now();
  private waiters: (() => void)[] = [];

  /**
   * Recomputes every expected checksum up front when the run carries at most
   * {@link PRECOMPUTE_BYTES}, so the timed part of the run only hashes what arrives (the same work
   * for both paths, out of the measurement); bigger runs recompute each one as it arrives.
   *
   * @param expect - the run's count, size and key
   */
  constructor(readonly expect: RunExpectation) {
    this.seen = new Uint8Array(expect.count);
    this.scratch = new Uint8Array(expect.size);
    this.latencies = new Float64Array(expect.count);
    this.want = expect.count * expect.size <= PRECOMPUTE_BYTES ? new Uint32Array(expect.count) : null;
    for (let seq = 0; this.want !== null && seq < expect.count; seq++) this.want[seq] = expectedChecksum(this.scratch, seq, expect.key);
  }

  /** True once every expected sequence number arrived. */
  get complete(): boolean {
    return this.received === this.expect.count;
  }

  /**
   * Checks one message.
   *
   * @param seq - its sequence number
   * @param key - the key it carries
   * @param checksum - the checksum it carries
   * @param data - its payload (`null` when it arrived without bytes)
   * @param latencyMs - receive time minus its send time
   */
  check(seq: number, key: number, checksum: number, data: Uint8Array | null, latencyMs: number): void {
    this.lastArrival = performance.now();
    if (seq >= this.expect.count || this.seen[seq] !== 0) {
      this.unexpected++;
      return;
    }
    this.seen[seq] = 1;
    this.latencies[this.received++] = latencyMs;
    const why = this.mismatch(seq, key, checksum, data);
    if (data !== null) this.bytes += data.byteLength;
    if (why !== null) {
      this.mismatches++;
      this.firstMismatch ??= `message ${seq}: ${why}`;
    }
    if (this.complete) for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Resolves once the run is complete, or once nothing arrived for `idleMs` (the rest is lost).
   *
   * @param idleMs - longest quiet time accepted
   */
  async done(idleMs: number): Promise<void> {
    while (!this.complete) {
      const left = this.lastArrival + idleMs - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The verdict so far. */
  verdict(): RunVerdict {
    const lat = this.latencies.slice(0, this.received).sort();
    const pct = (p: number): number | null => (lat.length === 0 ? null : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]);
    return {
      expected: this.expect.count,
      received: this.received,
      mismatches: this.mismatches,
      lost: this.expect.count - this.received,
      unexpected: this.unexpected,
      bytes: this.bytes,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      firstMismatch: this.firstMismatch,
    };
  }

  private mismatch(seq: number, key: number, checksum: number, data: Uint8Array | null): string | null {
    if (data === null) return 'arrived without its bytes';
    if (data.byteLength !== this.expect.size) return `${data.byteLength} bytes, expected ${this.expect.size}`;
    if (key !== this.expect.key) return `key ${key}, expected ${this.expect.key}`;
    const actual = checksumPayload(data);
    if (actual !== checksum) return `bytes hash to ${hex(actual)} but the message says ${hex(checksum)}`;
    const want = this.want?.[seq] ?? expectedChecksum(this.scratch, seq, key);
    if (actual !== want) return `checksum ${hex(actual)}, expected ${hex(want)}`;
    return null;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
