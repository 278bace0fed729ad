/**
 * The bridge's counters: what went through, what was dropped and why.
 */

/** Counters of the egress (local channels towards the peer). */
export interface EgressStats {
  /** Messages taken from the local channels. */
  received: number;
  /** Messages queued towards the peer (handed to ZeroMQ). */
  forwarded: number;
  /** Payload bytes (metadata + XFER data) of the forwarded messages. */
  bytes: number;
  /** Messages reported undelivered (high-water mark reached past the timeout, closed). */
  undelivered: number;
  /** Slots of the local channels that held no readable message (corrupt or undeliverable envelopes). */
  malformed: number;
}

/** Counters of the ingress (the peer towards local channels). */
export interface IngressStats {
  /** ZeroMQ messages received (a batch counts once per record). */
  received: number;
  /** Messages delivered into a local channel. */
  delivered: number;
  /** Payload bytes (metadata + XFER data) of the delivered messages. */
  bytes: number;
  /** Messages dropped because their routing frame or metadata could not be decoded. */
  malformed: number;
  /** Messages dropped because their XFER bulks did not match their data frames (count or size). */
  mismatched: number;
  /** Messages dropped because they named no accepted channel (or had no route and no default channel). */
  unroutable: number;
  /** Well-formed messages the local channel did not take in time (ring full, no server, no memory). */
  undelivered: number;
  /**
   * Well-formed messages dropped on arrival because their channel had no live server and its
   * queue was full (or every channel queue was busy); see `BridgeOptions.ingressQueue`.
   */
  dropped: number;
}

/** Everything `bridge.stats()` returns. */
export interface BridgeStats {
  /** Egress counters (zeros when the bridge has no peer). */
  egress: EgressStats;
  /** Ingress counters (zeros when the bridge has no listen address). */
  ingress: IngressStats;
  /** Undelivered messages by return code (both directions), e.g. `{ "110": 3 }` for ETIMEDOUT. */
  undeliveredByCode: Record<string, number>;
}

/** Fresh egress counters. */
export function newEgressStats(): EgressStats {
  return { received: 0, forwarded: 0, bytes: 0, undelivered: 0, malformed: 0 };
}

/** Fresh ingress counters. */
export function newIngressStats(): IngressStats {
  return { received: 0, delivered: 0, bytes: 0, malformed: 0, mismatched: 0, unroutable: 0, undelivered: 0, dropped: 0 };
}
