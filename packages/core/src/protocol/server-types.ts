/** Options and counters of the abstract server. */
import type { ArchiveLimits } from '../archive/archive-limits.js';

/** Options every server accepts. */
export interface ServerOptions {
  /** Decoding limits for incoming metadata (see {@link ArchiveLimits}). */
  limits?: Partial<ArchiveLimits>;
}

/** Counters of a server's life. */
export interface ServerCounters {
  /** Metadata frames decoded successfully. */
  received: number;
  /** Messages dropped because their metadata could not be decoded. */
  malformed: number;
  /** `recvBulks` calls that failed with a frame-count mismatch. */
  mismatched: number;
}
