/**
 * The plain types an endpoint is opened with and hands back for its receives and reads.
 */

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

/** How an endpoint is opened. */
export interface EndpointInit {
  provider: string;
  node: string | undefined;
  service: string | undefined;
  server: boolean;
  metaBytes: number;
  metaSlots: number;
  spinUs: number;
  idleMaxUs: number;
  /** Bytes of released staging buffers kept for reuse. */
  stageKeepBytes?: number;
}
