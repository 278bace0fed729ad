/** The RPC tests' one-number message. */
import type { Archive } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';

/** A meta carrying one i32 custom field, `n`. */
export class NumMeta extends LbmMeta {
  n = 0;
  override serialize(ar: Archive): void {
    this.n = ar.i32(this.n);
  }
}
