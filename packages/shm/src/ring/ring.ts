/**
 * A bounded multi-producer, single-consumer ring of fixed-size slots inside a SharedArrayBuffer
 * (Vyukov's sequence-numbered queue), with doorbells for parking. All of its state lives in the
 * buffer, so any thread that has the buffer and the offset can attach to it.
 *
 * Byte layout, relative to the ring's base offset (8-byte aligned). Every field is an Int32.
 * Fields written by different parties sit on different 64-byte lines, so a consumer polling an
 * empty ring reads only its head slot, and a producer's CAS on the tail never invalidates the
 * line the consumer writes on every read.
 *
 * | offset | size | field          | who writes it                                      |
 * |-------:|-----:|----------------|----------------------------------------------------|
 * |      0 |    4 | magic          | creator (`RING_MAGIC`)                             |
 * |      4 |    4 | capacity       | creator (slots, a power of two)                    |
 * |      8 |    4 | slotBytes      | creator (multiple of 8, at least 16)               |
 * |     12 |    4 | state          | consumer or watcher (`RING_OPEN`/`CLOSED`/`DEAD`)  |
 * |     16 |    4 | heartbeat      | consumer (a counter it bumps while alive)          |
 * |     20 |    4 | ownerThread    | consumer (`threadId` of the owning thread)         |
 * |     24 |    4 | generation     | consumer (bumped by every server that binds)       |
 * |     28 |    4 | maxKiB         | creator (byte bound in KiB; 0: none)               |
 * |     32 |    4 | layoutVersion  | creator (`RING_LAYOUT_VERSION`; 0 in builds before it) |
 * |  36-63 |   28 | reserved       | -                                                  |
 * |     64 |    4 | tail           | producers (CAS: claims a slot)                     |
 * |     68 |    4 | heldKiB        | producers add after publishing, consumer subtracts |
 * | 72-127 |   56 | reserved       | -                                                  |
 * |    128 |    4 | head           | consumer (next slot to read)                       |
 * |132-191 |   60 | reserved       | -                                                  |
 * |    192 |    4 | consumerParked | consumer sets (parking); the producer that rings clears it |
 * |    196 |    4 | dataBell       | producers (bumped to wake a parked consumer)       |
 * |200-255 |   56 | reserved       | -                                                  |
 * |    256 |    4 | producersParked| producers set (parking); the consumer that rings clears it |
 * |    260 |    4 | spaceBell      | consumer (bumped to wake parked producers)         |
 * |264-319 |   56 | reserved       | -                                                  |
 * |    320 |    … | slots          | capacity × slotBytes                               |
 *
 * Slot layout: `i32 seq` (publication sequence), `i32 length` (payload bytes), payload.
 * A slot at position `p` is free for the producer that claims `p` when `seq === p`, and
 * holds a published message for the consumer when `seq === p + 1`; after reading, the consumer
 * sets `seq = p + capacity`, freeing it for the next lap. Positions are u32 counters compared
 * with wrap-around arithmetic.
 *
 * Byte bound: besides its slots, a ring bounds the shared memory its messages hold (what the
 * transport charges for a message: see `heldKiB` in envelope.ts), counted in KiB so an Int32
 * reaches far beyond any bound (1 TiB at most). A producer claims a slot only while
 * `heldKiB < maxKiB`, so the ring holds at most `maxKiB` plus one message per producer racing
 * past the check. The producer records a message's charge in its slot, publishes, then adds it;
 * the consumer subtracts the recorded charge before consuming the slot. So the counter may dip
 * below the truth for a moment, never rise above it, and a producer that dies between publish
 * and add leaves the bound looser, never stuck. A floor keeps corrupt charges from wrapping it.
 */
import { LightbeamError } from '@lightbeam/core';

