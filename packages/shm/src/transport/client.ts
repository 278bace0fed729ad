/**
 * The shared-memory client: writes each message's envelope inline into a ring slot when it fits,
 * or into a slab block the slot points to, and rings the server's doorbell once per burst.
 */
import { threadId } from 'node:worker_threads';
import type { Bulk, EncodedFields, LbmMeta, OutgoingMessage, WaitSpec } from '@lightbeam/core';
import { Client, EAGAIN, ECONNRESET, EMSGSIZE, ENOMEM, ETIMEDOUT, LightbeamError, encodeCustomFields, hasCustomFields, raceWait, remainingMs } from '@lightbeam/core';
import type { Pointer } from '@lightbeam/core';
import { ChannelDirectory } from '../ring/channel-directory.js';
import { frameEnvelopeBytes, heldKiB, writeFrameEnvelope, writeMetaEnvelope } from '../ring/envelope.js';
import { EnvelopePlan, chargeKiB, padTo8, planMetaEnvelope } from '../ring/envelope-plan.js';
import { RING_DEAD, RING_OPEN, type Ring } from '../ring/ring.js';
import { SLOT_BLOCK_OWNER, SLOT_BLOCK_REF_BYTES, SLOT_CHARGE_INLINE, SLOT_PREFIX_BYTES, TAG_BLOCK, TAG_INLINE, TAG_VOID, channelDirectory, hasOwnerRoom, regionOf, ringAt, setSlotCharge, transportMemory } from './channels.js';
import type { ShmMemory } from './transport-memory.js';

/** Options of a shared-memory client. */
export interface ShmClientOptions {
  /**
   * A full ring whose server shows no heartbeat for this long makes waiting sends resolve
   * `ECONNRESET` (a server thread that died without a watcher noticing).
   * @defaultValue 5000
   */
  peerTimeoutMs?: number;
  /**
   * Microseconds a send that may wait spins for room in a full ring before it parks; `0` parks at
   * once. Adaptive, as the server's: after a few spins that found no room it parks at once until
   * a spin finds room again.
   * @defaultValue 20
   */
  spinUs?: number;
}

/** Spins that found no room before the adaptive spin switches itself off. */
const IDLE_SPINS_BEFORE_PARKING = 3;

/** Longest single park before a waiting send re-checks the ring, the directory and the peer. */
const MAX_PARK_MS = 250;

const noop = (): void => {};

/**
 * Client side of `Transport.kShm`. Any attached thread may create one for a channel; many clients
 * may send to one server.
 *
 * A send rings the server's doorbell at once when the server is parked, and costs one read of a
 * line nobody writes when it is awake; of a burst of sends that find it parked, only the first
 * rings.
 */
export class ShmClient extends Client {
  private readonly memory: ShmMemory;
  private readonly name: Uint8Array;
  private readonly channel: string;
  private readonly peerTimeoutMs: number;
  /** How long a waiting send spins for room before it parks, in ms (0: never). */
  private readonly spinMs: number;
  /** Spins in a row that found no room; at the limit, sends park at once until one finds room. */
  private idleSpins = 0;
  private ring: Ring | null = null;
  private u8: Uint8Array | null = null;
  private dv: DataView | null = null;

  /**
   * @param channel - the channel to send to; it may be bound later (sends resolve `EAGAIN` or wait until then)
   * @param options - peer timeout
   */
  constructor(channel: string, options: ShmClientOptions = {}) {
    super();
    this.memory = transportMemory();
    this.channel = channel;
    this.name = ChannelDirectory.encodeName(channel);
    this.peerTimeoutMs = options.peerTimeoutMs ?? 5000;
    this.spinMs = Math.max(0, (options.spinUs ?? 20) / 1000);
  }

  /** The channel this client sends to. */
  getChannel(): string {
    return this.channel;
  }

