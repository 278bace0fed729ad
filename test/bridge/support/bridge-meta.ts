/**
 * Messages the bridge tests send: a custom meta with a sequence number and a checksum of the XFER
 * payload, plus seeded payloads, so every message can be verified on arrival. The same module
 * serves the worker fixtures, so both sides encode and check messages identically.
 */
export { SeqMeta, fnv1a, payload } from '../../fixtures/bridge/seq-meta.mjs';