/** "LBRG" little-endian: marks an initialised ring. */
export const RING_MAGIC = 0x4752424c;
/**
 * Version of the shared layout a ring and its messages follow: this header, the slot prefix and
 * the envelope. Every thread of a domain must read the same layout, and two builds of this
 * package in one process (two copies in node_modules) may not: attaching to a ring of another
 * version throws `ERR_LBM_LAYOUT_MISMATCH` naming both, instead of misreading its messages.
 * Raise it with any change to those layouts. 2: the byte bound (`maxKiB`, `heldKiB`, slot charges).
 * 3: the 16-byte envelope header (no stored length, no sender thread).
 */
export const RING_LAYOUT_VERSION = 3;
/** Bytes of the ring header before the first slot. */
export const RING_HEADER_BYTES = 320;
/** Bytes of a slot header (`seq`, `length`). */
export const SLOT_HEADER_BYTES = 8;
/** The consumer accepts messages. */
export const RING_OPEN = 0;
/** The consumer closed the ring; producers get `EAGAIN`, or wait (with a timeout) for a server to bind it again. */
export const RING_CLOSED = 1;
/** The consumer's thread died; producers get `ECONNRESET`. */
export const RING_DEAD = 2;

const F_MAGIC = 0;
const F_CAPACITY = 1;
const F_SLOT_BYTES = 2;
const F_STATE = 3;
const F_HEARTBEAT = 4;
const F_OWNER = 5;
const F_GENERATION = 6;
const F_MAX_KIB = 7;
const F_LAYOUT = 8;
const F_TAIL = 16;
const F_HELD_KIB = 17;
/** Lowest value of `heldKiB`: far below any real dip (charges not yet added), far above wrapping. */
const HELD_FLOOR_KIB = -0x3fffffff;
/** Largest byte bound in KiB (1 TiB), so the counter stays far from wrapping upwards too. */
const MAX_BOUND_KIB = 0x40000000;
const F_HEAD = 32;
const F_CONSUMER_PARKED = 48;
const F_DATA_BELL = 49;
const F_PRODUCERS_PARKED = 64;
const F_SPACE_BELL = 65;

/** A view of one ring; cheap to create in any thread from `(buffer, offset)`. */
export class Ring {
  /** The shared buffer holding the ring. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the ring header in `buffer`. */
  readonly base: number;
  /** Number of slots. */
  readonly capacity: number;
  /** Bytes per slot, header included. */
  readonly slotBytes: number;
  /** Payload bytes a slot can hold. */
  readonly payloadBytes: number;
  /** The byte bound in KiB (0: none); a creator constant. */
  readonly maxKiB: number;
  /** Int32 view of the header (index = field). */
  private readonly hdr: Int32Array;
  /** Int32 view over the whole buffer, for slot sequence numbers. */
  private readonly i32: Int32Array;
  private readonly mask: number;
  private readonly slotsBase: number;

  private constructor(buffer: SharedArrayBuffer, base: number) {
    this.buffer = buffer;
    this.base = base;
    this.hdr = new Int32Array(buffer, base, RING_HEADER_BYTES / 4);
    this.i32 = new Int32Array(buffer);
    // Atomics.load on creator-written constants: pairs with the creator's Atomics.store of magic last.
    this.capacity = Atomics.load(this.hdr, F_CAPACITY);
    this.slotBytes = Atomics.load(this.hdr, F_SLOT_BYTES);
    this.payloadBytes = this.slotBytes - SLOT_HEADER_BYTES;
    this.maxKiB = Atomics.load(this.hdr, F_MAX_KIB);
    this.mask = this.capacity - 1;
    this.slotsBase = base + RING_HEADER_BYTES;
  }

  /**
   * Bytes a ring of this shape occupies.
   *
   * @param capacity - slots, a power of two
   * @param slotBytes - bytes per slot, a multiple of 8, at least 16
   */
  static bytesFor(capacity: number, slotBytes: number): number {
    return RING_HEADER_BYTES + capacity * slotBytes;
  }

