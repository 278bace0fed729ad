/**
 * Shared free lists: one Treiber stack of *batches* per size class, head in the class table as
 * a u64 (block offset in the low 32 bits, ABA tag in the high 32). Moving a whole batch costs
 * one compare-exchange, so threads touch the shared head once per batch, not per block.
 *
 * Lock-free: a thread that dies between steps leaves the head consistent (every change is one
 * CAS); at worst the batch it had just popped is lost with it.
 */

const LOW32 = 0xffffffffn;

/**
 * Pops the top batch of a class list.
 *
 * @param h64 - BigUint64Array over the region
 * @param i32 - Int32Array over the region
 * @param headIndex - index of the head in `h64`
 * @returns offset of the batch's first block, or 0 when the list is empty
 */
export function popBatch(h64: BigUint64Array, i32: Int32Array, headIndex: number): number {
  for (;;) {
    // Acquire the head; the tag makes a stale (ABA) value fail the CAS below.
    const h = Atomics.load(h64, headIndex);
    const off = Number(h & LOW32);
    if (off === 0) return 0;
    // May read a block another thread already took: harmless, the CAS then fails on the tag.
    const next = Atomics.load(i32, (off >>> 2) + 1);
    const nh = (BigInt(next >>> 0) | (((h >> 32n) + 1n) << 32n)) & 0xffffffffffffffffn;
    // Publishes the new top; success makes this thread the batch's sole owner.
    if (Atomics.compareExchange(h64, headIndex, h, nh) === h) return off;
  }
}

/**
 * Pushes a batch whose blocks are already chained through their first word.
 *
 * @param first - offset of the batch's first block
 * @param count - blocks in the batch
 */
export function pushBatch(h64: BigUint64Array, i32: Int32Array, headIndex: number, first: number, count: number): void {
  // The count is read only by whoever pops this batch, after the CAS below publishes it.
  Atomics.store(i32, (first >>> 2) + 2, count);
  for (;;) {
    // Acquire the current top to link under our batch.
    const h = Atomics.load(h64, headIndex);
    // Link to the current top before publishing; a failed CAS retries with the fresh top.
    Atomics.store(i32, (first >>> 2) + 1, Number(h & LOW32));
    const nh = (BigInt(first) | (((h >> 32n) + 1n) << 32n)) & 0xffffffffffffffffn;
    // Publishes the batch (and its links, ordered before by seq-cst) to every thread.
    if (Atomics.compareExchange(h64, headIndex, h, nh) === h) return;
  }
}
