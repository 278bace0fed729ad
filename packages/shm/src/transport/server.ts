/**
 * The shared-memory server: binds a named channel (a ring in shared memory) and receives
 * envelopes from it, spinning briefly and then parking on the ring's doorbell.
 */
import { threadId } from 'node:worker_threads';
import type { IncomingMessage, ServerOptions, WaitSpec } from '@lightbeam/core';
import { EAGAIN, ECANCELED, ECONNRESET, ENOBUFS, ESHUTDOWN, ETIMEDOUT, LBM_MALFORMED, LightbeamError, Server, remainingMs } from '@lightbeam/core';
import { ChannelDirectory } from '../ring/channel-directory.js';
import { ENTRY_MOVED, ENTRY_SHARED, EnvelopeView, entryKind, entryPointer } from '../ring/envelope.js';
import { RING_DEAD, RING_HEADER_BYTES, RING_OPEN, Ring } from '../ring/ring.js';
import { SLOT_PREFIX_BYTES, TAG_BLOCK, TAG_INLINE, TAG_VOID, channelDirectory, regionOf, ringAt, slotCharge, transportMemory } from './channels.js';
import type { IncomingOwner } from './incoming.js';
import { ShmIncoming } from './incoming.js';
import type { ShmMemory } from './transport-memory.js';
import type { Pointer } from '@lightbeam/core';
import { makePointer } from '@lightbeam/core';

/** A receive that must not wait. */
const NO_WAIT: WaitSpec = Object.freeze({ deadline: 0, signal: undefined });

/** Options of a shared-memory server. */
export interface ShmServerOptions extends ServerOptions {
  /**
   * Ring slots (messages in flight), a power of two. Used when the channel is created.
   * @defaultValue 1024
   */
  capacity?: number;
  /**
   * Most bytes of shared memory the ring's messages may hold (their shared and moved bulks, and
   * envelopes too large for a slot), rounded up to KiB. At the bound, `send` resolves `EAGAIN`
   * (or waits for room, with a timeout) before it takes a slot, as when the ring is full: a
   * producer far ahead of its consumer then waits instead of filling the slab until allocations
   * fail. A message that crosses the bound is accepted, so one larger than the bound still
   * passes an empty ring. `0` lifts the bound (only `capacity` then limits the ring). Used when
   * the channel is created.
   * @defaultValue 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Bytes per ring slot; envelopes up to `slotBytes - 16` travel inline, larger ones in a slab block.
   * @defaultValue 256
   */
  slotBytes?: number;
  /**
   * Microseconds to spin on an empty ring before parking; `0` parks at once. The spin is
   * adaptive: after a few spins that found nothing, the server parks at once until traffic resumes.
   * @defaultValue 20
   */
  spinUs?: number;
  /**
   * How often the server proves it is alive (a counter in the ring header), in ms.
   * @defaultValue 200
   */
  heartbeatMs?: number;
  /**
   * A slot claimed by a producer but left unpublished this long is skipped: its producer thread
   * was terminated between claiming and publishing (a live producer publishes within microseconds).
   * @defaultValue 2000
   */
  stuckSlotMs?: number;
  /**
   * Most messages received and not yet released (no `recvBulks`, in-place views kept, blocks
   * not taken). At the bound, receives answer `ENOBUFS` without consuming anything until the
   * application releases some: a receiver that never releases cannot exhaust shared memory.
   * @defaultValue 4096
   */
  maxUnreleased?: number;
}

/** How often a park re-checks a head slot that a producer claimed but has not published yet. */
const STUCK_RECHECK_MS = 50;
/** Spins that found nothing before the adaptive spin switches itself off. */
const IDLE_SPINS_BEFORE_PARKING = 3;
/** A park that a message ends within this many spin lengths switches the adaptive spin back on. */
const REWARM_SPINS = 2;
/**
 * Empty no-wait polls between two checks for an abandoned head slot: the check reads the tail,
 * a line every producer writes, so a poll loop must not pay it on every miss.
 */
const POLLS_PER_STUCK_CHECK = 1024;
/** Received messages kept for reuse (each holds an inline copy buffer of the ring's payload size). */
const POOL_LIMIT = 64;

