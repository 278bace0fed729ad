/**
 * The channel directory: a table of named channels inside shared memory, so a server in one
 * thread and clients in any attached thread find the same ring by name.
 *
 * Byte layout, relative to the directory's base offset (8-byte aligned):
 *
 * | offset | size | field      | who writes it                                          |
 * |-------:|-----:|------------|--------------------------------------------------------|
 * |      0 |    4 | magic      | creator (`DIRECTORY_MAGIC`)                            |
 * |      4 |    4 | capacity   | creator (number of entries)                            |
 * |      8 |    4 | bell       | any thread that publishes an entry (then notifies)     |
 * |     12 |    4 | lock       | a thread creating an entry (`threadId + 1` while held) |
 * |  16-63 |   48 | reserved   | -                                                      |
 * |     64 | 128n | entries    | see below                                              |
 *
 * Entry (128 bytes): `i32 state` (`ENTRY_FREE`/`ENTRY_READY`), `u32 nameBytes`,
 * `i32 ringMajor`, `i32 ringMinor`, `f64 ringOff`, 8 reserved, then the name in UTF-8
 * (at most `MAX_CHANNEL_NAME_BYTES`). An entry is written under the lock and published by the
 * release store of `state`; once ready it never changes (a re-bound channel reuses its ring).
 */
import type { Pointer } from '@lightbeam/core';
import { makePointer } from '@lightbeam/core';

/** "LBDR" little-endian. */
export const DIRECTORY_MAGIC = 0x5244424c;
/** Bytes of the directory header. */
export const DIRECTORY_HEADER_BYTES = 64;
/** Bytes of one entry. */
export const DIRECTORY_ENTRY_BYTES = 128;
/** Longest channel name, in UTF-8 bytes. */
export const MAX_CHANNEL_NAME_BYTES = 96;
/** Locks held longer than this are presumed abandoned by a dead thread and taken over. */
const LOCK_STALE_MS = 1000;

const F_MAGIC = 0;
const F_CAPACITY = 1;
const F_BELL = 2;
const F_LOCK = 3;
const ENTRY_FREE = 0;
const ENTRY_READY = 1;

const encoder = new TextEncoder();

/** What {@link ChannelDirectory.findOrInsert} found or made. */
export interface ChannelEntry {
  /** The channel's ring. */
  ring: Pointer;
  /** True when this call created the channel. */
  created: boolean;
}

/** A view of the directory; cheap to create in any thread from `(buffer, base)`. */
export class ChannelDirectory {
  /** Number of entries. */
  readonly capacity: number;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly hdr: Int32Array;

  private constructor(
    /** The shared buffer holding the directory. */
    readonly buffer: SharedArrayBuffer,
    /** Byte offset of the directory header in `buffer`. */
    readonly base: number,
  ) {
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
    this.hdr = new Int32Array(buffer, base, DIRECTORY_HEADER_BYTES / 4);
    this.capacity = Atomics.load(this.hdr, F_CAPACITY);
  }

  /** Bytes a directory of `capacity` entries occupies. */
  static bytesFor(capacity: number): number {
    return DIRECTORY_HEADER_BYTES + capacity * DIRECTORY_ENTRY_BYTES;
  }

  /**
   * Initialises a directory (the region must be zeroed) and returns a view.
   *
   * @param buffer - shared buffer
   * @param base - 8-byte aligned offset with `bytesFor(capacity)` bytes
   * @param capacity - most channels
   */
  static init(buffer: SharedArrayBuffer, base: number, capacity: number): ChannelDirectory {
    const hdr = new Int32Array(buffer, base, DIRECTORY_HEADER_BYTES / 4);
    new Uint8Array(buffer, base, ChannelDirectory.bytesFor(capacity)).fill(0);
    hdr[F_CAPACITY] = capacity;
    // Release: a thread that sees the magic sees the zeroed table and the capacity.
    Atomics.store(hdr, F_MAGIC, DIRECTORY_MAGIC);
    return new ChannelDirectory(buffer, base);
  }

  /**
   * Attaches to a directory initialised by any thread.
   *
   * @throws Error when there is no directory at `base`
   */
  static attach(buffer: SharedArrayBuffer, base: number): ChannelDirectory {
    const hdr = new Int32Array(buffer, base, DIRECTORY_HEADER_BYTES / 4);
    // Acquire: pairs with init's release store.
    if (Atomics.load(hdr, F_MAGIC) !== DIRECTORY_MAGIC) throw new Error(`no channel directory at offset ${base}`);
    const dir = new ChannelDirectory(buffer, base);
    if (dir.capacity < 1 || base + ChannelDirectory.bytesFor(dir.capacity) > buffer.byteLength) {
      throw new Error(`corrupt channel directory at offset ${base}`);
    }
    return dir;
  }

  /**
   * Encodes and checks a channel name.
   *
   * @throws RangeError for an empty name or one longer than {@link MAX_CHANNEL_NAME_BYTES}
   */
  static encodeName(name: string): Uint8Array {
    const bytes = encoder.encode(name);
    if (bytes.byteLength === 0 || bytes.byteLength > MAX_CHANNEL_NAME_BYTES) {
      throw new RangeError(`channel name must be 1 to ${MAX_CHANNEL_NAME_BYTES} UTF-8 bytes, got ${bytes.byteLength}: ${JSON.stringify(name)}`);
    }
    return bytes;
  }

