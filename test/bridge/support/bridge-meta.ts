/**
 * Messages the bridge tests send: a custom meta with a sequence number and a checksum of the XFER
 * payload, plus seeded payloads, so every message can be verified on arrival.
 */
import type { Archive } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';

/** Custom fields forwarded verbatim by the bridge. */
export class SeqMeta extends LbmMeta {
  seq = 0;
  checksum = 0;
  tag = '';
  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.seq = ar.i32(this.seq);
    this.checksum = ar.u32(this.checksum);
    this.tag = ar.string(this.tag);
  }
}

/** FNV-1a over the bytes. */
export function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

/** Deterministic payload of message `seq`. */
export function payload(seq: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = (seq * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
