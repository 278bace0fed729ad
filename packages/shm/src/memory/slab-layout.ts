/**
 * Byte layout of a slab region: everything the allocator knows lives in the SharedArrayBuffer,
 * so any thread that holds the buffer can attach without initialising anything.
 *
 * Region header (offset 0, all little-endian i32 unless noted):
 *
 * | offset | size | field              | who writes it                                        |
 * |-------:|-----:|--------------------|------------------------------------------------------|
 * |      0 |    4 | magic `0x4C42534C` | creator, once, last (publishes the initialised region) |
 * |      4 |    4 | layout version (1) | creator, once                                        |
 * |      8 |    4 | region bytes       | creator, once                                        |
 * |     12 |    4 | page bytes         | creator, once                                        |
 * |     16 |    4 | page count         | creator, once                                        |
 * |     20 |    4 | data start (page 0)| creator, once                                        |
 * |     24 |    4 | bitmap offset      | creator, once                                        |
 * |     28 |    4 | page map offset    | creator, once                                        |
 * |     32 |    4 | large-run offset   | creator, once                                        |
 * |     36 |    4 | state table offset | creator, once                                        |
 * |     40 |    4 | slot table offset  | creator, once                                        |
 * |     44 |    4 | slot count         | creator, once                                        |
 * |     48 |    4 | allocator major    | creator, once                                        |
 * |     52 |    4 | allocator minor    | creator, once                                        |
 * |     56 |    4 | pages in use       | any thread, `Atomics.add` on page claim/release      |
 * |     60 |    4 | high-water pages   | any thread, `Atomics.compareExchange` max            |
 * | 64-127 |   64 | reserved (zero)    | -                                                    |
 * |    128 | 16×15| class table        | see below                                            |
 *
 * Class table entry `c` at `128 + 16c` (class `c` holds blocks of `64 << c` bytes):
 *
 * | +0 | 8 | free-list head: u64 = first block offset (low 32) + ABA tag (high 32) | any thread, CAS |
 * | +8 | 8 | reserved (zero) | - |
 *
 * Then, each 8-byte aligned: the page bitmap (1 bit per page, 1 = used; any thread, `Atomics.or`
 * / `Atomics.and`), the page map (i32 per page: bits 0-4 kind = 0 free, 1..15 class + 1, 16
 * large; bits 5-31 first page of the span; written by the thread that claimed the span), the
 * large-run table (i32 per page: page count of a large block starting there), the slot table
 * (`slotCount` × 64 bytes: +0 owner thread id + 1, 0 = free slot, claimed by CAS, released by
 * the owner's `detach` or by `reclaimThread`; +4..63 reserved), the state table (u8 per
 * 64-byte granule of the data area, see `STATE_*`), and at `dataStart` (page aligned) the pages.
 *
 * A free block holds its links in its first 12 bytes: +0 next block of the same batch (0 = last),
 * +4 next batch (first block of a batch only), +8 blocks in the batch (first block only).
 */

/** Magic number at offset 0 ('LBSL'). */
export const SLAB_MAGIC = 0x4c42534c;
/** Layout version at offset 4. */
export const SLAB_VERSION = 1;
/** Smallest size class and the state-table granule, in bytes (multiple of 8 so Float64Array views work). */
export const MIN_BLOCK_BYTES = 64;
/** log2 of {@link MIN_BLOCK_BYTES}. */
export const MIN_BLOCK_SHIFT = 6;
/** Number of size classes: 64 B .. 1 MiB, powers of two. */
export const CLASS_COUNT = 15;
/** Largest size-class block; larger requests take whole pages from the page heap. */
export const MAX_CLASS_BYTES = MIN_BLOCK_BYTES << (CLASS_COUNT - 1);
/** Largest region a slab allocator accepts (offsets stay positive i32). */
export const MAX_REGION_BYTES = 2 ** 30;
/** Byte offset of the class table. */
export const CLASS_TABLE_OFF = 128;
/** Bytes per class table entry. */
export const CLASS_ENTRY_BYTES = 16;
/** Bytes per thread slot. */
export const SLOT_BYTES = 64;
/** Page-map kind of a large block's pages. */
export const KIND_LARGE = 16;

/** State byte: not a block start (interior, metadata or a free page). */
export const STATE_NONE = 0;
/** State byte: an allocated block starts here. */
export const STATE_ALLOCATED = 1;
/** State byte: a free block in the shared free list starts here. */
export const STATE_FREE = 2;
/** State byte: a freed large block started here (keeps a second free detectable). */
export const STATE_FREED_LARGE = 3;
/** State byte: base of "free, held in the cache of thread slot s" (`STATE_CACHED + s`). */
export const STATE_CACHED = 4;

/** Header i32 indexes. */
export const H = {
  magic: 0,
  version: 1,
  regionBytes: 2,
  pageBytes: 3,
  pageCount: 4,
  dataStart: 5,
  bitmapOff: 6,
  pageMapOff: 7,
  largeOff: 8,
  stateOff: 9,
  slotsOff: 10,
  slotCount: 11,
  major: 12,
  minor: 13,
  pagesUsed: 14,
  highWaterPages: 15,
} as const;

/** Where each table lives for a region of a given size. */
export interface SlabGeometry {
  /** Bytes per page. */
  pageBytes: number;
  /** Pages in the data area. */
  pageCount: number;
  /** Offset of page 0. */
  dataStart: number;
  /** Offset of the page bitmap. */
  bitmapOff: number;
  /** Offset of the page map. */
  pageMapOff: number;
  /** Offset of the large-run table. */
  largeOff: number;
  /** Offset of the slot table. */
  slotsOff: number;
  /** Offset of the state table. */
  stateOff: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Computes the table offsets for a region: the largest page count whose tables and pages fit.
 *
 * @param regionBytes - total bytes of the SharedArrayBuffer
 * @param pageBytes - bytes per page (power of two, at least 4096)
 * @param slotCount - thread slots
 */
export function computeGeometry(regionBytes: number, pageBytes: number, slotCount: number): SlabGeometry {
  const fixed = CLASS_TABLE_OFF + CLASS_COUNT * CLASS_ENTRY_BYTES;
  let pageCount = Math.floor(regionBytes / pageBytes);
  for (; pageCount > 0; pageCount--) {
    const bitmapOff = align(fixed, 8);
    const pageMapOff = align(bitmapOff + Math.ceil(pageCount / 32) * 4, 8);
    const largeOff = pageMapOff + pageCount * 4;
    const slotsOff = align(largeOff + pageCount * 4, 8);
    const stateOff = slotsOff + slotCount * SLOT_BYTES;
    const dataStart = align(stateOff + (pageCount * pageBytes) / MIN_BLOCK_BYTES, pageBytes);
    if (dataStart + pageCount * pageBytes <= regionBytes) {
      return { pageBytes, pageCount, dataStart, bitmapOff, pageMapOff, largeOff, slotsOff, stateOff };
    }
  }
  return { pageBytes, pageCount: 0, dataStart: regionBytes, bitmapOff: 0, pageMapOff: 0, largeOff: 0, slotsOff: 0, stateOff: 0 };
}

/** Size class index for a request of `size` bytes (1 .. {@link MAX_CLASS_BYTES}). */
export function classOf(size: number): number {
  return size <= MIN_BLOCK_BYTES ? 0 : 32 - Math.clz32(size - 1) - MIN_BLOCK_SHIFT;
}