  /**
   * The ring pointer of channel `name`, or `null` when no server ever bound it.
   *
   * @param name - encoded with {@link ChannelDirectory.encodeName}
   */
  lookup(name: Uint8Array): Pointer | null {
    for (let i = 0; i < this.capacity; i++) {
      const e = this.entry(i);
      // Acquire: pairs with the release store of state in `insert`; fields read below are whole.
      if (Atomics.load(this.i32, e >> 2) !== ENTRY_READY) continue;
      if (this.nameEquals(e, name)) return this.ringOf(e);
    }
    return null;
  }

  /**
   * Finds channel `name`, or creates it with the ring that `makeRing` places in shared memory.
   * Creation runs under the directory lock, so two threads binding the same name at once end up
   * with one entry.
   *
   * @param name - encoded name
   * @param makeRing - allocates and initialises a ring; returns its pointer
   * @returns the ring pointer and whether this call created it
   * @throws RangeError when the directory is full
   */
  findOrInsert(name: Uint8Array, makeRing: () => Pointer): ChannelEntry {
    this.lock();
    try {
      const existing = this.lookup(name);
      if (existing !== null) return { ring: existing, created: false };
      for (let i = 0; i < this.capacity; i++) {
        const e = this.entry(i);
        if (Atomics.load(this.i32, e >> 2) !== ENTRY_FREE) continue;
        const ring = makeRing();
        this.dv.setUint32(e + 4, name.byteLength, true);
        this.dv.setInt32(e + 8, ring.allocId.major, true);
        this.dv.setInt32(e + 12, ring.allocId.minor, true);
        this.dv.setFloat64(e + 16, ring.off, true);
        this.u8.set(name, e + 32);
        // Release: readers that see READY see the name and ring written above.
        Atomics.store(this.i32, e >> 2, ENTRY_READY);
        // Wake clients waiting for a channel to appear.
        Atomics.add(this.hdr, F_BELL, 1);
        Atomics.notify(this.hdr, F_BELL);
        return { ring, created: true };
      }
      throw new RangeError(`channel directory is full (${this.capacity} channels)`);
    } finally {
      this.unlock();
    }
  }

  /** Ring pointers of every channel (for watchers that mark a dead thread's rings). */
  rings(): Pointer[] {
    const out: Pointer[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.entry(i);
      // Acquire: pairs with the release store of state in `findOrInsert`.
      if (Atomics.load(this.i32, e >> 2) === ENTRY_READY) out.push(this.ringOf(e));
    }
    return out;
  }

  /** Names of every channel (for diagnostics). */
  names(): string[] {
    const out: string[] = [];
    const dec = new TextDecoder();
    for (let i = 0; i < this.capacity; i++) {
      const e = this.entry(i);
      if (Atomics.load(this.i32, e >> 2) !== ENTRY_READY) continue;
      const n = this.dv.getUint32(e + 4, true);
      out.push(dec.decode(this.u8.slice(e + 32, e + 32 + n)));
    }
    return out;
  }

  /**
   * Waits until a channel is added or `timeoutMs` passes (then look up again).
   *
   * @param timeoutMs - longest wait
   */
  waitForChange(timeoutMs: number): Promise<unknown> {
    const bell = Atomics.load(this.hdr, F_BELL);
    const r = Atomics.waitAsync(this.hdr, F_BELL, bell, timeoutMs);
    return r.async ? r.value : Promise.resolve(r.value);
  }

  private entry(i: number): number {
    return this.base + DIRECTORY_HEADER_BYTES + i * DIRECTORY_ENTRY_BYTES;
  }

  private nameEquals(e: number, name: Uint8Array): boolean {
    const n = this.dv.getUint32(e + 4, true);
    if (n !== name.byteLength) return false;
    for (let j = 0; j < n; j++) if (this.u8[e + 32 + j] !== name[j]) return false;
    return true;
  }

  private ringOf(e: number): Pointer {
    return makePointer(this.dv.getInt32(e + 8, true), this.dv.getInt32(e + 12, true), this.dv.getFloat64(e + 16, true));
  }

  private lock(): void {
    const started = Date.now();
    for (;;) {
      // Take the lock: 0 -> 1. The holder is inside `findOrInsert`, which never awaits.
      if (Atomics.compareExchange(this.hdr, F_LOCK, 0, 1) === 0) return;
      if (Date.now() - started > LOCK_STALE_MS) {
        // A holder that never released within a second died mid-insert (the critical section is
        // synchronous and short); take the lock over rather than deadlock every later bind.
        Atomics.store(this.hdr, F_LOCK, 1);
        return;
      }
      // Short blocking waits are fine: the lock is held for microseconds.
      Atomics.wait(this.hdr, F_LOCK, 1, 1);
    }
  }

  private unlock(): void {
    // Release the lock; writes in the critical section are published by the entry's state store.
    Atomics.store(this.hdr, F_LOCK, 0);
    Atomics.notify(this.hdr, F_LOCK, 1);
  }
}
