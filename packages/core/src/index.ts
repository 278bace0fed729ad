export { Archive } from './archive/archive.js';
export { MalformedError, BULK_DESCRIPTOR_BYTES, SIZE_TAG_BYTES } from './archive/wire-bytes.js';
export type { ArchiveLimits } from './archive/archive-limits.js';
export { DEFAULT_ARCHIVE_LIMITS, resolveLimits } from './archive/archive-limits.js';
export type { Bulk, ExposeSource } from './protocol/bulk.js';
export { BULK_EXPOSE, BULK_XFER, BULK_FLAGS_MASK, expose, isXfer } from './protocol/bulk.js';
export type { SendOptions } from './protocol/client.js';
export { Client } from './protocol/client.js';
export type { Serializable } from './archive/archive.js';
export { LbmMeta } from './protocol/lbm-meta.js';
export type { LightbeamErrorCode, LightbeamErrorOptions } from './protocol/lightbeam-error.js';
export { ERROR_CODES, LightbeamError } from './protocol/lightbeam-error.js';
export type { IncomingMessage, OutgoingMessage } from './protocol/message.js';
export type { EncodedFields } from './archive/meta-codec.js';
export { decodeCustomFields, decodeMeta, encodeCustomFields, encodeMeta, encodeMetaWith, hasCustomFields } from './archive/meta-codec.js';
export type { AllocatorId, FullPtr, Pointer, PointerResolver } from './protocol/pointer.js';
export {
  NULL_ALLOCATOR_ID,
  NULL_POINTER,
  POINTER_BYTES,
  fullPtrFromPointer,
  fullPtrFromView,
  getPointerResolver,
  isNullPointer,
  makePointer,
  pointerEquals,
  readPointer,
  setPointerResolver,
  writePointer,
} from './protocol/pointer.js';
export {
  EADDRINUSE,
  EAGAIN,
  ECANCELED,
  ECONNRESET,
  EINVAL,
  EMSGSIZE,
  ENOBUFS,
  ENOMEM,
  EOPNOTSUPP,
  ESHUTDOWN,
  ETERM,
  ETIMEDOUT,
  LBM_MALFORMED,
  LBM_OK,
  strerror,
} from './protocol/return-codes.js';
export { CPU_PRESSURE_TTL_MS, cpuOversubscribed } from './protocol/cpu-pressure.js';
export type { ServerCounters, ServerOptions } from './protocol/server-types.js';
export { Server } from './protocol/server.js';
export type {
  ClientOf,
  ClientOptionsOf,
  EndpointSpec,
  ServerOf,
  ServerOptionsOf,
  TransportProvider,
  TransportTypeMap,
  TransportTypes,
} from './protocol/transport-factory.js';
export { DEFAULT_PORT, DEFAULT_PROTOCOL, TRANSPORT_PACKAGES, Transport, TransportFactory } from './protocol/transport-factory.js';
export type { WaitOptions, WaitSpec } from './protocol/wait.js';
export { raceWait, remainingMs, toWaitSpec } from './protocol/wait.js';
export type { BodyResolver } from './rpc/envelope.js';
export {
  RPC_KIND_CANCEL,
  RPC_KIND_REPLY,
  RPC_KIND_REQUEST,
  RPC_MAX_BUDGET_MS,
  RPC_MAX_ERROR_BYTES,
  RPC_MAX_METHOD_BYTES,
  RPC_MAX_REPLY_TO_BYTES,
  RPC_VERSION,
  RpcEnvelope,
  RpcStatus,
} from './rpc/envelope.js';
export { callError, statusError } from './rpc/errors.js';
export type { ReplyEndpoint, ReplyEndpointOptions, ReplyUrl } from './rpc/reply-path.js';
export { bindReplyEndpoint, connectReply, parseReplyUrl } from './rpc/reply-path.js';
export type { RpcContext, RpcHandleOptions, RpcHandler, RpcListenOptions, RpcServerOptions, RpcServerStats } from './rpc/server-types.js';
export { RpcServer } from './rpc/server.js';
export type { RpcCallOptions, RpcClientOptions, RpcClientStats, RpcConnectOptions } from './rpc/client.js';
export { RpcClient } from './rpc/client.js';
export type { RpcReplyBellStats } from './rpc/reply-bell.js';
export { REPLY_BELL_BYTES, RpcReplyBell } from './rpc/reply-bell.js';
