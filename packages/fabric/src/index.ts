export { FabricClient } from './fabric-client.js';
export { FabricServer } from './fabric-server.js';
export type { FabricClientOptions, FabricEndpointOptions, FabricServerOptions } from './fabric-options.js';
export {
  DEFAULT_BULK_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FABRIC_LINGER_MS,
  DEFAULT_FABRIC_PROVIDER,
  DEFAULT_IDLE_MAX_US,
  DEFAULT_INLINE_BYTES,
  DEFAULT_META_BYTES,
  DEFAULT_META_SLOTS,
  DEFAULT_SPIN_US,
  DEFAULT_STAGE_KEEP_BYTES,
  resolveProvider,
} from './fabric-options.js';
export type { FabricNode } from './fabric-address.js';
export type { FabricStats } from './fabric-stats.js';
export { fabricNode } from './fabric-address.js';
export type { WireFrame, WireHeader, WireHello, WireRelease } from './wire.js';
export {
  WIRE_FRAME_BYTES,
  WIRE_HEADER_BYTES,
  WIRE_HELLO_MAGIC,
  WIRE_MAGIC,
  WIRE_MAX_FRAMES,
  WIRE_RELEASE_MAGIC,
  decodeHello,
  decodeRelease,
  decodeWire,
  encodeHello,
  encodeRelease,
  encodeWire,
} from './wire.js';
export { fabricAvailable, fabricUnavailableReason, libfabricVersion } from './native.js';
export { fabricProvider, registerFabric } from './register.js';
