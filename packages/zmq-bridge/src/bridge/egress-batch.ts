/**
 * The egress's batch: the messages one wake-up drained from a served channel, encoded as one
 * routed batch (route-batch.ts) and handed to zeromq.js as one multipart message.
 *
 * Copies, and why each is there: frame 0 gets the metadata and the small XFER data (one copy of
 * a few bytes; zeromq.js copies a frame of up to 128 bytes itself, so a frame 0 that small is a
 * reused buffer). A larger XFER bulk is copied out of the slab into a buffer of its own: zeromq.js
 * sends frames over 128 bytes by reference and lets go of them on its I/O thread, later, with no
 * JavaScript event (zeromq.js src/outgoing_msg.cc: the reference is dropped on the main thread by
 * an async handle, unobservable but through the garbage collector). Freeing the slab block then
 * could only follow a GC (`FinalizationRegistry`), whose timing is unbounded; so the bytes are
 * copied, and every message is released (its slab memory freed) before the batch is sent.
 */
import type { IncomingMessage } from '@lightbeam/core';
import { sendCopy } from '../zmq/send-copy.js';
import { BATCH_INLINE_MAX, MAX_BATCH_MESSAGES, xferSizesOf } from './route-batch.js';

/** Frame 0 bytes after which a batch takes no more messages (one message always fits). */
export const BATCH_FRAME0_SOFT_MAX = 64 * 1024;
/** Copied large-frame bytes after which a batch takes no more messages. */
export const BATCH_LARGE_SOFT_MAX = 1024 * 1024;
/** zeromq.js copies frames up to this size when `send` is called (zero_copy_threshold). */
const ZMQ_COPIES_UP_TO = 128;

/** Messages drained from one channel, waiting to be encoded and sent together. */
export class EgressBatch {
  private readonly msgs: IncomingMessage[] = [];
  private readonly metas: Uint8Array[] = [];
  private readonly sizes: number[] = [];
  private frame0Bytes: number;
  private largeBytes = 0;
  /** Frame 0 when it is small enough for zeromq.js to copy: reused for every such batch. */
  private readonly small = new Uint8Array(ZMQ_COPIES_UP_TO);
  /** Payload bytes (metadata + XFER data) of the messages taken. */
  bytes = 0;

  /** @param head - the channel's version-2 header (encodeBatchHead) */
  constructor(private readonly head: Uint8Array) {
    this.frame0Bytes = head.byteLength + 8;
  }

  /** Messages taken since the last encode. */
  get count(): number {
    return this.msgs.length;
  }

  /** Whether another message may join. */
  get room(): boolean {
    return this.msgs.length < MAX_BATCH_MESSAGES && this.frame0Bytes < BATCH_FRAME0_SOFT_MAX && this.largeBytes < BATCH_LARGE_SOFT_MAX;
  }

  /**
   * Takes `msg` into the batch (it is released by {@link EgressBatch.encode}), or refuses it when
   * its data frames do not match the XFER bulks its metadata declares (the caller releases it).
   */
  add(msg: IncomingMessage): boolean {
    const meta = msg.meta;
    const sizes = this.sizes;
    if (!xferSizesOf(meta, sizes) || sizes.length !== msg.dataCount) return false;
    let inline = 0;
    let large = 0;
    for (let i = 0; i < sizes.length; i++) {
      if (msg.data(i).byteLength !== sizes[i]) return false;
      if (sizes[i] <= BATCH_INLINE_MAX) inline += sizes[i];
      else large += sizes[i];
    }
    this.msgs.push(msg);
    this.metas.push(meta);
    this.frame0Bytes += 4 + meta.byteLength + inline;
    this.largeBytes += large;
    this.bytes += meta.byteLength + inline + large;
    return true;
  }

  /**
   * Encodes the batch, releases every message in it, and starts a new one.
   *
   * @returns the frames of one ZeroMQ message: frame 0, then a copy of each large XFER bulk
   */
  encode(): Uint8Array[] {
    const n = this.msgs.length;
    const len = this.frame0Bytes;
    const frame0 = len <= ZMQ_COPIES_UP_TO ? this.small.subarray(0, len) : Buffer.allocUnsafe(len);
    const dv = new DataView(frame0.buffer, frame0.byteOffset, len);
    const frames: Uint8Array[] = [frame0];
    frame0.set(this.head, 0);
    let p = this.head.byteLength;
    dv.setUint32(p, n, true);
    dv.setUint32(p + 4, BATCH_INLINE_MAX, true);
    p += 8;
    try {
      for (let m = 0; m < n; m++) {
        const msg = this.msgs[m];
        const meta = this.metas[m];
        dv.setUint32(p, meta.byteLength, true);
        frame0.set(meta, p + 4);
        p += 4 + meta.byteLength;
        for (let i = 0; i < msg.dataCount; i++) {
          const d = msg.data(i);
          if (d.byteLength <= BATCH_INLINE_MAX) {
            frame0.set(d, p);
            p += d.byteLength;
          } else {
            // Reused memory where the send-copy helper is loaded: a fresh megabyte's page faults
            // cost more than the copy; zeromq.js holds the frame until its I/O thread wrote it.
            frames.push(sendCopy(d));
          }
        }
      }
    } finally {
      // Sent or not, the batch gives its messages back: the frames hold copies.
      this.discard();
    }
    return frames;
  }

  /** Releases every message taken without sending it; returns how many there were. */
  discard(): number {
    const n = this.msgs.length;
    for (let m = 0; m < n; m++) this.msgs[m].release();
    this.msgs.length = 0;
    this.metas.length = 0;
    this.frame0Bytes = this.head.byteLength + 8;
    this.largeBytes = 0;
    this.bytes = 0;
    return n;
  }
}
