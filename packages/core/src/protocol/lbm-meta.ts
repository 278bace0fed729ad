/**
 * Message metadata: the sender's bulk descriptors, the receiver's bulk descriptors, and any
 * custom fields a subclass declares in `serialize`.
 */
import type { Archive, Serializable } from '../archive/archive.js';
import type { Bulk } from './bulk.js';

/**
 * Base metadata, `hshm::lbm::LbmMeta`. Subclass it and override {@link LbmMeta.serialize} to add
 * custom fields; the `send` and `recv` vectors are always written first.
 *
 * @example
 * ```ts
 * class RequestMeta extends LbmMeta {
 *   requestId = 0;
 *   operation = '';
 *   override serialize(ar: Archive): void {
 *     super.serialize(ar);
 *     this.requestId = ar.i32(this.requestId);
 *     this.operation = ar.string(this.operation);
 *   }
 * }
 * ```
 */
export class LbmMeta implements Serializable {
  /** Sender's bulks (any flags); after `recvMetadata`, the descriptors from the wire. */
  send: Bulk[] = [];
  /** Receiver's bulks: local buffers, flags copied from `send`; only XFER entries receive data. */
  recv: Bulk[] = [];

  /** Declares custom fields after the base vectors; the base class declares none. */
  serialize(_ar: Archive): void {}
}
