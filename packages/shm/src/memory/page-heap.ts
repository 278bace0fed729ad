/**
 * The page heap: a bitmap of pages (1 = used) inside the region. Claiming a run sets its bits
 * word by word with `Atomics.or` and rolls back if another thread got a bit first, so it is
 * lock-free and a thread that dies mid-claim can at worst leak the pages it was claiming; it
 * never leaves anything locked. Free neighbours merge by construction: releasing a run clears
 * its bits and the next search sees one longer run of zero bits.
 */
import { H } from './slab-layout.js';

/** Claims `n` contiguous free pages, first fit. Returns the first page index or -1. */
export function claimPages(i32: Int32Array, bitmapWord: number, pageCount: number, n: number): number {
  // Each failed claim means another thread claimed pages meanwhile: bounded by real progress.
  for (let attempt = 0; attempt < 64; attempt++) {
    const start = findRun(i32, bitmapWord, pageCount, n);
    if (start < 0) return -1;
    if (tryClaim(i32, bitmapWord, start, n)) {
      // Footprint accounting; the high-water mark is a CAS max so racing claims keep the largest.
      const used = Atomics.add(i32, H.pagesUsed, n) + n;
      let hw = Atomics.load(i32, H.highWaterPages);
      while (used > hw) {
        const seen = Atomics.compareExchange(i32, H.highWaterPages, hw, used);
        if (seen === hw) break;
        hw = seen;
      }
      return start;
    }
  }
  return -1;
}

/** Releases `n` pages starting at `start` (the caller owns them). */
export function releasePages(i32: Int32Array, bitmapWord: number, start: number, n: number): void {
  releaseBits(i32, bitmapWord, start, n);
  // Footprint accounting only; nothing is ordered after it.
  Atomics.sub(i32, H.pagesUsed, n);
}

function findRun(i32: Int32Array, bitmapWord: number, pageCount: number, n: number): number {
  let run = 0;
  for (let p = 0; p < pageCount; ) {
    // A snapshot is enough: the claim below re-checks every bit atomically.
    const w = Atomics.load(i32, bitmapWord + (p >>> 5));
    if ((p & 31) === 0 && w === -1) {
      run = 0;
      p += 32;
      continue;
    }
    if ((w & (1 << (p & 31))) === 0) {
      if (++run === n) return p - n + 1;
    } else {
      run = 0;
    }
    p++;
  }
  return -1;
}

function tryClaim(i32: Int32Array, bitmapWord: number, start: number, n: number): boolean {
  for (let p = start; p < start + n; ) {
    const bit = p & 31;
    const take = Math.min(32 - bit, start + n - p);
    const mask = take === 32 ? -1 : ((1 << take) - 1) << bit;
    // Setting the bits and reading their old values is one atomic step: bits that were already
    // set belong to another thread, so we keep only the ones we turned on.
    const old = Atomics.or(i32, bitmapWord + (p >>> 5), mask);
    if ((old & mask) !== 0) {
      // Give back exactly the bits this call set, in this word and the words before it.
      Atomics.and(i32, bitmapWord + (p >>> 5), ~(mask & ~old));
      if (p > start) releaseBits(i32, bitmapWord, start, p - start);
      return false;
    }
    p += take;
  }
  return true;
}

function releaseBits(i32: Int32Array, bitmapWord: number, start: number, n: number): void {
  for (let p = start; p < start + n; ) {
    const bit = p & 31;
    const take = Math.min(32 - bit, start + n - p);
    const mask = take === 32 ? -1 : ((1 << take) - 1) << bit;
    // Clearing only bits this thread owns publishes those pages as free to every searching thread.
    Atomics.and(i32, bitmapWord + (p >>> 5), ~mask);
    p += take;
  }
}

/** The longest run of free pages (a racy snapshot, exact when no thread claims or releases meanwhile). */
export function longestFreeRun(i32: Int32Array, bitmapWord: number, pageCount: number): number {
  let best = 0;
  let run = 0;
  for (let p = 0; p < pageCount; p++) {
    // A snapshot of the bitmap word: statistics only.
    if ((Atomics.load(i32, bitmapWord + (p >>> 5)) & (1 << (p & 31))) === 0) {
      if (++run > best) best = run;
    } else {
      run = 0;
    }
  }
  return best;
}
