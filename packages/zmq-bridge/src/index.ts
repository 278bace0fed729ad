export { BATCH_MAGIC, BATCH_MARKER_BYTES, BATCH_VERSION, isBatchMarker } from './zmq/batch-codec.js';
export { ZeroMqClient } from './zmq/client.js';
export type { PeerAgreement, PeerHello } from './zmq/negotiate-codec.js';
export {
  DEFAULT_NEGOTIATE_TIMEOUT_MS,
  MIN_PROTOCOL_VERSION,
  NEGOTIATE_ANSWER,
  NEGOTIATE_FRAME_BYTES,
  NEGOTIATE_HELLO,
  NEGOTIATE_MAGIC,
  NEGOTIATE_NAME_SUFFIX,
  NEGOTIATE_PORT_OFFSET,
  PROTOCOL_VERSION,
  agree,
  decodeNegotiation,
  encodeNegotiation,
  negotiationUrl,
} from './zmq/negotiate-codec.js';
export type { AskPeerOptions } from './zmq/negotiate-client.js';
export { askPeer, clientHello } from './zmq/negotiate-client.js';
export type { NegotiationStats } from './zmq/negotiate-server.js';
export { NEGOTIATE_POLL_MS, serverHello } from './zmq/negotiate-server.js';
export { ZeroMqServer } from './zmq/server.js';
export type { ZeroMqProtocol } from './zmq/endpoint.js';
export { ZMQ_PROTOCOLS, zmqUrl } from './zmq/endpoint.js';
export type {
  ZeroMqBatchOptions,
  ZeroMqClientCurve,
  ZeroMqClientOptions,
  ZeroMqNegotiationOptions,
  ZeroMqServerCurve,
  ZeroMqServerOptions,
  ZeroMqSocketOptions,
} from './zmq/options.js';
export {
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_LINGER_MS,
  DEFAULT_MAX_BATCHED_MESSAGE_BYTES,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_RECONNECT_INTERVAL_MS,
} from './zmq/options.js';
export { SEND_SLICE_MS } from './zmq/socket-sender.js';
export { zmqSendCopyStats } from './zmq/send-copy.js';
export type { ZmqSendCopyStats } from './zmq/send-copy.js';
export { ZAP_ENDPOINT, registerCurveAllowList } from './curve/zap-handler.js';
export type { CurveAllowList, CurveAllowListStats } from './curve/zap-handler.js';
export { isZ85Key, z85Encode } from './curve/z85.js';
export { registerZeroMq, zeroMqProvider } from './zmq/register.js';
export {
  Bridge,
  DEFAULT_BRIDGE_DRAIN_MS,
  DEFAULT_BRIDGE_MAX_MESSAGE_BYTES,
  DEFAULT_BRIDGE_TIMEOUT_MS,
  DEFAULT_INGRESS_QUEUE_BYTES,
  DEFAULT_INGRESS_QUEUE_MESSAGES,
} from './bridge/bridge.js';
export type { BridgeCurve, BridgeEndpoint, BridgeIngressQueueOptions, ChannelRoute, BridgeOptions, UndeliveredReport } from './bridge/options.js';
export { parseEndpoint } from './bridge/options.js';
export type { BridgeStats, EgressStats, IngressStats } from './bridge/stats.js';
export { MAX_ROUTE_NAME_BYTES, ROUTE_HEADER_BYTES, ROUTE_MAGIC, ROUTE_VERSION, decodeRoute, encodeRoute, looksLikeRoute } from './bridge/route.js';
export { readSendBulks } from './bridge/read-bulks.js';
export { BATCH_INLINE_MAX, MAX_BATCH_MESSAGES, ROUTE_BATCH_VERSION, decodeRouteBatch, isRouteBatch } from './bridge/route-batch.js';
export type { BatchRecord, DecodedBatch } from './bridge/route-batch.js';
export { BridgeHost } from './bridge/host.js';
export type { BridgeHostOptions, BridgeWorkerInfo, WorkerExit } from './bridge/host.js';
