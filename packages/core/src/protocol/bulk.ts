/**
 * Bulk descriptors: what a message says about each piece of data it refers to.
 */
import type { FullPtr, Pointer } from './pointer.js';
import { fullPtrFromPointer, fullPtrFromView } from './pointer.js';

/** The bulk is described (size, flags) but its data is not transmitted; over shared memory it is shared in place. */
export const BULK_EXPOSE = 1;
/** The bulk's data is transmitted, and received by `recvBulks`. */
export const BULK_XFER = 2;
/** Every flag bit a sender may set. */
export const BULK_FLAGS_MASK = BULK_EXPOSE | BULK_XFER;

/** Describes one memory region of a message. */
export interface Bulk {
  /** The bytes, or `null` when only the descriptor is known (e.g. a non-XFER bulk from a remote peer). */
  data: FullPtr | null;
  /** Size in bytes. */
  size: number;
  /** `BULK_EXPOSE`, `BULK_XFER`, or both; from a peer, any bits as they arrived. */
  flags: number;
  /**
   * Send side, BULK_XFER only: hand the bytes over instead of copying them. `data` must be the
   * start of a shared-memory block (from `MemoryManager.allocate`), or, over ZeroMQ, a view of a
   * plain `ArrayBuffer`. Once `send` resolves `0` the bytes are no longer the sender's: over
   * shared memory the receiver gets the block without a copy and it is freed when the receiver
   * releases the message (or kept by `Server.take`); over ZeroMQ a block is copied once and freed
   * at once (zeromq.js gives no sign of when it is done with memory it was handed), and a plain
   * buffer goes to zeromq.js without a copy: `send` detaches its whole `ArrayBuffer` (every view
   * of it then has length 0; one Node keeps, a slice of its shared Buffer pool, is copied instead
   * and stays the sender's). On any other result the sender still owns a block; a detached
   * buffer's bytes are then in `data.ptr`, a new view. Never on the wire.
   */
  move?: boolean;
  /** Reserved for RDMA memory registration descriptors. */
  desc?: unknown;
  /** Reserved for RDMA memory region handles. */
  mr?: unknown;
}

/** True when a bulk with these flags is transmitted: `(flags & BULK_XFER) !== 0`, as in C++. */
export function isXfer(flags: number): boolean {
  return (flags & BULK_XFER) !== 0;
}

/** What `expose` accepts: a view (any ArrayBuffer or SharedArrayBuffer), a `Pointer`, or a `FullPtr`. */
export type ExposeSource = Uint8Array | Pointer | FullPtr;

function isFullPtr(x: object): x is FullPtr {
  return 'ptr' in x && 'shm' in x;
}

/**
 * Builds a bulk descriptor: no copy, no registration. A plain view inside a registered shared
 * region still finds its `Pointer` (containment), as `FullPtr(T*)` does in C++.
 *
 * @param data - the bytes
 * @param size - how many bytes, at most the view's length
 * @param flags - `BULK_EXPOSE`, `BULK_XFER` or both
 * @throws TypeError/RangeError naming the argument for a bad size or data
 */
export function expose(data: ExposeSource, size: number, flags: number): Bulk {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`expose size must be a non-negative safe integer, got ${size}`);
  }
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new RangeError(`expose flags must be a u32, got ${flags}`);
  }
  let full: FullPtr;
  if (data instanceof Uint8Array) {
    full = fullPtrFromView(data);
  } else if (data !== null && typeof data === 'object' && isFullPtr(data)) {
    full = data;
  } else if (data !== null && typeof data === 'object' && 'allocId' in data && 'off' in data) {
    full = fullPtrFromPointer(data, size);
  } else {
    throw new TypeError(`expose data must be a Uint8Array, Pointer or FullPtr, got ${typeof data}`);
  }
  if (size > full.ptr.byteLength) {
    throw new RangeError(`expose size ${size} exceeds the ${full.ptr.byteLength}-byte view`);
  }
  return { data: full, size, flags };
}
