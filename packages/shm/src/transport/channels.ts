/**
 * Per-thread access to the domain's channels: the memory the transport runs on, the channel
 * directory, and cached ring views.
 */
import type { Pointer } from '@lightbeam/core';
import { LightbeamError } from '@lightbeam/core';
import { ChannelDirectory } from '../ring/channel-directory.js';
import { MAX_CHARGE_KIB } from '../ring/envelope.js';
import { Ring } from '../ring/ring.js';
import type { ShmMemory } from './transport-memory.js';

/** Most channels one domain can hold. */
export const DIRECTORY_CAPACITY = 256;

/**
 * Slot payload tag: the envelope follows inline, at payload + `SLOT_PREFIX_BYTES`. Prefix:
 * `u32 tag`, `u32 charge` (see {@link slotCharge}).
 */
export const TAG_INLINE = 1;
/**
 * Slot payload tag: the envelope is in a slab block. Payload layout: `u32 tag`, `i32 position`
 * (the slot's ring position, written last: it says the reference below belongs to this lap),
 * `i32 major`, `i32 minor`, `f64 off`, `u32 length`, `u32 charge`.
 */
export const TAG_BLOCK = 2;
/**
 * Slot payload tag: nothing to deliver. A producer that claimed a slot and then could not get a
 * block for its envelope publishes this; the consumer skips it.
 */
export const TAG_VOID = 3;
/** Bytes before an inline envelope in a slot payload (tag + padding keeps it 8-aligned). */
export const SLOT_PREFIX_BYTES = 8;
/** Bytes of a block reference in a slot payload. */
export const SLOT_BLOCK_REF_BYTES = 32;
/**
 * Where a slot payload with a block reference keeps the producing thread's `threadId` + 1, after
 * the reference and outside it (only a slot whose payload has room for it, `payloadBytes >= 36`).
 * Written before the position; read only when the server skips the slot as abandoned, to leave
 * the block to a producer that is alive, only stalled.
 */
export const SLOT_BLOCK_OWNER = SLOT_BLOCK_REF_BYTES;

/**
 * Whether the ring's slots have room for the owner word after a block reference.
 *
 * @param ring - the channel's ring
 */
export function hasOwnerRoom(ring: Ring): boolean {
  return ring.payloadBytes >= SLOT_BLOCK_OWNER + 4;
}
/** Where an inline or void slot payload keeps its charge: after the tag. */
export const SLOT_CHARGE_INLINE = 4;
/** Where a block reference keeps its charge: after the length. */
const CHARGE_BLOCK = 28;

/**
 * Records in the slot payload at `off` what its message charges the ring's byte bound, in KiB
 * (`heldKiB`), so the consumer gives back exactly that whatever becomes of the message (received,
 * malformed, dropped). Written by the producer before it publishes the slot.
 *
 * @param dv - data view of the ring's buffer
 * @param off - the slot's payload offset, its tag already written
 * @param kib - the charge
 */
export function setSlotCharge(dv: DataView, off: number, kib: number): void {
  dv.setUint32(off + (dv.getUint32(off, true) === TAG_BLOCK ? CHARGE_BLOCK : SLOT_CHARGE_INLINE), kib, true);
}

/**
 * The charge the producer recorded in the published slot payload at `off` (0 for a tag it never
 * writes, a reference that would not fit the buffer, or a value no producer writes: a thread
 * scribbling on the ring can only loosen the bound, never fill it).
 *
 * @param dv - data view of the ring's buffer
 * @param off - the slot's payload offset
 */
export function slotCharge(dv: DataView, off: number): number {
  const tag = dv.getUint32(off, true);
  const at = tag === TAG_BLOCK ? off + CHARGE_BLOCK : tag === TAG_INLINE || tag === TAG_VOID ? off + SLOT_CHARGE_INLINE : -1;
  if (at < 0 || at + 4 > dv.byteLength) return 0;
  const kib = dv.getUint32(at, true);
  return kib > MAX_CHARGE_KIB ? 0 : kib;
}

