/**
 * The shared-memory server: binds a named channel (a ring in shared memory) and receives
 * envelopes from it, spinning briefly and then parking on the ring's doorbell. Its options and
 * constants are in server-options.ts, the slot-taking receive path in slot-reader.ts, what ends
 * a park other than a message in park-alarms.ts, and the reclaiming of a dead ring in reap.ts.
 */
import { threadId } from 'node:worker_threads';
import type { IncomingMessage, WaitSpec } from '@lightbeam/core';
import { EAGAIN, ECANCELED, ECONNRESET, ENOBUFS, ESHUTDOWN, ETIMEDOUT, LBM_MALFORMED, LightbeamError, Server, cpuOversubscribed, makePointer, remainingMs } from '@lightbeam/core';
import { ChannelDirectory } from '../ring/channel-directory.js';
import { RING_OPEN, Ring } from '../ring/ring.js';
import { SLOT_BLOCK_OWNER, TAG_BLOCK, channelDirectory, hasOwnerRoom, consumeSlot, regionOf, ringAt, transportMemory } from './channels.js';
import { ParkAlarms } from './park-alarms.js';
import { reapRing } from './reap.js';
import type { ShmServerOptions, ShmServerStats } from './server-options.js';
import { DEFAULT_RING_MAX_BYTES, IDLE_SPINS_BEFORE_PARKING, NO_WAIT, POLLS_PER_STUCK_CHECK, REGION_PENDING, REGION_WAIT_MS, REWARM_SPINS, SKIPPED, STUCK_RECHECK_MS } from './server-options.js';
import { SlotReader } from './slot-reader.js';
import type { ShmMemory } from './transport-memory.js';

export type { ShmServerOptions, ShmServerStats } from './server-options.js';

/** Server side of `Transport.kShm`. */
export class ShmServer extends Server {
  /** The channel's ring. */
  readonly ring: Ring;
  private readonly memory: ShmMemory;
  /** Takes messages out of the ring's slots and tracks those handed out. */
  private readonly slots: SlotReader;
  /** What ends a park other than a message. */
  private readonly alarms: ParkAlarms;
  /** How long a receive spins on an empty ring before parking, in ms (0: never). */
  private readonly spinMs: number;
  /** Set by a spin that found nothing, so the park that follows does not spin again. */
  private spunAlready = false;
  /** When this server last bumped its heartbeat from a blocking receive (`performance.now()`). */
  private lastBeat = 0;
  private readonly heartbeatMs: number;
  private idleSpins = 0;
  /** Empty no-wait polls left before the next abandoned-slot check. */
  private pollsToStuckCheck = POLLS_PER_STUCK_CHECK;
  /** The ring's bind generation this server holds; a later bind by another server ends it. */
  private readonly generation: number;
  private readonly stuckSlotMs: number;
  private stuckHead = -1;
  private stuckSince = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxUnreleased: number;
  private refusedUnreleased = 0;

  private constructor(name: string, memory: ShmMemory, ring: Ring, options: ShmServerOptions) {
    super(name, options);
    this.memory = memory;
    this.ring = ring;
    this.slots = new SlotReader(memory, ring);
    this.alarms = new ParkAlarms(ring);
    this.spinMs = Math.max(0, (options.spinUs ?? 20) / 1000);
    this.stuckSlotMs = options.stuckSlotMs ?? 2000;
    this.generation = ring.bind(threadId);
    this.heartbeatMs = options.heartbeatMs ?? 200;
    this.maxUnreleased = options.maxUnreleased ?? 4096;
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
    this.closeController.signal.addEventListener('abort', this.alarms.interrupt, { once: true });
  }

  /**
   * Proves the server alive; while parked, also the safety net of the park (which waits without
   * a timeout): a message or a claimed-but-unpublished slot seen here ends the park, so the loop
   * re-checks the ring (an abandoned slot is then re-checked every {@link STUCK_RECHECK_MS}).
   */
  private beat(): void {
    const ring = this.ring;
    ring.beat();
    // Charges of consumed messages not yet given back (see SlotReader.peek) reach the ring at
    // least once per heartbeat, whatever the receiver does.
    this.slots.flushCharges();
    if (this.alarms.parked && (ring.peek() >= 0 || ring.headClaimed())) ring.interruptConsumer();
  }

