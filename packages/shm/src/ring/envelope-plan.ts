/**
 * Planning an envelope before a slot is claimed (the client's hot path): its size and what it
 * charges the ring's byte bound, worked out in one pass over the meta's bulks. The layout itself
 * is in envelope.ts.
 */
import type { Bulk, LbmMeta } from '@lightbeam/core';
import { isNullPointer, isXfer } from '@lightbeam/core';
import { ENVELOPE_ENTRY_BYTES, ENVELOPE_HEADER_BYTES, MAX_CHARGE_KIB, RECV_ENTRY_BYTES } from './envelope.js';

/**
 * What the descriptor-form envelope of a meta needs, worked out in one pass over its bulks before
 * a slot is claimed; one per client, refilled for every message.
 */
export class EnvelopePlan {
  /** Envelope bytes without the custom fields (add them padded to 8). */
  bytes = 0;
  /** Bytes of the shared and moved bulks: what the message holds of the slab while queued. */
  heldBytes = 0;
  /** True when a bulk is sent by move. */
  moved = false;
}

/**
 * Plans the descriptor-form envelope of `meta` into `plan`: its bytes (custom fields aside), the
 * shared memory its bulks hold, whether any is moved. The held bytes are what `heldKiB` (envelope.ts)
 * reads back from the written envelope.
 *
 * @param meta - a validated meta
 * @param plan - filled in place
 */
export function planMetaEnvelope(meta: LbmMeta, plan: EnvelopePlan): void {
  const send = meta.send;
  let n = ENVELOPE_HEADER_BYTES + send.length * ENVELOPE_ENTRY_BYTES + meta.recv.length * RECV_ENTRY_BYTES;
  let held = 0;
  let moved = false;
  for (let i = 0; i < send.length; i++) {
    const b = send[i];
    if (b.move === true) {
      moved = true;
      held += b.size;
    } else if (isXfer(b.flags)) {
      n += padTo8(b.size);
    } else if (isShared(b)) {
      held += b.size;
    }
  }
  plan.bytes = n;
  plan.heldBytes = held;
  plan.moved = moved;
}

/** Rounds `n` up to a multiple of 8 (custom fields and staged data are padded so). */
export function padTo8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * The charge of a message that holds `bytes` of shared memory (its bulks, plus its envelope's own
 * block), in KiB rounded up and capped: the same figure `heldKiB` (envelope.ts) computes.
 */
export function chargeKiB(bytes: number): number {
  return bytes === 0 ? 0 : Math.min(Math.ceil(bytes / 1024), MAX_CHARGE_KIB);
}

/** True when bulk `b` points into a registered region (its receiver gets a live view). */
function isShared(b: Bulk): boolean {
  const shm = b.data?.shm;
  return shm !== undefined && !isNullPointer(shm);
}