/**
 * Consumes the published head slot at payload `off`, first giving back the charge its producer
 * recorded there: before the slot, so advance()'s wake-up of parked producers covers the bytes.
 *
 * @param ring - the ring whose head slot it is
 * @param dv - data view of the ring's buffer
 * @param off - the slot's payload offset
 */
export function consumeSlot(ring: Ring, dv: DataView, off: number): void {
  if (ring.maxKiB !== 0) ring.discharge(slotCharge(dv, off));
  ring.advance();
}

let current: ShmMemory | null = null;
const directories = new WeakMap<ShmMemory, ChannelDirectory>();
const rings = new WeakMap<SharedArrayBuffer, Map<number, Ring>>();

/**
 * Sets the memory this thread's shared-memory endpoints use (the memory manager calls it when it
 * is created or attached).
 *
 * @param m - the thread's memory, or `null` to detach
 */
export function setTransportMemory(m: ShmMemory | null): void {
  current = m;
}

let fallback: (() => void) | null = null;

/**
 * Installs what {@link transportMemory} does when the thread has no memory yet (the embedded
 * default: create it in the main thread, attach from `workerData` in a worker).
 *
 * @param f - makes and installs the thread's memory, or leaves it unset when it cannot
 */
export function setMemoryFallback(f: () => void): void {
  fallback = f;
}

/** The thread's memory if it has one, without creating any. */
export function currentTransportMemory(): ShmMemory | null {
  return current;
}

/**
 * The thread's memory: the manager created or attached in this thread, else the embedded default
 * (created on first use in the main thread; attached from `workerData` in a worker started with
 * the package's helpers).
 *
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` when a worker has no memory and no handle to attach
 */
export function transportMemory(): ShmMemory {
  if (current === null) fallback?.();
  if (current === null) {
    throw new LightbeamError(
      'ERR_LBM_INVALID_ARGUMENT',
      'no shared memory in this worker: start it with startWorker() or createPool() from @lightbeam/shm, or attach a MemoryManager handle (MemoryManager.attach) before using Transport.kShm',
    );
  }
  return current;
}

/** The domain's channel directory, created by the first thread that needs it. */
export function channelDirectory(memory: ShmMemory): ChannelDirectory {
  let dir = directories.get(memory);
  if (dir !== undefined) return dir;
  const bytes = ChannelDirectory.bytesFor(DIRECTORY_CAPACITY);
  let mine: Pointer | null = null;
  const ptr = memory.directory(() => {
    const p = memory.allocate(bytes);
    if (p === null) throw new LightbeamError('ERR_LBM_NOMEM', `no shared memory for the channel directory (${bytes} bytes)`);
    ChannelDirectory.init(regionOf(memory, p), p.off, DIRECTORY_CAPACITY);
    mine = p;
    return p;
  });
  if (mine !== null && (mine as Pointer).off !== ptr.off) memory.free(mine);
  dir = ChannelDirectory.attach(regionOf(memory, ptr), ptr.off);
  directories.set(memory, dir);
  return dir;
}

/** A cached view of the ring at `p`. */
export function ringAt(memory: ShmMemory, p: Pointer): Ring {
  const buf = regionOf(memory, p);
  let byOff = rings.get(buf);
  if (byOff === undefined) rings.set(buf, (byOff = new Map()));
  let ring = byOff.get(p.off);
  if (ring === undefined) byOff.set(p.off, (ring = Ring.attach(buf, p.off)));
  return ring;
}

/** The region buffer behind `p`. */
export function regionOf(memory: ShmMemory, p: Pointer): SharedArrayBuffer {
  const buf = memory.regionBuffer(p.allocId);
  if (buf === null) {
    throw new LightbeamError('ERR_LBM_BAD_POINTER', `region {major: ${p.allocId.major}, minor: ${p.allocId.minor}} is not attached in this thread`);
  }
  return buf;
}

/**
 * The ring of channel `name` in this thread's memory, or `null` when no server ever bound it
 * (for diagnostics and tools: depth, state, owner).
 *
 * @param name - channel name
 */
export function findChannelRing(name: string): Ring | null {
  const memory = transportMemory();
  const ptr = channelDirectory(memory).lookup(ChannelDirectory.encodeName(name));
  return ptr === null ? null : ringAt(memory, ptr);
}
