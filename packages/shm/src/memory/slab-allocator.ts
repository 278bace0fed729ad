/**
 * A slab allocator whose whole state lives in one SharedArrayBuffer (layout: `slab-layout.ts`).
 * Size classes 64 B .. 1 MiB come from lock-free batch free lists; larger blocks take page runs
 * from the page heap. Each thread keeps a small cache (magazine) of free blocks per class in
 * front of the shared lists; cached blocks count as free in `stats()`, and their state byte
 * names the caching thread's slot, so `reclaimThread` can return a dead thread's cache.
 *
 * Concurrency: lock-free throughout (free lists: CAS with ABA tag; page heap: atomic bit
 * claims; block state: one CAS per free). No locks, so a terminated thread cannot deadlock
 * anyone; it can only keep the blocks it held (and its cache, until reclaimed).
 */
import type { AllocatorId, Pointer } from '@lightbeam/core';
import { threadId } from 'node:worker_threads';
import { popBatch, pushBatch } from './free-list.js';
import { claimPages, longestFreeRun, releasePages } from './page-heap.js';
import { badPointer, doubleFree, invalidSize, noMemory, noThreadSlot } from './errors.js';
import {
  CLASS_COUNT, CLASS_ENTRY_BYTES, CLASS_TABLE_OFF, H, KIND_LARGE, MAX_CLASS_BYTES, MAX_REGION_BYTES, MIN_BLOCK_BYTES,
  MIN_BLOCK_SHIFT, SLAB_MAGIC, SLAB_VERSION, SLOT_BYTES, STATE_ALLOCATED, STATE_CACHED, STATE_FREE, STATE_FREED_LARGE,
  STATE_NONE, classOf, computeGeometry,
} from './slab-layout.js';
import type { SizeClassStats, SlabAllocatorOptions, SlabStats } from './slab-types.js';

/** Blocks moved between a thread cache and the shared list at once, per class. */
const BATCH = Array.from({ length: CLASS_COUNT }, (_, c) => Math.max(1, Math.min(32, (16384 / (MIN_BLOCK_BYTES << c)) | 0)));

