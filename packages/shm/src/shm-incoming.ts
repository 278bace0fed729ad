/**
 * A message received over shared memory, as the core `Server` consumes it: metadata and staged
 * data read in place, EXPOSE bulks resolved to live views of the sender's bytes.
 */
import type { Bulk, FullPtr, IncomingMessage, Pointer } from '@lightbeam/core';
import { NULL_POINTER, makePointer } from '@lightbeam/core';
import type { ParsedEnvelope } from './envelope.js';
import { ENTRY_NONE as ENTRY_NONE_KIND, ENTRY_SHARED, ENTRY_STAGED, entryKind, entryPointer, entrySize, entryStagedAt } from './envelope.js';
import type { ShmMemory } from './shm-memory.js';

const EMPTY = new Uint8Array(0);

/** A reusable copy buffer for inline envelopes, with its view (made once, not per message). */
export interface InlineCopy {
  /** The bytes. */
  readonly u8: Uint8Array;
  /** A data view of the same bytes. */
  readonly dv: DataView;
}

/** One received envelope; `release()` frees its block (or returns its inline copy to the pool). */
export class ShmIncoming implements IncomingMessage {
  readonly meta: Uint8Array;
  readonly dataCount: number;
  /** Where the last `data(i)` lookup stopped: recvBulks asks for 0, 1, 2... in order. */
  private lastData = -1;
  private lastEntry = -1;
  private released = false;

  /**
   * @param memory - the thread's memory, to resolve shared entries and free the block
   * @param u8 - bytes holding the envelope (a region or an inline copy)
   * @param dv - data view of the same bytes
   * @param env - the validated envelope
   * @param block - the slab block holding the envelope, or `null` for an inline copy
   * @param copy - the inline copy to give back to `pool` on release, or `null`
   * @param pool - where inline copies go back
   */
  constructor(
    private readonly memory: ShmMemory,
    private readonly u8: Uint8Array,
    private readonly dv: DataView,
    private readonly env: ParsedEnvelope,
    private readonly block: Pointer | null,
    private readonly copy: InlineCopy | null,
    private readonly pool: InlineCopy[] | null,
  ) {
    this.meta = u8.subarray(env.metaAt, env.metaAt + env.metaBytes);
    this.dataCount = env.stagedCount;
  }

  data(i: number): Uint8Array {
    // Find the i-th staged entry, continuing from the previous lookup when asked in order.
    let k = this.lastEntry;
    let seen = this.lastData;
    if (i <= seen) {
      k = -1;
      seen = -1;
    }
    const count = this.env.entryCount;
    while (seen < i) {
      // Another thread may have rewritten a block envelope since it was validated: stay in bounds.
      if (++k >= count) return EMPTY;
      if (entryKind(this.dv, this.env, k) === ENTRY_STAGED) seen++;
    }
    this.lastEntry = k;
    this.lastData = seen;
    const at = entryStagedAt(this.dv, this.env, k);
    return this.u8.subarray(at, at + entrySize(this.dv, this.env, k));
  }

  exposed(index: number, bulk: Bulk): FullPtr | null {
    // The metadata and the entry table come from the same sender, but shared memory is writable
    // by every thread: trust only what checks out against the entry and the region bounds.
    if (index >= this.env.entryCount) return null;
    const kind = entryKind(this.dv, this.env, index);
    if (kind === ENTRY_NONE_KIND) return null;
    const size = entrySize(this.dv, this.env, index);
    if (size !== bulk.size) return null;
    if (kind === ENTRY_STAGED) {
      const at = entryStagedAt(this.dv, this.env, index);
      const block = this.block;
      const shm = block === null ? NULL_POINTER : makePointer(block.allocId.major, block.allocId.minor, block.off + (at - this.env.at));
      return { ptr: this.u8.subarray(at, at + size), shm };
    }
    return kind === ENTRY_SHARED ? this.memory.resolve(entryPointer(this.dv, this.env, index), size) : null;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.block !== null) this.memory.free(this.block);
    else if (this.copy !== null && this.pool !== null && this.pool.length < 64) this.pool.push(this.copy);
  }
}