  protected transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    const ring = this.ring ?? this.resolve();
    if (ring !== null && ring.state === RING_OPEN) {
      const rc = this.tryPublish(ring, msg);
      if (rc !== EAGAIN || spec.deadline === 0) return rc;
    } else if (spec.deadline === 0) {
      return ring !== null && ring.state === RING_DEAD ? ECONNRESET : EAGAIN;
    }
    return this.transmitWaiting(msg, spec);
  }

  private async transmitWaiting(msg: OutgoingMessage, spec: WaitSpec): Promise<number> {
    // Atomics.waitAsync alone does not keep the event loop alive; a waiting send must.
    const keepAlive = setInterval(noop, MAX_PARK_MS * 1000);
    try {
      return await this.waitAndPublish(msg, spec);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async waitAndPublish(msg: OutgoingMessage, spec: WaitSpec): Promise<number> {
    let lastBeat = -1;
    let beatSince = performance.now();
    let parkedAt = -1;
    for (;;) {
      const ring = this.ring ?? this.resolve();
      if (ring === null) {
        const r = await raceWait(channelDirectory(this.memory).waitForChange(Math.min(remainingMs(spec), MAX_PARK_MS)), spec, this.closeController.signal);
        if (typeof r === 'number') return r;
        if (remainingMs(spec) === 0) return ETIMEDOUT;
        continue;
      }
      const state = ring.state;
      if (state === RING_DEAD) return ECONNRESET;
      if (state === RING_OPEN) {
        const rc = this.tryPublish(ring, msg);
        if (rc !== EAGAIN) {
          // Room came soon after parking: a slightly longer spin would have found it, so spin again.
          if (rc === 0 && parkedAt >= 0 && performance.now() - parkedAt < 2 * this.spinMs) this.idleSpins = 0;
          return rc;
        }
        const beat = ring.heartbeat;
        if (beat !== lastBeat) {
          lastBeat = beat;
          beatSince = performance.now();
        } else if (performance.now() - beatSince > this.peerTimeoutMs) {
          return ECONNRESET;
        }
      }
      if (remainingMs(spec) === 0) return ETIMEDOUT;
      if (parkedAt < 0) parkedAt = performance.now();
      const r = await raceWait(ring.waitForSpace(Math.min(remainingMs(spec), MAX_PARK_MS)), spec, this.closeController.signal);
      if (typeof r === 'number') return r;
    }
  }

  private resolve(): Ring | null {
    const ptr = channelDirectory(this.memory).lookup(this.name);
    if (ptr === null) return null;
    const ring = ringAt(this.memory, ptr);
    this.ring = ring;
    this.u8 = new Uint8Array(ring.buffer);
    this.dv = new DataView(ring.buffer);
    return ring;
  }

  /** Publishes `msg` (encoded) if a slot is free: 0, `EAGAIN` when full, `ENOMEM` when no block for a large envelope. */
  private tryPublish(ring: Ring, msg: OutgoingMessage): number {
    if (hasMoved(msg.bulks)) this.checkMoved(msg.bulks);
    const size = frameEnvelopeBytes(msg);
    const at = this.place(ring, size);
    if (at < 0) return -at;
    writeFrameEnvelope(this.target, this.targetDv, at, msg);
    return this.commit(ring, size, at, ring.maxKiB === 0 ? 0 : heldKiB(this.targetDv, at, this.block === null ? 0 : size));
  }

  protected override transmitMetaSoon(meta: LbmMeta): number {
    const ring = this.ring;
    if (this.spinMs === 0 || this.idleSpins >= IDLE_SPINS_BEFORE_PARKING || ring === null) return EAGAIN;
    const until = performance.now() + this.spinMs;
    for (let i = 1; ; i++) {
      if (ring.hasSpace()) {
        const rc = this.transmitMeta(meta);
        if (rc !== EAGAIN) {
          this.idleSpins = 0;
          return rc;
        }
      }
      // The clock only every 32 polls: reading it costs more than a poll.
      if ((i & 31) === 0 && performance.now() >= until) break;
    }
    this.idleSpins++;
    return EAGAIN;
  }

  /**
   * The hot path: writes `meta`'s descriptors straight into the ring (or a block), no archive
   * frame. An envelope that fits its slot is claimed, written and published here in one go, its
   * charge summed while planning instead of read back from the written entries.
   */
  protected override transmitMeta(meta: LbmMeta): number {
    const ring = this.ring ?? this.resolve();
    if (ring === null) return EAGAIN;
    const state = ring.state;
    if (state !== RING_OPEN) return state === RING_DEAD ? ECONNRESET : EAGAIN;
    const plan = this.plan;
    planMetaEnvelope(meta, plan);
    if (plan.moved) this.checkMoved(meta.send);
    const fields: EncodedFields | null = hasCustomFields(meta) ? encodeCustomFields(meta) : null;
    const size = fields === null ? plan.bytes : plan.bytes + padTo8(fields.length);
    if (size + SLOT_PREFIX_BYTES > ring.payloadBytes) {
      const at = this.place(ring, size);
      if (at < 0) return -at;
      writeMetaEnvelope(this.target, this.targetDv, at, meta, fields);
      return this.commit(ring, size, at, chargeKiB(plan.heldBytes + size));
    }
    if (ring.overBudget()) return EAGAIN;
    const off = ring.claim();
    if (off < 0) return EAGAIN;
    const dv = this.dv as DataView;
    writeMetaEnvelope(this.u8 as Uint8Array, dv, off + SLOT_PREFIX_BYTES, meta, fields);
    const kib = ring.maxKiB === 0 ? 0 : chargeKiB(plan.heldBytes);
    dv.setUint32(off, TAG_INLINE, true);
    // The charge goes into the slot before publishing: the consumer gives back what it reads there.
    if (ring.maxKiB !== 0) dv.setUint32(off + SLOT_CHARGE_INLINE, kib, true);
    // Inline: nothing to free if the server gave the slot up meanwhile (see commit).
    if (!ring.publish(ring.claimed, size + SLOT_PREFIX_BYTES)) return ETIMEDOUT;
    ring.charge(kib);
    return 0;
  }

  /** Reused by every {@link ShmClient.transmitMeta}: what the envelope needs. */
  private readonly plan = new EnvelopePlan();

  protected override get writesMetaDirectly(): boolean {
    return true;
  }

  protected override get movesBlocks(): boolean {
    return true;
  }

  /** A moved bulk must be a live block of this memory, large enough: anything else would be freed wrongly later. */
  private checkMoved(bulks: readonly Bulk[]): void {
    for (let i = 0; i < bulks.length; i++) {
      const b = bulks[i];
      if (b.move !== true) continue;
      const shm = (b.data as NonNullable<Bulk['data']>).shm;
      const have = this.memory.blockBytes(shm);
      if (have < b.size) {
        throw new LightbeamError(
          'ERR_LBM_INVALID_ARGUMENT',
          `send bulk #${i} moves ${b.size} bytes at {major: ${shm.allocId.major}, minor: ${shm.allocId.minor}, off: ${shm.off}}, ${have < 0 ? 'which is not the start of a live block' : `a ${have}-byte block`}`,
        );
      }
    }
  }

  // Where the envelope being sent goes: set by place(), used by the writer and commit().
  private target: Uint8Array = new Uint8Array(0);
  private targetDv: DataView = new DataView(new ArrayBuffer(0));
  private block: Pointer | null = null;
  private slot = 0;

  /**
   * Finds room for an envelope of `size` bytes and claims a ring slot for it: inline in the slot
   * when it fits, else in a fresh slab block whose reference goes into the slot at once, before a
   * byte is copied, so that a thread terminated mid-copy leaves the block findable by the server
   * (which frees it when it skips the abandoned slot). Returns the envelope's offset in
   * `this.target`, or minus a code (`-EAGAIN` ring full or holding its byte bound, `-EMSGSIZE`
   * larger than any block can be, `-ENOMEM` no block now).
   */
  private place(ring: Ring, size: number): number {
    const u8 = this.u8 as Uint8Array;
    const dv = this.dv as DataView;
    const inline = size + SLOT_PREFIX_BYTES <= ring.payloadBytes;
    // A message no block can ever hold is refused before it takes a slot.
    if (!inline && size > this.memory.maxBlockBytes()) return -EMSGSIZE;
    // The byte bound, checked before a slot is taken: a producer far ahead waits (or gets EAGAIN)
    // here instead of filling the slab until allocations fail.
    if (ring.overBudget()) return -EAGAIN;
    const off = ring.claim();
    if (off < 0) return -EAGAIN;
    this.slot = off;
    if (inline) {
      dv.setUint32(off, TAG_INLINE, true);
      this.target = u8;
      this.targetDv = dv;
      this.block = null;
      return off + SLOT_PREFIX_BYTES;
    }
    const block = this.memory.allocate(size);
    if (block === null) {
      // The slot is ours and must be published: as nothing, which the server skips.
      dv.setUint32(off, TAG_VOID, true);
      if (ring.maxKiB !== 0) setSlotCharge(dv, off, 0);
      ring.publish(ring.claimed, SLOT_PREFIX_BYTES);
      return -ENOMEM;
    }
    writeBlockRef(dv, off, block, size, ring.claimed, hasOwnerRoom(ring));
    const region = regionOf(this.memory, block);
    this.target = region === ring.buffer ? u8 : new Uint8Array(region);
    this.targetDv = region === ring.buffer ? dv : new DataView(region);
    this.block = block;
    return block.off;
  }

  /**
   * Publishes the envelope written at `at` where place() said (inline, or the block its slot
   * refers to), then charges the ring `kib` for the shared memory it holds (computed by the
   * caller before publishing: once published, the consumer may release the envelope).
   */
  private commit(ring: Ring, size: number, at: number, kib: number): number {
    const inline = this.block === null;
    if (ring.maxKiB === 0) kib = 0;
    else setSlotCharge(this.dv as DataView, this.slot, kib);
    const block = this.block;
    this.block = null;
    if (!ring.publish(ring.claimed, inline ? size + SLOT_PREFIX_BYTES : SLOT_BLOCK_REF_BYTES)) {
      // The server gave the slot up (this thread stalled past its stuckSlotMs): nobody will read
      // the envelope, so its charge is not handed over, and its block is this thread's to free.
      // The server frees such a block only for a producer it knows has exited, which it learns
      // from the owner word; a ring too small for that word leaves the block to the server alone
      // (kept rather than freed twice, if the server skipped before the reference was written).
      if (block !== null && hasOwnerRoom(ring)) this.memory.free(block);
      return ETIMEDOUT;
    }
    ring.charge(kib);
    return 0;
  }

  /** A no-wait send over shared memory never awaits. */
  protected override get transmitsSynchronously(): boolean {
    return true;
  }

  protected async shutdown(): Promise<void> {}
}

function hasMoved(bulks: readonly Bulk[]): boolean {
  for (let i = 0; i < bulks.length; i++) if (bulks[i].move === true) return true;
  return false;
}

function writeBlockRef(dv: DataView, off: number, block: Pointer, length: number, position: number, owner: boolean): void {
  dv.setUint32(off, TAG_BLOCK, true);
  // Who may still write the block, for a server that skips this slot as abandoned (see commit).
  if (owner) dv.setInt32(off + SLOT_BLOCK_OWNER, threadId + 1, true);
  dv.setInt32(off + 8, block.allocId.major, true);
  dv.setInt32(off + 12, block.allocId.minor, true);
  dv.setFloat64(off + 16, block.off, true);
  dv.setUint32(off + 24, length, true);
  // Last: the reference above belongs to this lap of the slot (an old lap's stays unclaimed).
  dv.setInt32(off + 4, position, true);
}
