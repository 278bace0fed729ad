/**
 * What a lost peer looks like on libfabric: the errnos its operations complete with. Both sides
 * report any of them as `ECONNRESET`, the code the API promises for a lost peer.
 */

/**
 * Errors an operation completes with when its peer's connection is gone (ENOTCONN, ECONNRESET,
 * ECONNREFUSED, EPIPE, ECONNABORTED, EHOSTUNREACH, and the provider's own ETIMEDOUT and
 * ECANCELED: tcp;ofi_rxm cancels what was posted on a connection it lost). Only completions are
 * looked up here: a caller's own deadline and cancels never pass through this set.
 */
export const PEER_GONE = new Set([107, 104, 111, 32, 103, 113, 110, 125]);
