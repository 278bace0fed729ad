/**
 * A message received over shared memory, as the core `Server` consumes it: metadata and staged
 * data read in place, EXPOSE bulks resolved to live views of the sender's bytes.
 */
import type { Bulk, FullPtr, IncomingMessage, Pointer } from '@lightbeam/core';
import { NULL_POINTER, makePointer } from '@lightbeam/core';
import type { ParsedEnvelope } from './envelope.js';
import { ENTRY_SHARED, ENTRY_STAGED, entryKind, entryPointer, entrySize, entryStaged } from './envelope.js';
import type { ShmMemory } from './shm-memory.js';

/** One received envelope; `release()` frees its block (or returns its inline copy to the pool). */
export class ShmIncoming implements IncomingMessage {
  readonly meta: Uint8Array;
  readonly dataCount: number;
  private staged: number[] | null = null;
  private released = false;

  /**
   * @param memory - the thread's memory, to resolve shared entries and free the block
   * @param u8 - bytes holding the envelope (a region or an inline copy)
   * @param dv - data view of the same bytes
   * @param env - the validated envelope
   * @param block - the slab block holding the envelope, or `null` for an inline copy
   * @param onRelease - gives an inline copy back to its pool
   */
  constructor(
    private readonly memory: ShmMemory,
    private readonly u8: Uint8Array,
    private readonly dv: DataView,
    private readonly env: ParsedEnvelope,
    private readonly block: Pointer | null,
    private readonly onRelease: ((u8: Uint8Array) => void) | null,
  ) {
    this.meta = u8.subarray(env.metaAt, env.metaAt + env.metaBytes);
    this.dataCount = env.stagedCount;
  }

  data(i: number): Uint8Array {
    let staged = this.staged;
    if (staged === null) {
      staged = [];
      for (let k = 0; k < this.env.entryCount; k++) if (entryKind(this.dv, this.env, k) === ENTRY_STAGED) staged.push(k);
      this.staged = staged;
    }
    const [at, size] = entryStaged(this.dv, this.env, staged[i]);
    return this.u8.subarray(at, at + size);
  }

  exposed(index: number, bulk: Bulk): FullPtr | null {
    // The metadata and the entry table come from the same sender, but shared memory is writable
    // by every thread: trust only what checks out against the entry and the region bounds.
    if (index >= this.env.entryCount) return null;
    const kind = entryKind(this.dv, this.env, index);
    if (kind === ENTRY_STAGED) {
      const [at, size] = entryStaged(this.dv, this.env, index);
      if (size !== bulk.size) return null;
      const shm = this.block === null ? NULL_POINTER : makePointer(this.block.allocId.major, this.block.allocId.minor, this.block.off + (at - this.env.at));
      return { ptr: this.u8.subarray(at, at + size), shm };
    }
    if (kind !== ENTRY_SHARED) return null;
    const size = entrySize(this.dv, this.env, index);
    if (size !== bulk.size) return null;
    return this.memory.resolve(entryPointer(this.dv, this.env, index), size);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.block !== null) this.memory.free(this.block);
    else if (this.onRelease !== null) this.onRelease(this.u8);
  }
}
