/**
 * The per-thread memory manager (C++ `HSHM_MEMORY_MANAGER`): owns the shared regions, resolves
 * `Pointer <-> FullPtr` for the thread, and grows by adding regions that every attached thread
 * learns about over a BroadcastChannel.
 *
 * The control buffer's layout is in `control-layout.ts`; options and the attach handle in
 * `manager-types.ts`.
 */
import type { AllocatorId, FullPtr, Pointer, PointerResolver } from '@lightbeam/core';
import { LightbeamError, NULL_POINTER, getPointerResolver, makePointer, setPointerResolver } from '@lightbeam/core';
import { BroadcastChannel } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { badPointer, managerExhausted } from './errors.js';
import { setTransportMemory } from '../transport/channels.js';
import type { ShmMemory } from '../transport/transport-memory.js';
import { SlabAllocator } from './slab-allocator.js';
import type { SlabStats } from './slab-types.js';
import { C, CONTROL_BYTES, CONTROL_MAGIC, ENTRY_WORD } from './control-layout.js';
import type { MemoryManagerHandle, MemoryManagerOptions } from './manager-types.js';

interface RegionMessage {
  minor: number;
  sab?: SharedArrayBuffer;
}

let current: MemoryManager | null = null;

/** One thread's view of the shared memory; create it once, attach it in every other thread. */
export class MemoryManager implements PointerResolver, ShmMemory {
  /** Allocator id major of every region. */
  readonly major: number;
  private readonly id: string;
  private readonly control: Int32Array;
  private readonly regions: (SlabAllocator | undefined)[] = [];
  private cur: SlabAllocator;
  private readonly channel: BroadcastChannel;
  private closed = false;

  private constructor(handle: MemoryManagerHandle) {
    this.id = handle.id;
    this.control = new Int32Array(handle.control);
    // The creator wrote the control header before the handle existed.
    if (Atomics.load(this.control, C.magic) !== CONTROL_MAGIC) throw new TypeError('MemoryManager.attach: the handle carries no memory manager control buffer');
    this.major = this.control[C.major];
    for (const r of handle.regions) this.regions[r.minor] = SlabAllocator.attach(r.sab);
    const first = this.regions.find((r) => r !== undefined);
    if (first === undefined) throw new TypeError('MemoryManager.attach: the handle carries no region');
    this.cur = first;
    this.channel = new BroadcastChannel(`lightbeam-shm:${this.id}`);
    // Region announcements must not keep a thread alive.
    this.channel.unref();
    this.channel.onmessage = (ev: unknown) => this.onChannel((ev as { data: RegionMessage }).data);
    setPointerResolver(this);
    setTransportMemory(this);
    current = this;
  }