/** What {@link ShmServer.stats} reports. */
export interface ShmServerStats {
  /** Messages published (or claimed) and not yet received. */
  depth: number;
  /** Ring slots. */
  capacity: number;
  /** `RING_OPEN`, `RING_CLOSED` or `RING_DEAD`. */
  state: number;
  /** Messages received and not released yet. */
  unreleased: number;
  /** Receives answered `ENOBUFS` because `maxUnreleased` messages were held. */
  refusedUnreleased: number;
  /** Shared memory the ring's messages hold now, in bytes (KiB-rounded). */
  heldBytes: number;
  /** The ring's byte bound (`maxBytes`, KiB-rounded); 0 when it has none. */
  maxBytes: number;
}

/** Default {@link ShmServerOptions.maxBytes}: 64 MiB. */
export const DEFAULT_RING_MAX_BYTES = 64 * 1024 * 1024;

/**
 * What `take` returns, internally only, for a message that refers to a region this thread has not
 * received yet: nothing was consumed. Never a code any caller sees.
 */
const REGION_PENDING = -1000;
/** What `takeSlot` returns, internally only, for a slot that held no message (`TAG_VOID`): look again. */
const SKIPPED = -1001;
/** Longest wait for a region another thread added before its message is dropped as undeliverable. */
const REGION_WAIT_MS = 5000;

/** Server side of `Transport.kShm`. */
export class ShmServer extends Server {
  /** The channel's ring. */
  readonly ring: Ring;
  private readonly memory: ShmMemory;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
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
  /** A view per ring slot of its last message's length, so copying a slot out allocates nothing in a steady stream. */
  private readonly slotViews: Uint8Array[] = [];
  /** The ring's bind generation this server holds; a later bind by another server ends it. */
  private readonly generation: number;
  private readonly stuckSlotMs: number;
  private stuckHead = -1;
  private stuckSince = 0;
  private readonly heartbeat: NodeJS.Timeout;
  /** True while `park` waits on the data bell. */
  private parked = false;
  /** Set by the deadline timer when the current park's deadline passed. */
  private deadlineHit = false;
  /** The deadline (`performance.now()` scale) of the current park; Infinity when none. */
  private parkDeadline = Infinity;
  /**
   * One timer for every park's deadline, armed for the earliest deadline it must catch and
   * re-armed only when it fires early or a park needs an earlier one: a stream of parks with
   * `timeoutMs` costs a timer every timeout period, not one per message.
   */
  private deadlineTimer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (`performance.now()` scale); Infinity when not armed. */
  private timerAt = Infinity;
  /** The caller's signal we listen to (kept between parks: the bridge passes the same one each time). */
  private watched: AbortSignal | null = null;
  private readonly interrupt = (): void => {
    this.ring.interruptConsumer();
  };
  private readonly onDeadline = (): void => {
    this.deadlineTimer = null;
    this.timerAt = Infinity;
    if (!this.parked || this.parkDeadline === Infinity) return;
    const left = this.parkDeadline - performance.now();
    if (left > 0) {
      this.armDeadline(left);
      return;
    }
    this.deadlineHit = true;
    this.ring.interruptConsumer();
  };
  /** Released messages ready for reuse. */
  private readonly pool: ShmIncoming[] = [];
  /**
   * Messages handed out and not released yet, which close releases; each knows its index
   * (`listed`), so removal is a swap with the last, with no hashing per message.
   */
  private readonly outstanding: ShmIncoming[] = [];
  private readonly maxUnreleased: number;
  private refusedUnreleased = 0;
  /** Told by each message when it is released: stop tracking it, keep it for reuse. */
  private readonly owner: IncomingOwner = {
    released: (msg) => {
      const list = this.outstanding;
      const i = msg.listed;
      const last = list.pop() as ShmIncoming;
      if (last !== msg) {
        list[i] = last;
        last.listed = i;
      }
      msg.listed = -1;
      if (this.pool.length < POOL_LIMIT) this.pool.push(msg);
    },
  };

  private constructor(name: string, memory: ShmMemory, ring: Ring, options: ShmServerOptions) {
    super(name, options);
    this.memory = memory;
    this.ring = ring;
    this.u8 = new Uint8Array(ring.buffer);
    this.dv = new DataView(ring.buffer);
    this.spinMs = Math.max(0, (options.spinUs ?? 20) / 1000);
    this.stuckSlotMs = options.stuckSlotMs ?? 2000;
    this.generation = ring.bind(threadId);
    this.heartbeatMs = options.heartbeatMs ?? 200;
    this.maxUnreleased = options.maxUnreleased ?? 4096;
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
    this.closeController.signal.addEventListener('abort', this.interrupt, { once: true });
  }

