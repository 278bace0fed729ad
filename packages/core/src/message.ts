/**
 * The boundary between the transport-independent rules (in `Client`/`Server`) and a transport,
 * which only moves bytes.
 */
import type { Bulk } from './bulk.js';
import type { FullPtr } from './pointer.js';

/** What `Client.send` hands a transport after validation and encoding. */
export interface OutgoingMessage {
  /** The encoded metadata frame (a fresh buffer the transport may keep). */
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
   * For transports that share memory: the bytes of bulk `index` of `send` as this thread can
   * read them (a live view of the sender's memory for an EXPOSE bulk, the staged copy for an XFER
   * bulk, valid until `release()`), or `null` when they stayed on the sender's side.
   */
  exposed?(index: number, bulk: Bulk): FullPtr | null;
  /** Called once, when the message is consumed or dropped; frees whatever the transport held. */
  release(): void;
}