  /**
   * Creates the memory (control buffer and the default region, minor 0) in the first thread and
   * installs it as this thread's pointer resolver.
   *
   * @param options - region size, page size, thread slots, major id, growth limit
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a bad option, or when this thread
   *   already has a manager and `replace` is not set
   */
  static create(options: MemoryManagerOptions = {}): MemoryManager {
    if (current !== null && options.replace !== true) {
      throw new LightbeamError(
        'ERR_LBM_INVALID_ARGUMENT',
        `this thread already has a memory manager (major ${current.major}): detach() it first, or pass { replace: true } to make the new one this thread's`,
      );
    }
    const regionBytes = options.regionBytes ?? 64 * 1024 * 1024;
    const maxRegions = options.maxRegions ?? 16;
    if (!Number.isInteger(maxRegions) || maxRegions < 1 || maxRegions > 256) {
      throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `maxRegions must be an integer 1..256, got ${maxRegions}`);
    }
    const major = options.major ?? 1 + Math.floor(Math.random() * (2 ** 30 - 1));
    const first = SlabAllocator.create(regionBytes, { pageBytes: options.pageBytes, threadSlots: options.threadSlots, major, minor: 0 });
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const c = new Int32Array(control);
    c[C.claimed] = 1;
    c[C.maxRegions] = maxRegions;
    c[C.regionBytes] = regionBytes;
    c[C.pageBytes] = first.stats().pageBytes;
    c[C.slots] = options.threadSlots ?? 64;
    c[C.major] = major;
    c[ENTRY_WORD] = 1;
    // Publishes the header; the buffer is not shared yet, so this is belt and braces.
    Atomics.store(c, C.magic, CONTROL_MAGIC);
    const id = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    return new MemoryManager({ kind: 'lightbeam.shm.v1', id, control, regions: [{ minor: 0, sab: first.sab }] });
  }

  /**
   * Attaches this thread to memory created elsewhere and installs it as the thread's resolver.
   *
   * @param handle - from {@link MemoryManager.handle} (e.g. via `workerData`)
   * @throws TypeError when the handle is not one
   */
  static attach(handle: MemoryManagerHandle): MemoryManager {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'lightbeam.shm.v1') {
      throw new TypeError(`MemoryManager.attach: expected a handle from MemoryManager.handle(), got ${typeof handle}`);
    }
    return new MemoryManager(handle);
  }

  /** The manager most recently created or attached in this thread, or `null`. */
  static current(): MemoryManager | null {
    return current;
  }

  /** A handle for other threads, carrying every region this thread knows. */
  handle(): MemoryManagerHandle {
    const regions = [];
    for (let m = 0; m < this.regions.length; m++) if (this.regions[m] !== undefined) regions.push({ minor: m, sab: this.regions[m]!.sab });
    return { kind: 'lightbeam.shm.v1', id: this.id, control: this.control.buffer as SharedArrayBuffer, regions };
  }

  /** The default allocator's id: `{major, minor: 0}`. */
  get defaultAllocatorId(): AllocatorId {
    return this.defaultAllocator.id;
  }

  /** The default allocator (region minor 0). */
  get defaultAllocator(): SlabAllocator {
    return this.regions[0] ?? this.cur;
  }

  /** The allocators of every region this thread knows, by minor. */
  allocators(): SlabAllocator[] {
    return this.regions.filter((r): r is SlabAllocator => r !== undefined);
  }

  /** This thread's allocator for `id`, or `null` when the region is unknown here. */
  allocator(id: AllocatorId): SlabAllocator | null {
    return id.major === this.major ? (this.regions[id.minor] ?? null) : null;
  }

  /**
   * Allocates from the current region, then any other, then grows by a new region.
   *
   * @param size - bytes, 1 .. the region's data bytes
   * @returns a 64-byte aligned block, or `null` when every region is full and growth is exhausted
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a size of 0, not an integer, or above a region
   */
  allocate(size: number): Pointer | null {
    return this.cur.allocate(size) ?? this.allocateSlow(size);
  }

  /**
   * Allocates or throws.
   *
   * @throws LightbeamError `ERR_LBM_NOMEM` (errno ENOMEM) when exhausted
   */
  allocateOrThrow(size: number): Pointer {
    const p = this.allocate(size);
    if (p === null) throw managerExhausted(size, this.id, Atomics.load(this.control, C.claimed), this.control[C.maxRegions], this.control[C.regionBytes]);
    return p;
  }

  /**
   * Frees a block allocated by any thread.
   *
   * @throws LightbeamError `ERR_LBM_BAD_POINTER`, `ERR_LBM_DOUBLE_FREE` (state unchanged)
   */
  free(p: Pointer): void {
    const id = p?.allocId;
    const a = id === this.cur.id ? this.cur : this.known(p);
    a.free(p);
  }

  /** The largest block {@link MemoryManager.allocate} can ever return: a region's data bytes. */
  maxBlockBytes(): number {
    return this.cur.dataBytes;
  }

  /**
   * The usable bytes of the live block `p` points to the start of, or -1 when it is no such block
   * (unknown region, a free block, the middle of one).
   *
   * @param p - a pointer from `allocate`
   */
  blockBytes(p: Pointer): number {
    const a = p === null || typeof p !== 'object' ? null : this.allocator(p.allocId);
    return a === null ? -1 : a.blockBytes(p.off);
  }

  /**
   * Resolves a pointer to a live view of `size` bytes in this thread.
   *
   * @throws LightbeamError `ERR_LBM_BAD_POINTER` for an unknown region or a span outside it
   */
  toFullPtr(p: Pointer, size: number): FullPtr {
    const a = this.known(p);
    if (!a.contains(p.off, size)) throw badPointer(p, `the ${size}-byte span is outside the region's data area`);
    return { ptr: new Uint8Array(a.sab, p.off, size), shm: p };
  }

  /** The pointer of a view inside a known region (by containment), else the null pointer. */
  fromView(view: Uint8Array): Pointer {
    const buf = view.buffer;
    for (let m = 0; m < this.regions.length; m++) {
      const r = this.regions[m];
      if (r !== undefined && r.sab === buf) return makePointer(this.major, m, view.byteOffset);
    }
    return NULL_POINTER;
  }

  /** PointerResolver: a live view, or `null` for an unknown region or out-of-range span. */
  toView(p: Pointer, size: number): Uint8Array | null {
    const a = this.allocator(p.allocId);
    return a !== null && a.contains(p.off, size) ? new Uint8Array(a.sab, p.off, size) : null;
  }

  /** ShmMemory: like {@link MemoryManager.toFullPtr} but `null` instead of throwing. */
  resolve(p: Pointer, size: number): FullPtr | null {
    const v = this.toView(p, size);
    return v === null ? null : { ptr: v, shm: p };
  }

  /** ShmMemory: true when region `{major, minor}` was created but has not reached this thread yet. */
  regionPending(major: number, minor: number): boolean {
    if (major !== this.major || !Number.isInteger(minor) || minor < 0 || minor >= 256 || this.regions[minor] !== undefined) return false;
    // Ready flag, published by the region's creator after it initialised the region.
    return Atomics.load(this.control, ENTRY_WORD + 4 * minor) === 1;
  }

  /** ShmMemory: the SharedArrayBuffer of a region, or `null` when unknown in this thread. */
  regionBuffer(id: AllocatorId): SharedArrayBuffer | null {
    return this.allocator(id)?.sab ?? null;
  }

  /**
   * ShmMemory: the domain's directory pointer; the first caller's `create` runs, exactly once.
   *
   * @param create - makes the directory (called in at most one thread)
   * @throws LightbeamError `ERR_LBM_CORRUPT` when another thread started creating it and never finished (5 s)
   */
  /** ShmMemory: the domain's directory pointer if some thread created it, else `null` (never creates). */
  directoryIfAny(): Pointer | null {
    const c = this.control;
    // Acquire: state 2 means the pointer words were written before it.
    if (Atomics.load(c, C.dirState) !== 2) return null;
    return makePointer(Atomics.load(c, C.dirMajor), Atomics.load(c, C.dirMinor), Atomics.load(c, C.dirOff));
  }

  directory(create: () => Pointer): Pointer {
    const c = this.control;
    const deadline = Date.now() + 5000;
    for (;;) {
      // Acquire: state 2 means the pointer words below were written before it.
      const st = Atomics.load(c, C.dirState);
      if (st === 2) return makePointer(Atomics.load(c, C.dirMajor), Atomics.load(c, C.dirMinor), Atomics.load(c, C.dirOff));
      // Claims the right to create; exactly one thread sees 0.
      if (st === 0 && Atomics.compareExchange(c, C.dirState, 0, 1) === 0) {
        let p: Pointer;
        try {
          p = create();
        } catch (e) {
          // Lets another thread try again, and wakes the waiters.
          Atomics.store(c, C.dirState, 0);
          Atomics.notify(c, C.dirState);
          throw e;
        }
        // Pointer words first, then the state that publishes them.
        Atomics.store(c, C.dirMajor, p.allocId.major);
        Atomics.store(c, C.dirMinor, p.allocId.minor);
        Atomics.store(c, C.dirOff, p.off);
        Atomics.store(c, C.dirState, 2);
        Atomics.notify(c, C.dirState);
        return p;
      }
      if (Date.now() > deadline) throw new LightbeamError('ERR_LBM_CORRUPT', 'the channel directory was claimed by a thread that never finished creating it');
      // Short bounded wait for the creating thread (a dead creator ends in the error above).
      Atomics.wait(c, C.dirState, 1, 20);
    }
  }

  /** Statistics of every region this thread knows, by minor. */
  stats(): SlabStats[] {
    return this.allocators().map((a) => a.stats());
  }

  /**
   * Waits until this thread knows every region created so far (asks the other threads for the
   * missing ones).
   *
   * @param timeoutMs - give up after this long
   * @throws LightbeamError `ERR_LBM_BAD_POINTER` naming the regions still missing at the timeout
   */
  async sync(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let round = 0; ; round++) {
      const missing = this.missingRegions();
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        throw new LightbeamError('ERR_LBM_BAD_POINTER', `regions ${missing.join(', ')} of manager ${this.id} never reached this thread`);
      }
      if (round % 10 === 0) for (const m of missing) this.channel.postMessage({ minor: m } satisfies RegionMessage);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Returns the cached free blocks of an exited thread in every region and frees its slots.
   * Call only after the thread is gone; {@link MemoryManager.watch} does it on `exit`.
   *
   * @returns blocks returned to the shared lists
   */
  reclaimThread(deadThreadId: number): number {
    let n = 0;
    for (const a of this.allocators()) n += a.reclaimThread(deadThreadId);
    return n;
  }

  /** True while thread `id` may still write block `p`: it holds a slot of `p`'s region, or the region is unknown here. */
  threadMayUse(p: Pointer, id: number): boolean {
    const a = this.allocator(p.allocId);
    return a === null || a.holdsSlot(id);
  }

  /** Reclaims a worker's cached blocks when it exits (normally, by error or `terminate()`). */
  watch(worker: Worker): Worker {
    // threadId reads -1 after exit: capture it now.
    const id = worker.threadId;
    worker.once('exit', () => this.reclaimThread(id));
    return worker;
  }

  /** Flushes this thread's caches, frees its slots, closes the channel and uninstalls the resolver. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    for (const a of this.allocators()) a.detach();
    this.channel.close();
    if (getPointerResolver() === this) setPointerResolver(null);
    if (current === this) {
      current = null;
      setTransportMemory(null);
    }
  }

  private known(p: Pointer): SlabAllocator {
    const id = p?.allocId;
    const a = id === undefined || id === null ? null : this.allocator(id);
    if (a !== null) return a;
    // A ready entry means the region exists but its buffer has not been delivered here yet.
    if (id?.major === this.major && id.minor >= 0 && id.minor < 256 && Atomics.load(this.control, ENTRY_WORD + 4 * id.minor) === 1) {
      throw badPointer(p, `region {major: ${id.major}, minor: ${id.minor}} exists but has not reached this thread yet (await manager.sync())`);
    }
    throw badPointer(p, `it belongs to no region of this memory manager (major ${this.major})`);
  }

  private missingRegions(): number[] {
    const out: number[] = [];
    // Regions are claimed in order; a claimed entry is ready once its creator published it.
    const claimed = Math.min(Atomics.load(this.control, C.claimed), 256);
    for (let m = 0; m < claimed; m++) {
      // Ready flag published after the region was initialised.
      if (this.regions[m] === undefined && Atomics.load(this.control, ENTRY_WORD + 4 * m) === 1) out.push(m);
    }
    return out;
  }

  private onChannel(msg: RegionMessage): void {
    if (msg === null || typeof msg !== 'object' || !Number.isInteger(msg.minor)) return;
    if (msg.sab instanceof SharedArrayBuffer) {
      if (this.regions[msg.minor] === undefined) this.regions[msg.minor] = SlabAllocator.attach(msg.sab);
    } else if (this.regions[msg.minor] !== undefined) {
      this.channel.postMessage({ minor: msg.minor, sab: this.regions[msg.minor]!.sab } satisfies RegionMessage);
    }
  }

  private allocateSlow(size: number): Pointer | null {
    for (const a of this.allocators()) {
      if (a === this.cur) continue;
      const p = a.allocate(size);
      if (p !== null) {
        this.cur = a;
        return p;
      }
    }
    const c = this.control;
    for (;;) {
      // Read the claim counter; a successful CAS below makes this thread the region's creator.
      const n = Atomics.load(c, C.claimed);
      if (n >= c[C.maxRegions]) return null;
      if (Atomics.compareExchange(c, C.claimed, n, n + 1) !== n) continue;
      const a = SlabAllocator.create(c[C.regionBytes], { pageBytes: c[C.pageBytes], threadSlots: c[C.slots], major: this.major, minor: n });
      this.regions[n] = a;
      // Marks the region ready; threads that miss the broadcast below ask for it by minor.
      Atomics.store(c, ENTRY_WORD + 4 * n, 1);
      this.channel.postMessage({ minor: n, sab: a.sab } satisfies RegionMessage);
      this.cur = a;
      return a.allocate(size);
    }
  }
}