/** One thread's handle on a slab region; create one per thread with `create` or `attach`. */
export class SlabAllocator {
  /** The region. */
  readonly sab: SharedArrayBuffer;
  /** This region's allocator id. */
  readonly id: AllocatorId;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly h64: BigUint64Array;
  private readonly dataStart: number;
  private readonly end: number;
  private readonly pageBytes: number;
  private readonly pageShift: number;
  private readonly pageCount: number;
  private readonly bitmapWord: number;
  private readonly pageMapWord: number;
  private readonly largeWord: number;
  private readonly stateOff: number;
  private readonly slotsWord: number;
  private readonly slotCount: number;
  private slot = -1;
  private readonly caches: Int32Array[] = [];
  private readonly spanKinds: Int32Array;
  private readonly cacheLen = new Int32Array(CLASS_COUNT);

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.h64 = new BigUint64Array(sab, 0, sab.byteLength >>> 3);
    // The creator stores the magic last: seeing it means every header field below is written.
    if (sab.byteLength < 256 || Atomics.load(this.i32, H.magic) !== SLAB_MAGIC || this.i32[H.version] !== SLAB_VERSION) {
      throw new TypeError('SlabAllocator.attach: the SharedArrayBuffer holds no initialised slab region');
    }
    this.id = Object.freeze({ major: this.i32[H.major], minor: this.i32[H.minor] });
    this.pageBytes = this.i32[H.pageBytes];
    this.pageShift = 31 - Math.clz32(this.pageBytes);
    this.pageCount = this.i32[H.pageCount];
    this.dataStart = this.i32[H.dataStart];
    this.end = this.dataStart + this.pageCount * this.pageBytes;
    this.bitmapWord = this.i32[H.bitmapOff] >>> 2;
    this.pageMapWord = this.i32[H.pageMapOff] >>> 2;
    this.largeWord = this.i32[H.largeOff] >>> 2;
    this.stateOff = this.i32[H.stateOff];
    this.slotsWord = this.i32[H.slotsOff] >>> 2;
    this.slotCount = this.i32[H.slotCount];
    this.spanKinds = new Int32Array(this.pageCount);
    for (let c = 0; c < CLASS_COUNT; c++) this.caches.push(new Int32Array(2 * BATCH[c]));
  }

  /**
   * Initialises a new region and returns this thread's handle on it.
   *
   * @param regionBytes - size of the SharedArrayBuffer to create (at most 1 GiB)
   * @param options - page size, thread slots, allocator id
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a bad size or option
   */
  static create(regionBytes: number, options: SlabAllocatorOptions = {}): SlabAllocator {
    const pageBytes = options.pageBytes ?? 65536;
    const slots = options.threadSlots ?? 64;
    if (!Number.isInteger(pageBytes) || pageBytes < 4096 || (pageBytes & (pageBytes - 1)) !== 0) {
      throw invalidSize(pageBytes, 'a power of two of at least 4096 for pageBytes');
    }
    if (!Number.isInteger(slots) || slots < 1 || slots > 250) throw invalidSize(slots, 'an integer 1..250 for threadSlots');
    if (!Number.isInteger(regionBytes) || regionBytes > MAX_REGION_BYTES) throw invalidSize(regionBytes, `an integer up to ${MAX_REGION_BYTES} for regionBytes`);
    const g = computeGeometry(regionBytes, pageBytes, slots);
    if (g.pageCount < 1) throw invalidSize(regionBytes, `large enough for one ${pageBytes}-byte page plus tables for regionBytes`);
    const sab = new SharedArrayBuffer(regionBytes);
    const i32 = new Int32Array(sab);
    i32[H.version] = SLAB_VERSION;
    i32[H.regionBytes] = regionBytes;
    i32[H.pageBytes] = pageBytes;
    i32[H.pageCount] = g.pageCount;
    i32[H.dataStart] = g.dataStart;
    i32[H.bitmapOff] = g.bitmapOff;
    i32[H.pageMapOff] = g.pageMapOff;
    i32[H.largeOff] = g.largeOff;
    i32[H.stateOff] = g.stateOff;
    i32[H.slotsOff] = g.slotsOff;
    i32[H.slotCount] = slots;
    i32[H.major] = options.major ?? 0;
    i32[H.minor] = options.minor ?? 0;
    // Publishes the header: attachers check the magic first (the buffer is not shared yet anyway).
    Atomics.store(i32, H.magic, SLAB_MAGIC);
    return new SlabAllocator(sab);
  }

  /**
   * Attaches to a region created by {@link SlabAllocator.create} in any thread.
   *
   * @param sab - the region's SharedArrayBuffer
   * @throws TypeError when the buffer holds no slab region
   */
  static attach(sab: SharedArrayBuffer): SlabAllocator {
    return new SlabAllocator(sab);
  }

  /** Bytes of pages available to blocks: the largest request this region can ever satisfy. */
  get dataBytes(): number {
    return this.pageCount * this.pageBytes;
  }

  /**
   * Allocates a block of at least `size` bytes, 64-byte aligned (so any typed-array view fits).
   *
   * @param size - bytes, 1 .. {@link SlabAllocator.dataBytes}
   * @returns the block's pointer, or `null` when the region is exhausted
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a size of 0, above the region, or not an integer
   */
  allocate(size: number): Pointer | null {
    const off = this.allocateOffset(size);
    return off === 0 ? null : { allocId: this.id, off };
  }

  /**
   * Like {@link SlabAllocator.allocate} but returns the raw offset, 0 when exhausted.
   *
   * @param size - bytes, 1 .. {@link SlabAllocator.dataBytes}
   */
  allocateOffset(size: number): number {
    if (!(size > 0 && size <= MAX_CLASS_BYTES && (size | 0) === size)) return this.allocateLarge(size);
    const c = classOf(size);
    let n = this.cacheLen[c];
    if (n === 0 && (n = this.refill(c)) === 0) return 0;
    const off = this.caches[c][--n];
    this.cacheLen[c] = n;
    // The block sits in this thread's cache, so no other thread may change its state: a plain
    // atomic store hands it out, and makes a later free's CAS from ALLOCATED succeed.
    Atomics.store(this.u8, this.stateOff + ((off - this.dataStart) >>> MIN_BLOCK_SHIFT), STATE_ALLOCATED);
    return off;
  }

  /**
   * Allocates or throws.
   *
   * @param size - bytes, 1 .. {@link SlabAllocator.dataBytes}
   * @throws LightbeamError `ERR_LBM_NOMEM` (errno ENOMEM) when exhausted, `ERR_LBM_INVALID_ARGUMENT` for a bad size
   */
  allocateOrThrow(size: number): Pointer {
    const p = this.allocate(size);
    if (p === null) throw noMemory(size, `region {major: ${this.id.major}, minor: ${this.id.minor}}`);
    return p;
  }

  /**
   * Frees a block; any thread may free a block another thread allocated.
   *
   * @param p - a pointer returned by `allocate` on this region
   * @throws LightbeamError `ERR_LBM_BAD_POINTER` (another region, not a block start),
   *   `ERR_LBM_DOUBLE_FREE` (already free); the allocator is unchanged when it throws
   */
  free(p: Pointer): void {
    const id = p?.allocId;
    if (id !== this.id && (id?.major !== this.id.major || id.minor !== this.id.minor)) {
      throw badPointer(p, `it belongs to another allocator than {major: ${this.id.major}, minor: ${this.id.minor}}`);
    }
    const err = this.freeOffset(p.off);
    if (err === 1) throw badPointer(p, 'the offset is not the start of a block');
    if (err === 2) throw doubleFree(p);
  }

  /**
   * Frees a block by offset without throwing.
   *
   * @param off - the block's offset
   * @returns 0 when freed, 1 when `off` is not a block start, 2 when the block is already free
   */
  freeOffset(off: number): number {
    const rel = off - this.dataStart;
    if (!(rel >= 0 && off < this.end && (off | 0) === off && (rel & (MIN_BLOCK_BYTES - 1)) === 0)) return 1;
    const page = rel >>> this.pageShift;
    // Thread-local copy of a class span's kind: class spans never change class, so it stays true.
    let e = this.spanKinds[page];
    if (e === 0) {
      // The carving thread published the page's kind before handing out any block of it.
      e = Atomics.load(this.i32, this.pageMapWord + page);
      if ((e & 31) >= 1 && (e & 31) <= CLASS_COUNT) this.spanKinds[page] = e;
    }
    const kind = e & 31;
    const g = this.stateOff + (rel >>> MIN_BLOCK_SHIFT);
    if (kind === 0 || kind > CLASS_COUNT) return kind === KIND_LARGE ? this.freeLarge(rel, e, g) : this.freedLarge(g);
    if (this.slot < 0) this.claimSlot();
    const c = kind - 1;
    // One CAS decides between racing frees of the same block: only one sees ALLOCATED.
    const prev = Atomics.compareExchange(this.u8, g, STATE_ALLOCATED, STATE_CACHED + this.slot);
    if (prev !== STATE_ALLOCATED) return prev === STATE_NONE || prev === STATE_FREED_LARGE ? 1 : 2;
    const cache = this.caches[c];
    let n = this.cacheLen[c];
    if (n === cache.length) n = this.flush(c, BATCH[c]);
    cache[n] = off;
    this.cacheLen[c] = n + 1;
    return 0;
  }

  /**
   * The usable bytes of the live block starting at `off`, or -1 when no allocated block starts
   * there (a free block, the middle of one, outside the data area). A racy snapshot: a block
   * freed meanwhile by another thread may still answer its size.
   *
   * @param off - a block's offset
   */
  blockBytes(off: number): number {
    const rel = off - this.dataStart;
    if (!(rel >= 0 && off < this.end && (off | 0) === off && (rel & (MIN_BLOCK_BYTES - 1)) === 0)) return -1;
    // Acquire the block's state byte, published by allocate.
    if (Atomics.load(this.u8, this.stateOff + (rel >>> MIN_BLOCK_SHIFT)) !== STATE_ALLOCATED) return -1;
    // Acquire the page's kind, published when the span was carved or the large run handed out.
    const e = Atomics.load(this.i32, this.pageMapWord + (rel >>> this.pageShift));
    const kind = e & 31;
    if (kind >= 1 && kind <= CLASS_COUNT) return MIN_BLOCK_BYTES << (kind - 1);
    if (kind !== KIND_LARGE || rel !== (e >>> 5) * this.pageBytes) return -1;
    return Atomics.load(this.i32, this.largeWord + (e >>> 5)) * this.pageBytes;
  }

  /** Returns every block in this thread's caches to the shared lists (other threads can then use them). */
  flushCaches(): void {
    for (let c = 0; c < CLASS_COUNT; c++) {
      while (this.cacheLen[c] > 0) this.flush(c, Math.min(BATCH[c], this.cacheLen[c]));
    }
  }

  /** Flushes the caches and gives this thread's slot back; the handle stays usable (it re-claims). */
  detach(): void {
    if (this.slot < 0) return;
    this.flushCaches();
    this.releaseSlot(this.slot);
    this.slot = -1;
  }

  /**
   * True while thread `id` holds a slot of this region: it allocated here and has neither
   * detached nor been reclaimed as dead (a thread that exited unwatched keeps its slot).
   *
   * @param id - a `threadId`
   */
  holdsSlot(id: number): boolean {
    for (let s = 0; s < this.slotCount; s++) {
      if (Atomics.load(this.i32, this.slotsWord + s * (SLOT_BYTES >>> 2)) === id + 1) return true;
    }
    return false;
  }

  /**
   * Returns the cached blocks of a thread that has exited and frees its slot. Call it only after
   * that thread is gone (e.g. from the Worker's `exit` event): its blocks still in use stay in use.
   *
   * @param deadThreadId - `worker.threadId` of the exited thread
   * @returns how many cached blocks went back to the shared lists
   */
  reclaimThread(deadThreadId: number): number {
    let returned = 0;
    for (let s = 0; s < this.slotCount; s++) {
      // Acquire the owner id; only the dead thread could have written CACHED + s states.
      if (s === this.slot || Atomics.load(this.i32, this.slotsWord + s * (SLOT_BYTES >>> 2)) !== deadThreadId + 1) continue;
      returned += this.sweepSlot(s);
      this.releaseSlot(s);
    }
    return returned;
  }

  /**
   * Statistics of the region, read from the block state bytes themselves (no counters on the
   * fast path): O(pages + carved blocks), exact whenever no thread allocates or frees meanwhile.
   */
  stats(): SlabStats {
    const inUse = new Array<number>(CLASS_COUNT).fill(0);
    const carved = new Array<number>(CLASS_COUNT).fill(0);
    let largeBlocks = 0;
    let largePages = 0;
    const granulesPerPage = this.pageBytes >>> MIN_BLOCK_SHIFT;
    for (let p = 0; p < this.pageCount; ) {
      // Span kinds are published when spans are carved or large blocks handed out.
      const kind = Atomics.load(this.i32, this.pageMapWord + p) & 31;
      if (kind >= 1 && kind <= CLASS_COUNT) {
        const c = kind - 1;
        const per = (MIN_BLOCK_BYTES << c) >>> MIN_BLOCK_SHIFT;
        const span = Math.max(granulesPerPage, per);
        const g0 = this.stateOff + p * granulesPerPage;
        for (let g = 0; g < span; g += per) {
          carved[c]++;
          // Each block's own state: ALLOCATED is set by allocate and cleared by free's CAS.
          if (Atomics.load(this.u8, g0 + g) === STATE_ALLOCATED) inUse[c]++;
        }
        p += span / granulesPerPage;
      } else if (kind === KIND_LARGE) {
        // Run length written before the run's pages were published.
        const pages = Atomics.load(this.i32, this.largeWord + p);
        largeBlocks++;
        largePages += pages;
        p += pages;
      } else {
        p++;
      }
    }
    const classes: SizeClassStats[] = [];
    let blocks = 0;
    let bytes = 0;
    let freeBlockBytes = 0;
    let largestFreeClass = 0;
    for (let c = 0; c < CLASS_COUNT; c++) {
      const size = MIN_BLOCK_BYTES << c;
      classes.push({ blockBytes: size, blocksInUse: inUse[c], bytesInUse: inUse[c] * size, freeBlocks: carved[c] - inUse[c], carvedBlocks: carved[c] });
      blocks += inUse[c];
      bytes += inUse[c] * size;
      freeBlockBytes += (carved[c] - inUse[c]) * size;
      if (carved[c] > inUse[c]) largestFreeClass = size;
    }
    const largeBytes = largePages * this.pageBytes;
    // Page accounting is updated with each claim and release.
    const heapFree = (this.pageCount - Atomics.load(this.i32, H.pagesUsed)) * this.pageBytes;
    return {
      allocId: this.id, regionBytes: this.sab.byteLength, dataBytes: this.dataBytes, pageBytes: this.pageBytes, classes,
      largeBlocksInUse: largeBlocks, largeBytesInUse: largeBytes, blocksInUse: blocks + largeBlocks, bytesInUse: bytes + largeBytes,
      freeBytes: heapFree + freeBlockBytes, heapFreeBytes: heapFree, largestFreeBytes: Math.max(longestFreeRun(this.i32, this.bitmapWord, this.pageCount) * this.pageBytes, largestFreeClass),
      // Monotonic, written with a CAS max.
      highWaterBytes: Atomics.load(this.i32, H.highWaterPages) * this.pageBytes,
    };
  }

  /** True when `[off, off + size)` lies inside the region's data area. */
  contains(off: number, size: number): boolean {
    return Number.isInteger(off) && Number.isInteger(size) && size >= 0 && off >= this.dataStart && off + size <= this.end;
  }

  private allocateLarge(size: number): number {
    if (!Number.isInteger(size) || size <= 0) throw invalidSize(size, 'a positive integer');
    if (size > this.dataBytes) throw invalidSize(size, `at most the region's ${this.dataBytes} data bytes`);
    const pages = Math.ceil(size / this.pageBytes);
    const first = claimPages(this.i32, this.bitmapWord, this.pageCount, pages);
    if (first < 0) return 0;
    // A slot tells a server that skips an abandoned ring slot that this thread is alive
    // (holdsSlot). With every slot held the block is still given; the thread is then not known.
    if (this.slot < 0) this.tryClaimSlot();
    // The pages are ours after the claim; these stores publish them as one large block.
    Atomics.store(this.i32, this.largeWord + first, pages);
    for (let p = first; p < first + pages; p++) Atomics.store(this.i32, this.pageMapWord + p, KIND_LARGE | (first << 5));
    const off = this.dataStart + first * this.pageBytes;
    // Allocated last: a free can only succeed once the page map above is in place.
    Atomics.store(this.u8, this.stateOff + ((off - this.dataStart) >>> MIN_BLOCK_SHIFT), STATE_ALLOCATED);
    return off;
  }

  private freeLarge(rel: number, e: number, g: number): number {
    const first = e >>> 5;
    if (rel !== first * this.pageBytes) return 1;
    // One CAS decides between racing frees; the FREED mark keeps a second free detectable.
    const prev = Atomics.compareExchange(this.u8, g, STATE_ALLOCATED, STATE_FREED_LARGE);
    if (prev !== STATE_ALLOCATED) return prev === STATE_NONE ? 1 : 2;
    // We own the run until its bits are cleared; read its length and unpublish its pages.
    const pages = Atomics.load(this.i32, this.largeWord + first);
    for (let p = first; p < first + pages; p++) Atomics.store(this.i32, this.pageMapWord + p, 0);
    releasePages(this.i32, this.bitmapWord, first, pages);
    return 0;
  }

  private freedLarge(g: number): number {
    // A free page: a second free of a large block still finds its FREED mark.
    return Atomics.load(this.u8, g) === STATE_FREED_LARGE ? 2 : 1;
  }

  private claimSlot(): void {
    if (!this.tryClaimSlot()) throw noThreadSlot(this.slotCount, `{major: ${this.id.major}, minor: ${this.id.minor}}`);
  }

  /** Claims a free slot for this thread; false when every slot is held. */
  private tryClaimSlot(): boolean {
    for (let s = 0; s < this.slotCount; s++) {
      const w = this.slotsWord + s * (SLOT_BYTES >>> 2);
      // Claims the slot: from now on blocks marked CACHED + s are this thread's.
      if (Atomics.compareExchange(this.i32, w, 0, threadId + 1) === 0) {
        this.slot = s;
        return true;
      }
    }
    return false;
  }

  private releaseSlot(s: number): void {
    // Releases the slot after its cached blocks went back to the shared lists.
    Atomics.store(this.i32, this.slotsWord + s * (SLOT_BYTES >>> 2), 0);
  }

  private refill(c: number): number {
    if (this.slot < 0) this.claimSlot();
    const headIndex = (CLASS_TABLE_OFF + c * CLASS_ENTRY_BYTES) >>> 3;
    const first = popBatch(this.h64, this.i32, headIndex);
    if (first === 0) return this.carve(c);
    // We own the batch now; its count and links were published by the pushing CAS.
    const count = Atomics.load(this.i32, (first >>> 2) + 2);
    const cache = this.caches[c];
    let off = first;
    for (let i = count - 1; i >= 0; i--) {
      cache[i] = off;
      // Marks the block as held by this slot so reclaimThread can find it if we die.
      Atomics.store(this.u8, this.stateOff + ((off - this.dataStart) >>> MIN_BLOCK_SHIFT), STATE_CACHED + this.slot);
      // Next block of the batch, published before the batch was pushed.
      off = Atomics.load(this.i32, off >>> 2);
    }
    this.cacheLen[c] = count;
    return count;
  }

  private carve(c: number): number {
    const size = MIN_BLOCK_BYTES << c;
    const spanBytes = Math.max(size, this.pageBytes);
    const pages = spanBytes / this.pageBytes;
    const first = claimPages(this.i32, this.bitmapWord, this.pageCount, pages);
    if (first < 0) return 0;
    const base = this.dataStart + first * this.pageBytes;
    const g0 = this.stateOff + first * (this.pageBytes >>> MIN_BLOCK_SHIFT);
    const per = size >>> MIN_BLOCK_SHIFT;
    const blocks = spanBytes / size;
    const batch = BATCH[c];
    for (let i = 0; i < spanBytes >>> MIN_BLOCK_SHIFT; i++) {
      // The span is ours; reset every granule (old large-block marks) before publishing it.
      Atomics.store(this.u8, g0 + i, i % per === 0 ? (i / per < batch ? STATE_CACHED + this.slot : STATE_FREE) : STATE_NONE);
    }
    // Publishes the span's class for free(); no block of it has been handed out yet.
    for (let p = first; p < first + pages; p++) Atomics.store(this.i32, this.pageMapWord + p, (c + 1) | (first << 5));
    const headIndex = (CLASS_TABLE_OFF + c * CLASS_ENTRY_BYTES) >>> 3;
    // Highest batches first so the lowest addresses are popped first (predictable layouts).
    for (let b = Math.ceil(blocks / batch) - 1; b >= 1; b--) {
      const lo = b * batch;
      const hi = Math.min(blocks, lo + batch);
      for (let i = lo; i < hi; i++) {
        // Links of a private batch, published by the push CAS.
        Atomics.store(this.i32, (base + i * size) >>> 2, i + 1 < hi ? base + (i + 1) * size : 0);
      }
      pushBatch(this.h64, this.i32, headIndex, base + lo * size, hi - lo);
    }
    const cache = this.caches[c];
    const mine = Math.min(batch, blocks);
    for (let i = 0; i < mine; i++) cache[mine - 1 - i] = base + i * size;
    this.cacheLen[c] = mine;
    return mine;
  }

  /** Moves the `k` oldest cached blocks of class `c` to the shared list; returns the new length. */
  private flush(c: number, k: number): number {
    const cache = this.caches[c];
    const n = this.cacheLen[c];
    for (let i = 0; i < k; i++) {
      const off = cache[i];
      // Back to FREE before the push makes it visible; nobody else may touch a cached block.
      Atomics.store(this.u8, this.stateOff + ((off - this.dataStart) >>> MIN_BLOCK_SHIFT), STATE_FREE);
      // Private link, published by the push CAS.
      Atomics.store(this.i32, off >>> 2, i + 1 < k ? cache[i + 1] : 0);
    }
    pushBatch(this.h64, this.i32, (CLASS_TABLE_OFF + c * CLASS_ENTRY_BYTES) >>> 3, cache[0], k);
    cache.copyWithin(0, k, n);
    this.cacheLen[c] = n - k;
    return n - k;
  }

  private sweepSlot(s: number): number {
    const mark = STATE_CACHED + s;
    const perPage = this.pageBytes >>> MIN_BLOCK_SHIFT;
    const lists: number[][] = Array.from({ length: CLASS_COUNT }, () => []);
    for (let i = 0; i < this.pageCount * perPage; i++) {
      // The owner is dead: a CAS still guards against a caller that reclaims a live thread.
      if (Atomics.load(this.u8, this.stateOff + i) !== mark) continue;
      if (Atomics.compareExchange(this.u8, this.stateOff + i, mark, STATE_FREE) !== mark) continue;
      // Kind of the span, published when it was carved.
      const kind = Atomics.load(this.i32, this.pageMapWord + Math.floor(i / perPage)) & 31;
      lists[kind - 1].push(this.dataStart + i * MIN_BLOCK_BYTES);
    }
    let total = 0;
    for (let c = 0; c < CLASS_COUNT; c++) {
      const l = lists[c];
      for (let at = 0; at < l.length; at += BATCH[c]) {
        const k = Math.min(BATCH[c], l.length - at);
        // Private links, published by the push CAS.
        for (let i = 0; i < k; i++) Atomics.store(this.i32, l[at + i] >>> 2, i + 1 < k ? l[at + i + 1] : 0);
        pushBatch(this.h64, this.i32, (CLASS_TABLE_OFF + c * CLASS_ENTRY_BYTES) >>> 3, l[at], k);
      }
      total += l.length;
    }
    return total;
  }
}