  /**
   * Initialises a ring at `base` and returns a view of it. The region must be zeroed or unused.
   *
   * @param buffer - shared buffer
   * @param base - 8-byte aligned offset with `bytesFor(capacity, slotBytes)` bytes available
   * @param capacity - slots, a power of two from 2 to 2^20
   * @param slotBytes - bytes per slot, a multiple of 8 from 16 to 64 KiB
   * @param maxBytes - the byte bound (rounded up to KiB); 0 for none
   */
  static init(buffer: SharedArrayBuffer, base: number, capacity: number, slotBytes: number, maxBytes = 0): Ring {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 20 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two in [2, 2^20], got ${capacity}`);
    }
    if (!Number.isInteger(slotBytes) || slotBytes < 16 || slotBytes > 65536 || slotBytes % 8 !== 0) {
      throw new RangeError(`ring slotBytes must be a multiple of 8 in [16, 65536], got ${slotBytes}`);
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0 || Math.ceil(maxBytes / 1024) > MAX_BOUND_KIB) {
      throw new RangeError(`ring maxBytes must be an integer in [0, 1 TiB], got ${maxBytes}`);
    }
    if (base % 8 !== 0 || base + Ring.bytesFor(capacity, slotBytes) > buffer.byteLength) {
      throw new RangeError(`ring at offset ${base} does not fit the ${buffer.byteLength}-byte buffer`);
    }
    const hdr = new Int32Array(buffer, base, RING_HEADER_BYTES / 4);
    const i32 = new Int32Array(buffer);
    hdr.fill(0);
    hdr[F_CAPACITY] = capacity;
    hdr[F_SLOT_BYTES] = slotBytes;
    hdr[F_MAX_KIB] = Math.ceil(maxBytes / 1024);
    hdr[F_LAYOUT] = RING_LAYOUT_VERSION;
    for (let i = 0; i < capacity; i++) i32[(base + RING_HEADER_BYTES + i * slotBytes) >> 2] = i;
    // Store magic last: a thread that sees it sees the initialised header and slot sequences.
    Atomics.store(hdr, F_MAGIC, RING_MAGIC);
    return new Ring(buffer, base);
  }

  /**
   * Attaches to a ring initialised by any thread.
   *
   * @param buffer - shared buffer
   * @param base - the ring's offset
   * @throws Error when no valid ring header is found there
   */
  static attach(buffer: SharedArrayBuffer, base: number): Ring {
    if (base % 8 !== 0 || base + RING_HEADER_BYTES > buffer.byteLength) throw new RangeError(`no ring fits at offset ${base}`);
    const hdr = new Int32Array(buffer, base, RING_HEADER_BYTES / 4);
    // Acquire: pairs with init's release store of magic.
    if (Atomics.load(hdr, F_MAGIC) !== RING_MAGIC) throw new Error(`no ring at offset ${base}`);
    const layout = hdr[F_LAYOUT];
    if (layout !== RING_LAYOUT_VERSION) {
      throw new LightbeamError(
        'ERR_LBM_LAYOUT_MISMATCH',
        `the ring at offset ${base} was laid out by a build of @lightbeam/shm with ring layout version ${layout}${layout === 0 ? ' (a build before layout versions)' : ''}; this build reads version ${RING_LAYOUT_VERSION}: every thread of a shared-memory domain must load the same @lightbeam/shm`,
      );
    }
    const cap = hdr[F_CAPACITY];
    const sb = hdr[F_SLOT_BYTES];
    if (cap < 2 || (cap & (cap - 1)) !== 0 || sb < 16 || sb % 8 !== 0 || base + Ring.bytesFor(cap, sb) > buffer.byteLength) {
      throw new Error(`corrupt ring header at offset ${base}`);
    }
    return new Ring(buffer, base);
  }

  // ---- producer side ------------------------------------------------------------------------

  /**
   * Claims the next free slot for writing.
   *
   * @returns the byte offset of the slot's payload in `buffer`, or -1 when the ring is full.
   *   The claimed position is in {@link Ring.claimed}; publish it with {@link Ring.publish}.
   */
  claim(): number {
    const i32 = this.i32;
    const hdr = this.hdr;
    for (;;) {
      // Acquire the tail; a stale value only costs a retry below.
      const pos = Atomics.load(hdr, F_TAIL);
      const slot = this.slotsBase + (pos & this.mask) * this.slotBytes;
      // Acquire the slot's sequence: `seq === pos` means the consumer released it for this lap.
      const seq = Atomics.load(i32, slot >> 2);
      const dif = (seq - pos) | 0;
      if (dif === 0) {
        // Claim position `pos`; losing the race means another producer took it: retry.
        if (Atomics.compareExchange(hdr, F_TAIL, pos, (pos + 1) | 0) === pos) {
          this.claimed = pos;
          return slot + SLOT_HEADER_BYTES;
        }
      } else if (dif < 0) {
        return -1;
      }
    }
  }

  /** The position of the last successful {@link Ring.claim} by this view. */
  claimed = 0;

  /**
   * Publishes the claimed slot `pos` with `length` payload bytes and rings the consumer's
   * doorbell if it is parked.
   *
   * @param pos - the position from {@link Ring.claimed}
   * @param length - payload bytes written
   * @returns false when the consumer had skipped the slot ({@link Ring.skipHead}) because this
   *   producer stalled between claim and publish: the message is not delivered
   */
  publish(pos: number, length: number): boolean {
    const slot = this.slotsBase + (pos & this.mask) * this.slotBytes;
    this.i32[(slot >> 2) + 1] = length;
    // Release: the payload and length written above become visible before the sequence says so.
    // An exchange, not a store: a slot the consumer skipped may already be the next lap's, and a
    // plain store would hand that lap's producer a sequence that says "published".
    if (Atomics.compareExchange(this.i32, slot >> 2, pos, (pos + 1) | 0) !== pos) return false;
    this.wake();
    return true;
  }

  /** Rings the consumer's doorbell if it is parked (one notify for any number of publishes). */
  wake(): void {
    const hdr = this.hdr;
    // Acquire the parked flag after our publish: if the consumer set it before we published, it
    // re-checks the ring after setting it, so either it sees our message or we see its flag. The
    // plain load keeps the common case (consumer awake) to a read of a line nobody writes then;
    // the exchange lets exactly one of several racing producers ring.
    if (Atomics.load(hdr, F_CONSUMER_PARKED) !== 0 && Atomics.exchange(hdr, F_CONSUMER_PARKED, 0) !== 0) {
      // Bump before notify: a consumer between its flag store and its wait sees the new value.
      Atomics.add(hdr, F_DATA_BELL, 1);
      Atomics.notify(hdr, F_DATA_BELL);
    }
  }

  // ---- consumer side ------------------------------------------------------------------------

  /**
   * The next published message, without consuming it.
   *
   * @returns the byte offset of its payload in `buffer`, or -1 when the ring is empty
   */
  peek(): number {
    const pos = this.hdr[F_HEAD];
    const slot = this.slotsBase + (pos & this.mask) * this.slotBytes;
    // Acquire: pairs with publish's release store; payload reads below see the producer's writes.
    const seq = Atomics.load(this.i32, slot >> 2);
    return seq === ((pos + 1) | 0) ? slot + SLOT_HEADER_BYTES : -1;
  }

  /** Payload length of the slot whose payload starts at `payload` (from {@link Ring.peek}). */
  lengthAt(payload: number): number {
    return this.i32[(payload - SLOT_HEADER_BYTES + 4) >> 2];
  }

  /** Consumes the message returned by {@link Ring.peek}, freeing its slot for producers. */
  advance(): void {
    const hdr = this.hdr;
    const pos = hdr[F_HEAD];
    const slot = this.slotsBase + (pos & this.mask) * this.slotBytes;
    // Release the slot for the producer one lap ahead; payload reads are done before this.
    Atomics.store(this.i32, slot >> 2, (pos + this.capacity) | 0);
    // Only the consumer writes head, and nobody waits on it: a plain store (aligned Int32 stores
    // never tear, so depth() in other threads reads a whole value). The fence the slot release
    // above makes already orders it before the parked-producers load below.
    hdr[F_HEAD] = (pos + 1) | 0;
    // Wake producers waiting for room, once per batch of parkers rather than once per read: the
    // exchange clears the flag, so reads after it do not notify again until a producer re-parks.
    // The plain load first keeps the common case to a read of a line only parking producers write.
    // Ordering: our slot release above comes before the load; a producer sets the flag before
    // re-checking for room, so either we see its flag or it sees the free slot.
    this.wakeProducers();
  }

  /**
   * Rings the producers' doorbell if any is parked (the consumer, after it freed room: a slot,
   * or bytes of the bound). The plain load first keeps the common case to a read of a line only
   * parking producers write; the exchange clears the flag, so one wake-up serves a batch of parkers.
   */
  wakeProducers(): void {
    const hdr = this.hdr;
    if (Atomics.load(hdr, F_PRODUCERS_PARKED) !== 0 && Atomics.exchange(hdr, F_PRODUCERS_PARKED, 0) !== 0) {
      Atomics.add(hdr, F_SPACE_BELL, 1);
      Atomics.notify(hdr, F_SPACE_BELL);
    }
  }

  /** True when a producer announced it parks for room (a racy hint for the consumer). */
  producersParked(): boolean {
    // Acquire: pairs with the parking producer's store of the flag.
    return Atomics.load(this.hdr, F_PRODUCERS_PARKED) !== 0;
  }

  /**
   * True when the next slot was claimed by a producer but not (yet) published: the ring is not
   * empty although `peek()` finds nothing.
   */
  headClaimed(): boolean {
    return this.peek() === -1 && this.depth() > 0;
  }

  /**
   * Skips the claimed-but-unpublished slot at the head, left by a producer thread that was
   * terminated between `claim` and `publish`. Call only after it stayed unpublished far longer
   * than any live producer takes (the claim-to-publish path is synchronous).
   *
   * @returns true when the slot was skipped; false when it got published meanwhile
   */
  skipHead(): boolean {
    const hdr = this.hdr;
    const pos = hdr[F_HEAD];
    const slot = this.slotsBase + (pos & this.mask) * this.slotBytes;
    // Free the slot for the next lap only if it is still unpublished; a publish that won the race
    // stays readable.
    if (Atomics.compareExchange(this.i32, slot >> 2, pos, (pos + this.capacity) | 0) !== pos) return false;
    Atomics.store(hdr, F_HEAD, (pos + 1) | 0);
    if (Atomics.load(hdr, F_PRODUCERS_PARKED) !== 0) {
      Atomics.add(hdr, F_SPACE_BELL, 1);
      Atomics.notify(hdr, F_SPACE_BELL);
    }
    return true;
  }

  /** Byte offset of the payload of the slot at the consumer's position, published or not. */
  headPayload(): number {
    return this.slotsBase + (this.hdr[F_HEAD] & this.mask) * this.slotBytes + SLOT_HEADER_BYTES;
  }

  /** The consumer's position (next slot to read). */
  headPosition(): number {
    return Atomics.load(this.hdr, F_HEAD);
  }

  /** Messages published or claimed and not yet consumed. */
  depth(): number {
    // Both loads are racy snapshots; the difference is exact when the ring is quiet.
    return (Atomics.load(this.hdr, F_TAIL) - Atomics.load(this.hdr, F_HEAD)) | 0;
  }

  // ---- parking ------------------------------------------------------------------------------

  /**
   * Parks the consumer until a producer publishes, the ring changes state, or `timeoutMs` passes.
   * Call only after {@link Ring.peek} returned -1.
   *
   * @returns a promise that settles when woken or timed out (check the ring again either way)
   */
  waitForData(timeoutMs: number): Promise<unknown> {
    const hdr = this.hdr;
    const bell = this.announcePark();
    if (bell === null) return Promise.resolve('ok');
    const r = Atomics.waitAsync(hdr, F_DATA_BELL, bell, timeoutMs);
    if (!r.async) {
      this.endPark();
      return Promise.resolve(r.value);
    }
    return r.value.then((v) => {
      this.endPark();
      return v;
    });
  }

  /**
   * Blocks the calling thread until a producer publishes, the ring changes state, or `timeoutMs`
   * passes. Call only after {@link Ring.peek} returned -1, and only where blocking the thread is
   * acceptable (a worker's receive loop).
   *
   * @returns `'ok'`, `'not-equal'` or `'timed-out'` (check the ring again either way)
   */
  waitForDataSync(timeoutMs: number): string {
    const bell = this.announcePark();
    if (bell === null) return 'ok';
    const r = Atomics.wait(this.hdr, F_DATA_BELL, bell, timeoutMs);
    this.endPark();
    return r;
  }

  /**
   * Announces that the consumer parks; returns the bell value to wait on, or `null` when a message
   * arrived meanwhile (then nothing is announced).
   */
  private announcePark(): number | null {
    const hdr = this.hdr;
    // Read the bell before announcing we park, so a publish after our peek changes it.
    const bell = Atomics.load(hdr, F_DATA_BELL);
    // Announce parking; producers that publish after this see the flag and ring the bell.
    Atomics.store(hdr, F_CONSUMER_PARKED, 1);
    // Only a message ends the wait at once: a state change wakes us through interruptConsumer,
    // and ending at once on a ring that is not open would let a caller loop without ever yielding.
    if (this.peek() !== -1) {
      this.endPark();
      return null;
    }
    return bell;
  }

  private endPark(): void {
    // Parking is over: producers may stop ringing (one that rang already cleared the flag).
    if (Atomics.load(this.hdr, F_CONSUMER_PARKED) !== 0) Atomics.store(this.hdr, F_CONSUMER_PARKED, 0);
  }

  /** Wakes a parked consumer without publishing (close, state change). */
  interruptConsumer(): void {
    // Bump unconditionally: the consumer may be between its flag store and its wait.
    Atomics.add(this.hdr, F_DATA_BELL, 1);
    Atomics.notify(this.hdr, F_DATA_BELL);
  }

  /**
   * Parks a producer until the consumer frees a slot, the state changes, or `timeoutMs` passes.
   *
   * @returns a promise that settles when woken or timed out (claim again either way)
   */
  waitForSpace(timeoutMs: number): Promise<unknown> {
    const hdr = this.hdr;
    const bell = Atomics.load(hdr, F_SPACE_BELL);
    // Flag ourselves before re-checking, so the consumer's next read rings the bell. The consumer
    // clears the flag when it rings; a producer that did not need to wait leaves it set, which
    // costs at most one spurious notify.
    Atomics.store(hdr, F_PRODUCERS_PARKED, 1);
    // A closed ring (no server bound) is waited on too: a server that binds it again sets the
    // state to open and rings this bell. Only a dead ring, or room in an open one, ends it at once.
    const state = Atomics.load(hdr, F_STATE);
    if (state === RING_DEAD || (state === RING_OPEN && this.hasSpace())) return Promise.resolve('ok');
    const r = Atomics.waitAsync(hdr, F_SPACE_BELL, bell, timeoutMs);
    return r.async ? r.value : Promise.resolve(r.value);
  }

  /** Wakes every parked producer without freeing a slot (close, state change). */
  interruptProducers(): void {
    Atomics.add(this.hdr, F_SPACE_BELL, 1);
    Atomics.notify(this.hdr, F_SPACE_BELL);
  }

  /** True when the next claim would find a free slot within the byte bound (a racy hint). */
  hasSpace(): boolean {
    if (this.overBudget()) return false;
    const pos = Atomics.load(this.hdr, F_TAIL);
    const slot = this.slotsBase + (pos & this.mask) * this.slotBytes;
    return Atomics.load(this.i32, slot >> 2) === pos;
  }

  // ---- byte bound ---------------------------------------------------------------------------

  /** True when the ring holds its byte bound or more: producers must not claim (a racy hint). */
  overBudget(): boolean {
    // Acquire the consumer's latest subtraction; a stale value only delays or admits one message.
    return this.maxKiB !== 0 && Atomics.load(this.hdr, F_HELD_KIB) >= this.maxKiB;
  }

  /**
   * Adds a published message's charge (producer, right after {@link Ring.publish}).
   *
   * @param kib - what the message holds, from `heldKiB`; 0 costs nothing
   */
  charge(kib: number): void {
    // Atomic add: producers of several threads race on the counter.
    if (kib !== 0) Atomics.add(this.hdr, F_HELD_KIB, kib);
  }

  /**
   * Subtracts a message's charge (consumer, before {@link Ring.advance}, whose wake-up of parked
   * producers then also tells them about the room in bytes).
   *
   * @param kib - the same charge the producer added
   */
  discharge(kib: number): void {
    if (kib === 0) return;
    // Atomic sub: producers add concurrently. A charge is below 2^30 and the counter above the
    // floor, so the sub itself cannot wrap; one that passed the floor (only a corrupt charge
    // does) is undone, so such charges never pile up into a wrap to a huge count.
    if (Atomics.sub(this.hdr, F_HELD_KIB, kib) - kib < HELD_FLOOR_KIB) Atomics.add(this.hdr, F_HELD_KIB, kib);
  }

  /** Shared memory the ring's messages hold now, in bytes (a KiB-rounded snapshot). */
  heldBytes(): number {
    return Math.max(0, Atomics.load(this.hdr, F_HELD_KIB)) * 1024;
  }

  // ---- state and liveness -------------------------------------------------------------------

  /** `RING_OPEN`, `RING_CLOSED` or `RING_DEAD`. */
  get state(): number {
    return Atomics.load(this.hdr, F_STATE);
  }

  /** Sets the state and wakes everyone parked on the ring so they see it. */
  setState(state: number): void {
    // Publish the new state before waking, so woken threads read it.
    Atomics.store(this.hdr, F_STATE, state);
    this.interruptConsumer();
    this.interruptProducers();
  }

  /**
   * Makes the calling thread's new server the ring's consumer: records its thread, bumps the
   * generation and opens the ring.
   *
   * @param threadId - the server's thread
   * @returns the generation this server holds; see {@link Ring.release}
   */
  bind(threadId: number): number {
    // The generation first: a server that held the ring before sees it change and stops.
    const generation = (Atomics.add(this.hdr, F_GENERATION, 1) + 1) | 0;
    Atomics.store(this.hdr, F_OWNER, threadId);
    this.setState(RING_OPEN);
    return generation;
  }

  /** The generation of the server bound last. */
  get generation(): number {
    return Atomics.load(this.hdr, F_GENERATION);
  }

  /**
   * Closes the ring on behalf of the server of `generation`, unless a later server bound it
   * meanwhile (whose ring must stay open).
   *
   * @returns true when the ring was closed
   */
  release(generation: number): boolean {
    if (Atomics.load(this.hdr, F_GENERATION) !== generation || Atomics.load(this.hdr, F_STATE) !== RING_OPEN) return false;
    this.setState(RING_CLOSED);
    return true;
  }

  /** Records the consumer's thread id (for watchers that learn of thread exits). */
  setOwner(threadId: number): void {
    Atomics.store(this.hdr, F_OWNER, threadId);
  }

  /** The consumer's thread id. */
  get owner(): number {
    return Atomics.load(this.hdr, F_OWNER);
  }

  /** Bumps the consumer's heartbeat (called on a timer while the consumer lives). */
  beat(): void {
    Atomics.add(this.hdr, F_HEARTBEAT, 1);
  }

  /** The consumer's heartbeat counter; a value that stops changing means a stalled or dead consumer. */
  get heartbeat(): number {
    return Atomics.load(this.hdr, F_HEARTBEAT);
  }
}
