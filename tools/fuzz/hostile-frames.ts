/**
 * Hostile multipart messages for `pnpm fuzz`: random frames, mutated C++-wire messages, mutated
 * batches (zmq/batch-codec.ts) and mutated routed bridge messages (bridge/route.ts), drawn from a
 * seeded generator so a run can be replayed. The valid messages in between keep the well-formed
 * paths busy too.
 */
import { BULK_EXPOSE, BULK_XFER, LbmMeta, encodeMeta, isXfer } from '@lightbeam/core';
import { BATCH_MAGIC, BATCH_MARKER_BYTES, BATCH_VERSION, encodeRoute } from '@lightbeam/zmq-bridge';
import type { Prng } from '../../test/support/prng.js';

/** The batch marker frame of batch-codec.ts. */
export function marker(): Buffer {
  const m = Buffer.alloc(BATCH_MARKER_BYTES);
  m.writeUInt32LE(BATCH_MAGIC, 0);
  m[4] = BATCH_VERSION;
  return m;
}

/** A valid plain message: random bulks (small sizes), their XFER data frames, sometimes recv entries. */
export function validFrames(rng: Prng): Uint8Array[] {
  const meta = new LbmMeta();
  const data: Uint8Array[] = [];
  for (let i = rng.int(0, 4); i > 0; i--) {
    const size = rng.int(0, 64);
    const flags = rng.pick([BULK_XFER, BULK_EXPOSE, BULK_XFER | BULK_EXPOSE]);
    const bytes = rng.bytes(size);
    meta.send.push({ data: { ptr: bytes, shm: { allocId: { major: 0, minor: 0 }, off: 0 } } as never, size, flags });
    if (isXfer(flags)) data.push(bytes);
  }
  for (let i = rng.int(0, 2); i > 0; i--) meta.recv.push({ data: null, size: rng.int(0, 100), flags: BULK_XFER });
  return [encodeMeta(meta), ...data];
}

/** A batch body following batch-codec.ts's table, from plain messages. */
export function batchBody(records: Uint8Array[][]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0].writeUInt32LE(records.length, 0);
  for (const [meta, ...data] of records) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(meta.byteLength, 0);
    h.writeUInt32LE(data.length, 4);
    parts.push(h, Buffer.from(meta));
    for (const d of data) {
      const l = Buffer.alloc(4);
      l.writeUInt32LE(d.byteLength, 0);
      parts.push(l, Buffer.from(d));
    }
  }
  return Buffer.concat(parts);
}

/** One mutation of a frame: flipped bits, truncation, garbage, a huge count or size. */
export function mutate(rng: Prng, frame: Uint8Array): Uint8Array {
  const b = Buffer.from(frame);
  switch (rng.int(0, 5)) {
    case 0:
      for (let i = rng.int(1, 4); i > 0 && b.length > 0; i--) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
      return b;
    case 1:
      return b.subarray(0, rng.int(0, b.length));
    case 2:
      return Buffer.concat([b, Buffer.from(rng.bytes(rng.int(1, 32)))]);
    case 3:
      if (b.length >= 8) b.writeBigUInt64LE(rng.pick([1n << 60n, 0xffffffffffffffffn, 1n << 53n, BigInt(rng.int(0, 1 << 30))]), rng.int(0, Math.floor((b.length - 8) / 4)) * 4);
      return b;
    case 4:
      if (b.length >= 4) b.writeUInt32LE(rng.pick([0xffffffff, 0x7fffffff, rng.int(0, 1 << 20)]), rng.int(0, Math.floor((b.length - 4) / 4)) * 4);
      return b;
    default:
      return Buffer.from(rng.bytes(rng.int(0, 48)));
  }
}

/**
 * One hostile multipart message.
 *
 * @param rng - the seeded generator
 * @param channels - channel names routed messages may name (a bridge ingress's, and others)
 */
export function hostile(rng: Prng, channels: readonly string[]): Uint8Array[] {
  const kind = rng.int(0, 11);
  if (kind === 0) return [rng.bytes(rng.int(0, 64)), ...Array.from({ length: rng.int(0, 3) }, () => rng.bytes(rng.int(0, 16)))];
  if (kind <= 4) {
    const frames = validFrames(rng);
    frames[0] = mutate(rng, frames[0]);
    if (rng.bool(0.3)) frames.push(rng.bytes(rng.int(0, 8)));
    if (rng.bool(0.2) && frames.length > 1) frames.pop();
    return frames;
  }
  if (kind <= 7) {
    const records = Array.from({ length: rng.int(0, 4) }, () => validFrames(rng));
    const body = batchBody(records);
    const frames: Uint8Array[] = [marker(), rng.bool(0.8) ? mutate(rng, body) : body];
    if (rng.bool(0.1)) frames.push(rng.bytes(4));
    return frames;
  }
  if (kind <= 9) {
    const route = encodeRoute(rng.pick(channels));
    const frames = [rng.bool(0.3) ? mutate(rng, route) : route, ...validFrames(rng)];
    if (rng.bool(0.6)) frames[1] = mutate(rng, frames[1]);
    return frames;
  }
  return validFrames(rng);
}

/** The valid message sent after each batch: one XFER bulk whose bytes name the batch. */
export function sentinelFrames(seq: number, route: string | null): Uint8Array[] {
  const body = Buffer.from(`SENTINEL-${seq}`);
  const meta = new LbmMeta();
  meta.send.push({ data: null, size: body.length, flags: BULK_XFER });
  const frames: Uint8Array[] = [encodeMeta(meta), body];
  return route === null ? frames : [encodeRoute(route), ...frames];
}

/** The sequence number in a sentinel's bytes, or `null` when they are not a sentinel's. */
export function sentinelSeq(bytes: Uint8Array): number | null {
  const m = /^SENTINEL-(\d+)$/.exec(Buffer.from(bytes).toString('latin1'));
  return m === null ? null : Number(m[1]);
}