  /**
   * Binds channel `name` in this thread's shared memory.
   *
   * @param name - channel name (1 to 96 UTF-8 bytes)
   * @param options - ring shape, spinning, limits
   * @throws LightbeamError `ERR_LBM_BIND` when another live server holds the channel
   */
  static async create(name: string, options: ShmServerOptions = {}): Promise<ShmServer> {
    const memory = transportMemory();
    const encoded = ChannelDirectory.encodeName(name);
    const capacity = options.capacity ?? 1024;
    const slotBytes = options.slotBytes ?? 256;
    const maxBytes = options.maxBytes ?? DEFAULT_RING_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0 || maxBytes > 2 ** 40) {
      throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `maxBytes must be an integer in [0, 2^40] (0: no byte bound), got ${maxBytes}`);
    }
    const bytes = Ring.bytesFor(capacity, slotBytes);
    const { ring: ptr, created } = channelDirectory(memory).findOrInsert(encoded, () => {
      const p = memory.allocate(bytes);
      if (p === null) throw new LightbeamError('ERR_LBM_NOMEM', `no shared memory for channel ${JSON.stringify(name)} (${bytes} bytes)`);
      Ring.init(regionOf(memory, p), p.off, capacity, slotBytes, maxBytes);
      return p;
    });
    const ring = ringAt(memory, ptr);
    if (!created && ring.state === RING_OPEN && !(await ShmServer.ownerIsGone(ring, options.heartbeatMs ?? 200))) {
      throw new LightbeamError('ERR_LBM_BIND', `cannot bind shm://${name}: the channel already has a live server (thread ${ring.owner})`);
    }
    return new ShmServer(name, memory, ring, options);
  }

  /** A server whose heartbeat stands still for three periods is gone (its thread died unwatched). */
  private static async ownerIsGone(ring: Ring, heartbeatMs: number): Promise<boolean> {
    const before = ring.heartbeat;
    await new Promise((r) => setTimeout(r, heartbeatMs * 3));
    return ring.heartbeat === before && ring.state === RING_OPEN;
  }

  /** Messages waiting in the ring. */
  stats(): ShmServerStats {
    const ring = this.ring;
    this.slots.settleInSlot();
    this.slots.flushCharges();
    return {
      depth: ring.depth(),
      capacity: ring.capacity,
      state: ring.state,
      unreleased: this.slots.outstanding.length,
      refusedUnreleased: this.refusedUnreleased,
      heldBytes: ring.heldBytes(),
      maxBytes: ring.maxKiB * 1024,
    };
  }

  protected receive(spec: WaitSpec): IncomingMessage | number | Promise<IncomingMessage | number> {
    if (this.slots.outstanding.length >= this.maxUnreleased) return this.refuseUnreleased();
    const off = this.slots.peek();
    if (off >= 0) {
      this.idleSpins = 0;
      return this.taken(this.slots.takeSlot(off), spec);
    }
    if (spec.deadline === 0) {
      if (--this.pollsToStuckCheck > 0) return EAGAIN;
      this.pollsToStuckCheck = POLLS_PER_STUCK_CHECK;
      if (!this.skipAbandonedSlot()) return EAGAIN;
      const next = this.slots.peek();
      return next >= 0 ? this.taken(this.slots.takeSlot(next), spec) : EAGAIN;
    }
    if (!this.spunAlready) {
      const at = this.spin();
      if (at >= 0) return this.taken(this.slots.takeSlot(at), spec);
    }
    this.spunAlready = false;
    return this.park(spec);
  }

  /**
   * A message ready now or after a short spin, without a promise: lets `waitMetadata` answer a
   * busy pipeline synchronously. A spin that found nothing makes the park that follows skip its
   * own.
   */
  protected override receiveSoon(): IncomingMessage | number {
    const r = this.receive(NO_WAIT) as IncomingMessage | number;
    if (r !== EAGAIN) return r;
    const at = this.spin();
    if (at < 0) {
      this.spunAlready = true;
      return EAGAIN;
    }
    const got = this.slots.takeSlot(at);
    if (got === SKIPPED) return this.receiveSoon();
    return got === REGION_PENDING ? this.regionNotYet() : got;
  }

  /**
   * Spins on an empty ring for up to `spinUs` and returns the payload offset of a message that
   * arrived, or -1. Adaptive: after a few spins that found nothing it stops spinning until a
   * message is seen again; a spin that finds one keeps it on.
   */
  private spin(): number {
    if (this.spinMs === 0 || this.idleSpins >= IDLE_SPINS_BEFORE_PARKING) return -1;
    const ring = this.ring;
    const until = performance.now() + this.spinMs;
    for (let i = 1; ; i++) {
      const at = this.slots.peek();
      if (at >= 0) {
        this.idleSpins = 0;
        return at;
      }
      // The clock only every 32 polls: reading it costs more than a poll.
      if ((i & 31) === 0 && performance.now() >= until) break;
    }
    this.idleSpins++;
    return -1;
  }

  protected override receiveBlocking(timeoutMs: number): IncomingMessage | number {
    if (this.slots.outstanding.length >= this.maxUnreleased) return this.refuseUnreleased();
    const ring = this.ring;
    let off = this.slots.peek();
    if (off < 0) off = this.spin();
    // The clock is read only once a park is needed (reading it allocates): the deadline then
    // counts from the first park, a spin's length after the call.
    let deadline = -1;
    let parkedAt = -1;
    for (;;) {
      if (off >= 0) {
        // Woken by a message soon after parking: a slightly longer spin would have caught it.
        if (parkedAt >= 0 && this.rewarms(parkedAt)) this.idleSpins = 0;
        const r = this.slots.takeSlot(off);
        if (r !== SKIPPED) return r === REGION_PENDING ? this.regionNotYet() : r;
        off = this.slots.peek();
        continue;
      }
      if (this.closed) return ESHUTDOWN;
      if (ring.generation !== this.generation || ring.state !== RING_OPEN) return ECONNRESET;
      const now = performance.now();
      if (deadline < 0) {
        deadline = now + timeoutMs;
        parkedAt = now;
      }
      const left = deadline - now;
      if (left <= 0) return ETIMEDOUT;
      // This thread's timers cannot run while it blocks: prove it alive here (at most twice per
      // period), and wake at least once per heartbeat to do it again.
      if (now - this.lastBeat >= this.heartbeatMs / 2) {
        ring.beat();
        this.lastBeat = now;
      }
      ring.waitForDataSync(Math.min(left, this.stuckHead >= 0 ? STUCK_RECHECK_MS : this.heartbeatMs));
      off = this.slots.peek();
      // Woken without a message (timeout, state change): a claimed slot may have been abandoned.
      if (off < 0 && this.skipAbandonedSlot()) off = this.slots.peek();
    }
  }

  /**
   * A park that a message ended within a few spin lengths of `parkedAt` switches the adaptive spin
   * back on, unless the machine has more runnable threads than cores: there the spin would take
   * the core the producer needs, and parking is cheaper.
   */
  private rewarms(parkedAt: number): boolean {
    const now = performance.now();
    return now - parkedAt < REWARM_SPINS * this.spinMs && !cpuOversubscribed(now);
  }

  /** The receiver holds `maxUnreleased` messages: no more until it releases some. */
  private refuseUnreleased(): number {
    this.refusedUnreleased++;
    return ENOBUFS;
  }

  /** Passes a taken message on, or deals with one whose region has not arrived yet. */
  private taken(r: IncomingMessage | number, spec: WaitSpec): IncomingMessage | number | Promise<IncomingMessage | number> {
    if (r === SKIPPED) return this.receive(spec);
    if (r !== REGION_PENDING) return r;
    return spec.deadline === 0 ? this.regionNotYet() : this.awaitRegion(spec);
  }

  private async park(spec: WaitSpec): Promise<IncomingMessage | number> {
    // The wait on the data bell has no timeout and no race around it: a V8 timeout posts a delayed
    // task (a wake-up of this thread's event loop and a libuv timer per park), and racing the wait
    // against a timer and two abort listeners costs as much again, on every message. Instead the
    // deadline timer, the caller's signal and close each ring the bell themselves (interrupt), and
    // the loop below sees why it woke.
    const signal = spec.signal;
    if (signal !== undefined) this.alarms.watch(signal);
    this.alarms.deadlineHit = false;
    this.alarms.parkDeadline = spec.deadline;
    let woken = false;
    let parkedAt = 0;
    // A pending Atomics.waitAsync does not keep the event loop alive: hold the heartbeat timer
    // ref'd while parked, so a thread whose only work is waiting for a message stays up.
    this.heartbeat.ref();
    try {
      for (;;) {
        const off = this.slots.peek();
        if (off >= 0) {
          // Woken by a message soon after parking, within a few spin lengths: a slightly longer
          // spin would have caught it, so spin again next time (misses had switched it off). A
          // message that took longer would not have been caught by spinning: keep parking, and
          // keep the thread free for its other work (a bridge's main thread, for one).
          if (woken && this.rewarms(parkedAt)) this.idleSpins = 0;
          return this.taken(this.slots.takeSlot(off), spec);
        }
        if (this.closed) return ESHUTDOWN;
        // The channel was taken over by a newer server, or a watcher marked it dead: this server
        // no longer receives from it.
        if (this.ring.generation !== this.generation || this.ring.state !== RING_OPEN) return ECONNRESET;
        if (signal?.aborted) return ECANCELED;
        // Only after a wake that brought no message: before the first park the heartbeat watches
        // for an abandoned slot (it interrupts the park when it sees one).
        if (woken && this.skipAbandonedSlot()) continue;
        if (this.alarms.deadlineHit) return ETIMEDOUT;
        if (spec.deadline !== Infinity) {
          const left = remainingMs(spec);
          if (left === 0) return ETIMEDOUT;
          // Arm only when no armed timer fires by our deadline; a later one would miss it.
          if (this.alarms.timerAt > spec.deadline) this.alarms.armDeadline(left);
        }
        this.alarms.parked = true;
        if (!woken) parkedAt = performance.now();
        await this.ring.waitForData(this.stuckHead >= 0 ? STUCK_RECHECK_MS : Infinity);
        this.alarms.parked = false;
        woken = true;
      }
    } finally {
      this.alarms.parked = false;
      this.alarms.parkDeadline = Infinity;
      this.heartbeat.unref();
    }
  }

  /** Tracks a claimed-but-unpublished head slot and skips it once it is clearly abandoned. */
  private skipAbandonedSlot(): boolean {
    if (!this.ring.headClaimed()) {
      this.stuckHead = -1;
      return false;
    }
    const head = this.ring.headPosition();
    if (head !== this.stuckHead) {
      this.stuckHead = head;
      this.stuckSince = performance.now();
      return false;
    }
    if (performance.now() - this.stuckSince < this.stuckSlotMs) return false;
    this.stuckHead = -1;
    // A producer terminated after it had a block for a large envelope left the block's reference
    // in the slot, tagged with this lap's position: read it before the slot is given up.
    const at = this.ring.headPayload();
    const dv = this.slots.dv;
    const orphan = dv.getUint32(at, true) === TAG_BLOCK && dv.getInt32(at + 4, true) === head ? makePointer(dv.getInt32(at + 8, true), dv.getInt32(at + 12, true), dv.getFloat64(at + 16, true)) : null;
    const owner = orphan !== null && hasOwnerRoom(this.ring) ? dv.getInt32(at + SLOT_BLOCK_OWNER, true) - 1 : -1;
    if (!this.ring.skipHead()) return false;
    // A producer that is only stalled (it still holds its thread slot) is still copying into the
    // block, and frees it itself when its publish fails: freeing it here would hand memory it
    // writes to another message. Only the block of a producer known to have exited is freed.
    if (orphan !== null && !(owner >= 0 && this.memory.threadMayUse?.(orphan, owner) === true)) this.slots.freeQuietly(orphan);
    return true;
  }

  /**
   * The head message refers to a region another thread added and this thread has not received:
   * wait for it (the announcement is a task, so the wait also lets the event loop run), then
   * receive again. A region that never arrives within {@link REGION_WAIT_MS} makes the message
   * undeliverable: it is dropped as malformed rather than block the channel forever.
   */
  private async awaitRegion(spec: WaitSpec): Promise<IncomingMessage | number> {
    const budget = Math.min(remainingMs(spec), REGION_WAIT_MS);
    // The slot waiting for its region; while this waits, a close drains it or another server
    // binds the ring and takes it, and then it is no longer this server's to drop.
    const waiting = this.ring.peek();
    try {
      if (this.memory.sync === undefined) throw new Error('no way to learn new regions');
      await this.memory.sync(budget);
    } catch {
      if (budget < REGION_WAIT_MS) return ETIMEDOUT;
      if (this.closed) return ESHUTDOWN;
      if (this.ring.generation !== this.generation || this.ring.state !== RING_OPEN) return ECONNRESET;
      if (waiting < 0 || this.ring.peek() !== waiting) return this.receive(spec);
      consumeSlot(this.ring, this.slots.dv, waiting);
      return LBM_MALFORMED;
    }
    return this.receive(spec);
  }

  /** A no-wait receive met a message for a region not here yet: ask for it, report nothing ready. */
  private regionNotYet(): number {
    void this.memory.sync?.(REGION_WAIT_MS).catch(() => {});
    return EAGAIN;
  }

  /** A no-wait receive over shared memory never awaits. */
  protected override get receivesSynchronously(): boolean {
    return true;
  }

  protected async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.alarms.dispose();
    this.ring.release(this.generation);
    this.slots.drain();
    // Messages received but never released (no recvBulks, in-place views kept): free their
    // blocks now; their views are invalid from here on.
    this.slots.releaseOutstanding();
  }

  /**
   * Marks the ring dead (its thread is gone) and reclaims its queued messages. Called by
   * {@link watchWorker} from another thread.
   *
   * @internal
   */
  static reap(memory: ShmMemory, ring: Ring): void {
    reapRing(memory, ring);
  }
}
