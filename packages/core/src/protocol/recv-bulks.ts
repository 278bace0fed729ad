/**
 * The second phase of a receive: how a message's data frames land in the receiver's XFER bulks.
 * Kept apart from the server's bookkeeping (which message a meta holds, when it is released).
 */
import type { Bulk } from './bulk.js';
import { isXfer } from './bulk.js';
import type { IncomingMessage } from './message.js';
import { NULL_POINTER } from './pointer.js';

/**
 * Fills the XFER entries of `recv`, in order, from the data frames of `msg` (the caller checked
 * that their counts match). An entry with a buffer gets a copy of the first `size` bytes (a
 * shorter buffer the first bytes that fit, a longer one keeps its tail); an entry without one
 * (`data: null`) gets a view of the frame's first `size` bytes in place.
 */
export function fillRecvBulks(recv: readonly Bulk[], msg: IncomingMessage): void {
  let k = 0;
  for (let i = 0; i < recv.length; i++) {
    const b = recv[i];
    if (!isXfer(b.flags)) continue;
    const src = msg.data(k++);
    const n = Math.min(b.size, src.byteLength);
    if (b.data === null || b.data === undefined) {
      b.data = { ptr: n === src.byteLength ? src : src.subarray(0, n), shm: NULL_POINTER };
      continue;
    }
    const dst = b.data.ptr;
    const c = Math.min(n, dst.byteLength);
    dst.set(c === src.byteLength ? src : src.subarray(0, c));
  }
}
