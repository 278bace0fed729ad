/**
 * The frames one `send` hands to zeromq.js, each one the caller may not touch afterwards:
 * XFER bytes copied (the default, `copyXfer`) or lent as they are (`copyXfer: false`), and bulks
 * sent by move given away. A moved shared-memory block is copied once and freed once the send
 * succeeded (a block is the slab's: it cannot wait for zeromq.js, which says nothing when it is
 * done). A moved plain buffer is not copied: its `ArrayBuffer` is detached from the caller
 * (`structuredClone` with a transfer list keeps the same memory) and the new view goes to
 * zeromq.js, so the caller cannot write into bytes still queued; one Node will not let go of (a
 * SharedArrayBuffer, a slice of Node's shared Buffer pool) is copied instead and stays the caller's.
 */
import type { Bulk, OutgoingMessage, Pointer } from '@lightbeam/core';
import { getPointerResolver, isNullPointer, isXfer } from '@lightbeam/core';
import { sendableCopy } from './frame-copy.js';

/** The frames of one message, and what its moved bulks gave away. */
export interface OutgoingFrames {
  /** Metadata frame, then one frame per XFER bulk. */
  readonly frames: Uint8Array[];
  /** Moved blocks, to free after a successful send; `null` when none was moved. */
  blocks: Pointer[] | null;
  /** Moved plain bulks and a view of their `data.ptr` in the memory it moved to, to give back after a failed send. */
  given: Array<[Bulk, Uint8Array]> | null;
}

/**
 * Builds the frames of `msg`.
 *
 * @param msg - the encoded message; `msg.bulks` describe its send vector
 * @param copyXfer - copy XFER bytes that are not moved
 */
export function outgoingFrames(msg: OutgoingMessage, copyXfer: boolean): OutgoingFrames {
  const xfer = msg.xfer;
  const frames: Uint8Array[] = new Array(xfer.length + 1);
  frames[0] = msg.meta; // fresh from encodeMeta: never reused by the library
  const out: OutgoingFrames = { frames, blocks: null, given: null };
  let k = 0;
  for (let i = 0; i < msg.bulks.length && k < xfer.length; i++) {
    const b = msg.bulks[i];
    if (!isXfer(b.flags)) continue;
    const view = xfer[k];
    if (b.move !== true || b.data === null) frames[++k] = copyXfer ? sendableCopy(view) : view;
    else if (!isNullPointer(b.data.shm)) {
      frames[++k] = sendableCopy(view);
      (out.blocks ??= []).push(b.data.shm);
    } else {
      const ptr = b.data.ptr;
      const [offset, length] = [ptr.byteOffset, ptr.byteLength]; // both read 0 once detached
      const moved = giveAway(view);
      if (moved === null) frames[++k] = sendableCopy(view);
      else {
        frames[++k] = moved;
        (out.given ??= []).push([b, new Uint8Array(moved.buffer, offset, length)]);
      }
    }
  }
  // Bulks that do not describe the frames (sendRaw): the rest as they are, copied by default.
  for (; k < xfer.length; k++) frames[k + 1] = copyXfer ? sendableCopy(xfer[k]) : xfer[k];
  return out;
}

/**
 * After the send: frees the moved blocks when it succeeded; otherwise gives each moved plain
 * bulk its bytes back (`data.ptr` becomes a view of the memory they moved to). Passes `rc` through.
 */
export function settleMoves(out: OutgoingFrames, rc: number): number {
  if (rc === 0) {
    const r = getPointerResolver();
    if (out.blocks !== null) for (const p of out.blocks) r?.free?.(p);
  } else if (out.given !== null) {
    for (const [b, ptr] of out.given) b.data = { ptr, shm: (b.data as NonNullable<Bulk['data']>).shm };
  }
  return rc;
}

/**
 * Detaches the `ArrayBuffer` under `view` from the caller; returns a view of the same bytes in the
 * new one, or `null` when Node keeps the buffer (a SharedArrayBuffer, or a slice of Node's shared
 * Buffer pool, which Node 20 clones instead of transferring and later versions refuse).
 */
function giveAway(view: Uint8Array): Uint8Array | null {
  const ab = view.buffer;
  if (!(ab instanceof ArrayBuffer)) return null;
  const [offset, length] = [view.byteOffset, view.byteLength]; // both read 0 once detached
  let moved: ArrayBuffer;
  try {
    moved = structuredClone(ab, { transfer: [ab] });
  } catch {
    return null;
  }
  // Not detached: Node cloned it (an untransferable pool); the clone is ours, but copying only
  // the view is cheaper than keeping the clone of a whole pool alive in zeromq.js.
  if (ab.byteLength !== 0) return null;
  return new Uint8Array(moved, offset, length);
}
