/**
 * Options of the bridge, and the endpoint URLs it takes (`tcp://host:port`, `ipc://path`,
 * `inproc://name`).
 */
import type { ArchiveLimits } from '@lightbeam/core';
import { LightbeamError } from '@lightbeam/core';
import type { Context } from 'zeromq';
import { ZMQ_PROTOCOLS } from '../zmq/endpoint.js';

/** CURVE keys of a bridge (Z85 strings, e.g. from zeromq.js `curveKeyPair()`). */
export interface BridgeCurve {
  /** This bridge's secret key: its ingress is a CURVE server with it, its egress a CURVE client. */
  secretKey: string;
  /** This bridge's public key (the key the peer's egress names as `serverKey`). */
  publicKey: string;
  /** The public key of the peer bridge's ingress; needed when this bridge has a `peer`. */
  serverKey?: string;
  /**
   * The Z85 public keys of the peer bridges (egress) whose connections the ingress admits; any
   * other key is refused during the CURVE handshake (a ZAP handler). Omit to admit every peer
   * that knows this bridge's public key.
   */
  allowedClients?: readonly string[];
}

/** What happened to a message the bridge could not deliver; see {@link BridgeOptions.onUndelivered}. */
export interface UndeliveredReport {
  /** `egress`: could not be queued towards the peer; `ingress`: could not be delivered locally. */
  readonly direction: 'egress' | 'ingress';
  /** The channel the message was for (`null` when the ingress could not tell). */
  readonly channel: string | null;
  /** The return code: `EAGAIN`, `ETIMEDOUT`, `ESHUTDOWN`, `ECONNRESET`, `ENOMEM`, `-1` (malformed)... */
  readonly code: number;
  /** One line saying why. */
  readonly reason: string;
}

/** Options of {@link Bridge.create}. */
export interface BridgeOptions {
  /**
   * Where the ingress binds (`tcp://127.0.0.1:0` for an ephemeral port, read back from
   * `bridge.port`). Without it the bridge has no ingress.
   */
  listen?: string;
  /** The peer bridge's ingress (`tcp://host:port`). Without it the bridge has no egress. */
  peer?: string;
  /**
   * Local shared-memory channels the egress serves and forwards to `peer`: a name (forwarded
   * under the same name) or `{ local, remote }` (served as `local`, delivered into `remote` on the
   * peer). The bridge binds them (an `ShmServer` each): local workers `send` to them.
   * @defaultValue []
   */
  channels?: readonly (string | ChannelRoute)[];
  /**
   * Where the ingress delivers messages that carry no routing frame: those of a plain C++
   * Lightbeam client or of a `ZeroMqClient`. Without it such messages are counted as unroutable.
   */
  defaultChannel?: string;
  /**
   * Channels the ingress may deliver into; a routed message for any other is counted as
   * unroutable and dropped. Omit to accept every channel.
   */
  acceptChannels?: readonly string[];
  /** CURVE encryption and authentication on both directions. */
  curve?: BridgeCurve;
  /**
   * `ZMQ_SNDHWM` of the egress and `ZMQ_RCVHWM` of the ingress: ZeroMQ messages queued per peer
   * before the egress waits (memory towards a peer that is down stays bounded by it). The egress
   * sends what one wake-up drained from a channel as one ZeroMQ message (a batch of at most 1024
   * messages and about 1 MiB of large bulks).
   * @defaultValue 1000
   */
  highWaterMark?: number;
  /**
   * How long the egress waits for room towards the peer before it reports a message undelivered
   * with `ETIMEDOUT` (`0`: report `EAGAIN` at once when the high-water mark is reached).
   * @defaultValue 5000
   */
  sendTimeoutMs?: number;
  /**
   * How long a message may wait in the ingress for its local channel (ring full, or the channel
   * not bound yet), counted from its arrival, before it is reported undelivered.
   * @defaultValue 5000
   */
  deliverTimeoutMs?: number;
  /**
   * Bounds of the ingress's per-channel queues. Each local channel is delivered on its own, so
   * one that takes nothing never delays the others. When a channel's queue is full, the ingress
   * waits if a server is bound to the channel (flow control back to the sender, as before), and
   * drops the message (counted in `stats().ingress.dropped`, reported with `EAGAIN`) if none is.
   */
  ingressQueue?: BridgeIngressQueueOptions;
  /**
   * On `close()`, how long messages still queued in the served channels are forwarded before the
   * rest are reported undelivered with `ESHUTDOWN`; also the sockets' `ZMQ_LINGER`.
   * @defaultValue 1000
   */
  drainMs?: number;
  /**
   * `ZMQ_MAXMSGSIZE` of the ingress: a peer that sends a frame larger than this is disconnected
   * by ZeroMQ while reading its header, before any memory is allocated for it (the message never
   * reaches the bridge). The bound applies to each frame of a multipart message; -1 lifts it.
   * A legitimate message with a larger XFER bulk is lost the same way, so keep it above the
   * largest bulk your workers send.
   * @defaultValue 268435456 (256 MiB)
   */
  maxMessageBytes?: number;
  /** `ZMQ_RECONNECT_IVL` of the egress, in ms. @defaultValue 100 */
  reconnectInterval?: number;
  /** Decoding limits for incoming metadata frames. */
  limits?: Partial<ArchiveLimits>;
  /** Ring shape of the channels the egress binds (see `ShmServerOptions`). */
  ring?: {
    /** Ring slots of each served channel (see `ShmServerOptions.capacity`). */
    capacity?: number;
    /** Bytes per slot (see `ShmServerOptions.slotBytes`). */
    slotBytes?: number;
  };
  /** The zeromq.js context (inproc endpoints must share one). */
  context?: Context;
  /** Called for every message the bridge could not deliver (also counted in `stats()`). */
  onUndelivered?: (report: UndeliveredReport) => void;
}

