/**
 * Custom metas the tests share: the C++ acceptance test's request meta, and a producer/sequence
 * meta for ordering tests.
 */
import type { Archive } from '@lightbeam/core';
import { LbmMeta } from '@lightbeam/core';

/** The custom meta of the C++ acceptance test: a request id and an operation name. */
export class RequestMeta extends LbmMeta {
  requestId = 0;
  operation = '';
  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.requestId = ar.i32(this.requestId);
    this.operation = ar.string(this.operation);
  }
}

/** Which producer sent a message, and its sequence number in that producer's stream. */
export class SeqMeta extends LbmMeta {
  producer = 0;
  seq = 0;
  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.producer = ar.i32(this.producer);
    this.seq = ar.i32(this.seq);
  }
}
