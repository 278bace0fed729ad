/**
 * The plain types an endpoint is opened with and hands back for its receives and reads.
 */
import type { NativeEndpointOptions } from './native.js';

/** A completed tagged receive: `err` 0 or an errno, `len` bytes, `buf` when the endpoint allocated it. */
export interface RecvDone {
  err: number;
  len: number;
  buf: Uint8Array | undefined;
}

/** A posted read: its id, its completion, and that completion already when it came back at once. */
export interface PostedRead {
  id: number;
  done: Promise<RecvDone>;
  /** Set when the completion arrived before `read` returned (shm reads copy inside the post). */
  result: RecvDone | undefined;
}

/** How an endpoint is opened: the addon's options less the completion callback, which the endpoint supplies. */
export type EndpointInit = Omit<NativeEndpointOptions, 'onEvents'>;