/** Bounds of the ingress queues; see {@link BridgeOptions.ingressQueue}. */
export interface BridgeIngressQueueOptions {
  /**
   * Messages waiting per channel.
   * @defaultValue 64
   */
  messages?: number;
  /**
   * Bytes (metadata + XFER data) waiting per channel; an empty queue still takes one larger message.
   * @defaultValue 16777216 (16 MiB)
   */
  bytes?: number;
  /**
   * Bytes waiting for channels that have no server bound, all such channels together.
   * @defaultValue 16777216 (16 MiB)
   */
  unboundBytes?: number;
}

/** A served channel and the channel it is delivered into on the peer. */
export interface ChannelRoute {
  /** The channel bound on this host. */
  local: string;
  /** The channel on the peer host. */
  remote: string;
}

/** A parsed endpoint URL. */
export interface BridgeEndpoint {
  /** `tcp`, `ipc` or `inproc`. */
  protocol: string;
  /** Host (tcp), path (ipc) or name (inproc). */
  addr: string;
  /** TCP port (0 for ephemeral on `listen`); 0 for ipc/inproc. */
  port: number;
}

/**
 * Parses `tcp://host:port`, `ipc://path` or `inproc://name`.
 *
 * @param name - the option, for the message (`listen`, `peer`)
 * @param url - the URL as given
 * @param bind - whether port 0 (or `*`) is allowed
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` naming the option and the value
 */
export function parseEndpoint(name: string, url: string, bind: boolean): BridgeEndpoint {
  const bad = (why: string): LightbeamError =>
    new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `${name}: ${why}, got ${JSON.stringify(url)} (expected tcp://host:port, ipc://path or inproc://name)`);
  if (typeof url !== 'string') throw bad('not a string');
  const m = /^([a-z]+):\/\/(.+)$/.exec(url);
  if (m === null) throw bad('not a URL');
  const protocol = m[1];
  if (!(ZMQ_PROTOCOLS as readonly string[]).includes(protocol)) throw bad(`unknown protocol ${protocol}`);
  if (protocol !== 'tcp') return { protocol, addr: m[2], port: 0 };
  const hp = /^(\[[^\]]+\]|[^:]+):(\d+|\*)$/.exec(m[2]);
  if (hp === null) throw bad('missing host or port');
  const port = hp[2] === '*' ? 0 : Number(hp[2]);
  if (!Number.isInteger(port) || port > 65535) throw bad('port out of range');
  if (port === 0 && !bind) throw bad('a peer needs a port other than 0');
  const host = hp[1].startsWith('[') ? hp[1].slice(1, -1) : hp[1];
  return { protocol, addr: host, port };
}
