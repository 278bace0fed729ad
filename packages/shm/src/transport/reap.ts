/**
 * Reclaiming a dead server's ring (server.ts calls it through `ShmServer.reap`): the ring is
 * marked dead and every message still queued in it has its blocks freed.
 */
import { makePointer } from '@lightbeam/core';
import { ENTRY_MOVED, EnvelopeView, entryKind, entryPointer } from '../ring/envelope.js';
import { RING_DEAD } from '../ring/ring.js';
import type { Ring } from '../ring/ring.js';
import { SLOT_PREFIX_BYTES, TAG_BLOCK, TAG_INLINE, consumeSlot } from './channels.js';
import type { ShmMemory } from './transport-memory.js';

/** Marks `ring` dead (its thread is gone) and reclaims its queued messages. */
export function reapRing(memory: ShmMemory, ring: Ring): void {
  ring.setState(RING_DEAD);
  const dv = new DataView(ring.buffer);
  const env = new EnvelopeView();
  for (let off = ring.peek(); off >= 0; off = ring.peek()) {
    const len = ring.lengthAt(off);
    const tag = len >= SLOT_PREFIX_BYTES ? dv.getUint32(off, true) : 0;
    try {
      if (tag === TAG_INLINE && env.parse(dv, off + SLOT_PREFIX_BYTES, len - SLOT_PREFIX_BYTES)) freeMovedOf(memory, dv, env);
      if (tag === TAG_BLOCK) {
        const block = makePointer(dv.getInt32(off + 8, true), dv.getInt32(off + 12, true), dv.getFloat64(off + 16, true));
        const region = memory.regionBuffer(block.allocId);
        if (region !== null) {
          const bdv = region === ring.buffer ? dv : new DataView(region);
          if (env.parse(bdv, block.off, dv.getUint32(off + 24, true))) freeMovedOf(memory, bdv, env);
        }
        memory.free(block);
      }
    } catch {
      // Already freed or corrupt: nothing to reclaim.
    }
    consumeSlot(ring, dv, off);
  }
}

/** Frees the blocks the moved entries of a message nobody will receive own. */
function freeMovedOf(memory: ShmMemory, dv: DataView, env: EnvelopeView): void {
  for (let i = 0; i < env.sendCount && env.movedCount > 0; i++) {
    if (entryKind(dv, env, i) !== ENTRY_MOVED) continue;
    try {
      memory.free(entryPointer(dv, env, i));
    } catch {
      // A corrupted entry names no live block.
    }
  }
}