  /**
   * Proves the server alive; while parked, also the safety net of the park (which waits without
   * a timeout): a message or a claimed-but-unpublished slot seen here ends the park, so the loop
   * re-checks the ring (an abandoned slot is then re-checked every {@link STUCK_RECHECK_MS}).
   */
  private beat(): void {
    const ring = this.ring;
    ring.beat();
    if (this.parked && (ring.peek() >= 0 || ring.headClaimed())) ring.interruptConsumer();
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
    return {
      depth: ring.depth(),
      capacity: ring.capacity,
      state: ring.state,
      unreleased: this.outstanding.length,
      refusedUnreleased: this.refusedUnreleased,
      heldBytes: ring.heldBytes(),
      maxBytes: ring.maxKiB * 1024,
    };
  }

  protected receive(spec: WaitSpec): IncomingMessage | number | Promise<IncomingMessage | number> {
    if (this.outstanding.length >= this.maxUnreleased) return this.refuseUnreleased();
    const off = this.ring.peek();
    if (off >= 0) {
      this.idleSpins = 0;
      return this.taken(this.takeSlot(off), spec);
    }
    if (spec.deadline === 0) {
      if (--this.pollsToStuckCheck > 0) return EAGAIN;
      this.pollsToStuckCheck = POLLS_PER_STUCK_CHECK;
      if (!this.skipAbandonedSlot()) return EAGAIN;
      const next = this.ring.peek();
      return next >= 0 ? this.taken(this.takeSlot(next), spec) : EAGAIN;
    }
    if (!this.spunAlready) {
      const at = this.spin();
      if (at >= 0) return this.taken(this.takeSlot(at), spec);
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
    const got = this.takeSlot(at);
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
      const at = ring.peek();
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
    if (this.outstanding.length >= this.maxUnreleased) return this.refuseUnreleased();
    const ring = this.ring;
    let off = ring.peek();
    if (off < 0) off = this.spin();
    // The clock is read only once a park is needed (reading it allocates): the deadline then
    // counts from the first park, a spin's length after the call.
    let deadline = -1;
    let parkedAt = -1;
    for (;;) {
      if (off >= 0) {
        // Woken by a message soon after parking: a slightly longer spin would have caught it.
        if (parkedAt >= 0 && performance.now() - parkedAt < REWARM_SPINS * this.spinMs) this.idleSpins = 0;
        const r = this.takeSlot(off);
        if (r !== SKIPPED) return r === REGION_PENDING ? this.regionNotYet() : r;
        off = ring.peek();
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
      off = ring.peek();
      // Woken without a message (timeout, state change): a claimed slot may have been abandoned.
      if (off < 0 && this.skipAbandonedSlot()) off = ring.peek();
    }
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
    if (signal !== undefined && signal !== this.watched) this.watch(signal);
    this.deadlineHit = false;
    this.parkDeadline = spec.deadline;
    let woken = false;
    let parkedAt = 0;
    // A pending Atomics.waitAsync does not keep the event loop alive: hold the heartbeat timer
    // ref'd while parked, so a thread whose only work is waiting for a message stays up.
    this.heartbeat.ref();
    try {
      for (;;) {
        const off = this.ring.peek();
        if (off >= 0) {
          // Woken by a message soon after parking, within a few spin lengths: a slightly longer
          // spin would have caught it, so spin again next time (misses had switched it off). A
          // message that took longer would not have been caught by spinning: keep parking, and
          // keep the thread free for its other work (a bridge's main thread, for one).
          if (woken && performance.now() - parkedAt < REWARM_SPINS * this.spinMs) this.idleSpins = 0;
          return this.taken(this.takeSlot(off), spec);
        }
        if (this.closed) return ESHUTDOWN;
        // The channel was taken over by a newer server, or a watcher marked it dead: this server
        // no longer receives from it.
        if (this.ring.generation !== this.generation || this.ring.state !== RING_OPEN) return ECONNRESET;
        if (signal?.aborted) return ECANCELED;
        // Only after a wake that brought no message: before the first park the heartbeat watches
        // for an abandoned slot (it interrupts the park when it sees one).
        if (woken && this.skipAbandonedSlot()) continue;
        if (this.deadlineHit) return ETIMEDOUT;
        if (spec.deadline !== Infinity) {
          const left = remainingMs(spec);
          if (left === 0) return ETIMEDOUT;
          // Arm only when no armed timer fires by our deadline; a later one would miss it.
          if (this.timerAt > spec.deadline) this.armDeadline(left);
        }
        this.parked = true;
        if (!woken) parkedAt = performance.now();
        await this.ring.waitForData(this.stuckHead >= 0 ? STUCK_RECHECK_MS : Infinity);
        this.parked = false;
        woken = true;
      }
    } finally {
      this.parked = false;
      this.parkDeadline = Infinity;
      this.heartbeat.unref();
    }
  }

  private armDeadline(ms: number): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.timerAt = performance.now() + ms;
    this.deadlineTimer = setTimeout(this.onDeadline, ms);
    // The heartbeat keeps a parked thread alive; this timer must not keep an idle one up.
    this.deadlineTimer.unref();
  }

  /** Makes `signal`'s abort wake a park; replaces the signal watched before. */
  private watch(signal: AbortSignal): void {
    this.watched?.removeEventListener('abort', this.interrupt);
    this.watched = signal;
    signal.addEventListener('abort', this.interrupt, { once: true });
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
    const dv = this.dv;
    const orphan = dv.getUint32(at, true) === TAG_BLOCK && dv.getInt32(at + 4, true) === head ? makePointer(dv.getInt32(at + 8, true), dv.getInt32(at + 12, true), dv.getFloat64(at + 16, true)) : null;
    if (!this.ring.skipHead()) return false;
    if (orphan !== null) this.freeQuietly(orphan);
    return true;
  }

  /**
   * Consumes the slot at payload offset `off` and wraps its envelope; or, when the message refers
   * to a region this thread has not received yet, consumes nothing and returns `REGION_PENDING`.
   */
  private takeSlot(off: number): IncomingMessage | number {
    const ring = this.ring;
    const len = ring.lengthAt(off);
    const tag = len >= SLOT_PREFIX_BYTES && len <= ring.payloadBytes ? this.dv.getUint32(off, true) : 0;
    if (tag === TAG_BLOCK) return this.takeBlock(off);
    if (tag === TAG_VOID) {
      // A producer that could not get a block for its envelope: nothing was sent.
      consume(ring, this.dv, off);
      return SKIPPED;
    }
    if (tag !== TAG_INLINE) {
      consume(ring, this.dv, off);
      return LBM_MALFORMED;
    }
    const msg = this.pool.pop() ?? new ShmIncoming(this.memory, this.owner, ring.payloadBytes);
    // Copy out so the slot is free for producers while the caller still holds the message; the
    // whole payload in one memcpy from a view made once per slot.
    msg.copy.set(this.slotView(off, len));
    const env = msg.env;
    const ok = env.parse(msg.copyDv, SLOT_PREFIX_BYTES, len - SLOT_PREFIX_BYTES);
    if (ok && this.refersToPendingRegion(msg.copyDv, env)) {
      this.pool.push(msg);
      return REGION_PENDING;
    }
    consume(ring, this.dv, off);
    if (!ok) {
      this.pool.push(msg);
      return LBM_MALFORMED;
    }
    msg.refill(msg.copy, msg.copyDv, null);
    this.list(msg);
    return msg;
  }

  /**
   * The first `len` payload bytes of the slot whose payload starts at `off`, as a view kept per
   * slot while messages there keep that length (a stream's messages usually do).
   */
  private slotView(off: number, len: number): Uint8Array {
    const index = ((off - this.ring.base - RING_HEADER_BYTES) / this.ring.slotBytes) | 0;
    const v = this.slotViews[index];
    if (v !== undefined && v.byteLength === len) return v;
    return (this.slotViews[index] = new Uint8Array(this.ring.buffer, off, len));
  }

  private takeBlock(off: number): IncomingMessage | number {
    const dv = this.dv;
    const major = dv.getInt32(off + 8, true);
    const minor = dv.getInt32(off + 12, true);
    const at = dv.getFloat64(off + 16, true);
    const length = dv.getUint32(off + 24, true);
    const buffer = this.memory.regionBuffer({ major, minor });
    if (buffer === null && this.memory.regionPending?.(major, minor) === true) return REGION_PENDING;
    if (buffer === null || !Number.isSafeInteger(at) || at < 0 || at + length > buffer.byteLength) {
      consume(this.ring, dv, off);
      return LBM_MALFORMED;
    }
    const block: Pointer = makePointer(major, minor, at);
    const u8 = buffer === this.ring.buffer ? this.u8 : new Uint8Array(buffer);
    const bdv = buffer === this.ring.buffer ? this.dv : new DataView(buffer);
    const msg = this.pool.pop() ?? new ShmIncoming(this.memory, this.owner, this.ring.payloadBytes);
    const ok = msg.env.parse(bdv, at, length);
    if (ok && this.refersToPendingRegion(bdv, msg.env)) {
      this.pool.push(msg);
      return REGION_PENDING;
    }
    consume(this.ring, dv, off);
    if (!ok) {
      this.pool.push(msg);
      this.freeQuietly(block);
      return LBM_MALFORMED;
    }
    msg.refill(u8, bdv, block);
    this.list(msg);
    return msg;
  }

  private list(msg: ShmIncoming): void {
    msg.listed = this.outstanding.length;
    this.outstanding.push(msg);
  }


  /** True when a shared or moved entry of `env` points into a region that has not reached this thread yet. */
  private refersToPendingRegion(dv: DataView, env: EnvelopeView): boolean {
    const pending = this.memory.regionPending;
    if (pending === undefined || (env.sharedCount === 0 && env.movedCount === 0)) return false;
    for (let i = 0; i < env.sendCount; i++) {
      const kind = entryKind(dv, env, i);
      if (kind !== ENTRY_SHARED && kind !== ENTRY_MOVED) continue;
      const e = env.entryAt(i);
      if (pending.call(this.memory, dv.getInt32(e + 4, true), dv.getInt32(e + 8, true))) return true;
    }
    return false;
  }

  /**
   * The head message refers to a region another thread added and this thread has not received:
   * wait for it (the announcement is a task, so the wait also lets the event loop run), then
   * receive again. A region that never arrives within {@link REGION_WAIT_MS} makes the message
   * undeliverable: it is dropped as malformed rather than block the channel forever.
   */
  private async awaitRegion(spec: WaitSpec): Promise<IncomingMessage | number> {
    const budget = Math.min(remainingMs(spec), REGION_WAIT_MS);
    try {
      if (this.memory.sync === undefined) throw new Error('no way to learn new regions');
      await this.memory.sync(budget);
    } catch {
      if (budget < REGION_WAIT_MS) return ETIMEDOUT;
      consume(this.ring, this.dv, this.ring.headPayload());
      return LBM_MALFORMED;
    }
    return this.receive(spec);
  }

  /** A no-wait receive met a message for a region not here yet: ask for it, report nothing ready. */
  private regionNotYet(): number {
    void this.memory.sync?.(REGION_WAIT_MS).catch(() => {});
    return EAGAIN;
  }

  private freeQuietly(p: Pointer): void {
    try {
      this.memory.free(p);
    } catch {
      // A corrupted reference may name no block at all; the allocator refused it without harm.
    }
  }

  /** Drops every message still in the ring, freeing their blocks. */
  private drain(): void {
    for (let off = this.ring.peek(); off >= 0; off = this.ring.peek()) {
      const m = this.takeSlot(off);
      if (typeof m !== 'number') m.release();
      // Closing: a message for a region that never reached this thread is dropped unread.
      else if (m === REGION_PENDING) consume(this.ring, this.dv, off);
    }
  }

  /** A no-wait receive over shared memory never awaits. */
  protected override get receivesSynchronously(): boolean {
    return true;
  }

  protected async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.watched?.removeEventListener('abort', this.interrupt);
    this.watched = null;
    this.ring.release(this.generation);
    this.drain();
    // Messages received but never released (no recvBulks, in-place views kept): free their
    // blocks now; their views are invalid from here on.
    while (this.outstanding.length > 0) (this.outstanding[this.outstanding.length - 1] as ShmIncoming).release();
  }

  /**
   * Marks the ring dead (its thread is gone) and reclaims its queued messages. Called by
   * {@link watchWorker} from another thread.
   *
   * @internal
   */
  static reap(memory: ShmMemory, ring: Ring): void {
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
      consume(ring, dv, off);
    }
  }
}

/**
 * Consumes the published head slot at payload `off`, first giving back the charge its producer
 * recorded there: before the slot, so advance()'s wake-up of parked producers covers the bytes.
 */
function consume(ring: Ring, dv: DataView, off: number): void {
  if (ring.maxKiB !== 0) ring.discharge(slotCharge(dv, off));
  ring.advance();
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
