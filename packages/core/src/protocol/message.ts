/**
 * The boundary between the transport-independent rules (in `Client`/`Server`) and a transport,
 * which only moves bytes.
 */
import type { Bulk } from './bulk.js';
import type { ArchiveLimits } from '../archive/archive-limits.js';
import type { LbmMeta } from './lbm-meta.js';
import type { FullPtr } from './pointer.js';

/** What `Client.send` hands a transport after validation and encoding. */
export interface OutgoingMessage {
  /** The encoded metadata frame (a buffer no later encode overwrites, so the transport may keep it). */
  readonly meta: Uint8Array;
  /** The data of each XFER bulk of `send`, in order, each exactly `size` bytes. */
  readonly xfer: readonly Uint8Array[];
  /** Every bulk of `send` (a shared-memory transport passes EXPOSE bulks by pointer). */
  readonly bulks: readonly Bulk[];
}

/** A message a transport received, before decoding. */
export interface IncomingMessage {
  /** Frame 0: the metadata. */
  readonly meta: Uint8Array;
  /** How many data frames follow the metadata. */
  readonly dataCount: number;
  /**
   * The `i`-th data frame. Valid until `release()`.
   * @param i - index among the data frames
   */
  data(i: number): Uint8Array;
  /**
   * For transports that carry descriptors in a form of their own (shared memory): fills `meta`
   * from the message instead of decoding {@link IncomingMessage.meta}, with the rules of
   * `decodeMeta` (send and recv vectors from the sender, custom fields, `-1` on malformed input
   * with `send` and `recv` untouched), and fills `meta.send[i].data` with the bytes this thread
   * can read in place (a live view of the sender's memory for an EXPOSE bulk, the staged copy for
   * an XFER bulk, valid until `release()`), or `null` when they stayed on the sender's side.
   * The `Bulk` objects and vectors may be reused from the previous receive into `meta`.
   *
   * @param meta - the object to fill
   * @param limits - decoding limits
   * @returns `0` or `-1`
   */
  decodeInto?(meta: LbmMeta, limits: ArchiveLimits): number;
  /**
   * For transports that move blocks (shared memory): detaches the moved block of `send` bulk
   * `index` from the message, so `release()` does not free it, and returns it; the caller owns it.
   *
   * @param index - index into the send vector
   * @returns the block, or `null` when that bulk was not moved (or was taken already)
   */
  take?(index: number): FullPtr | null;
  /** Called once, when the message is consumed or dropped; frees whatever the transport held. */
  release(): void;
}
