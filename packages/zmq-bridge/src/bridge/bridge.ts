/**
 * The bridge: joins the shared-memory domain of this host to the one of a peer host over ZeroMQ
 * (README.md of this package, "The bridge"). Local workers `send` to a served channel; the egress forwards each
 * message over one ZeroMQ connection (every channel multiplexed on it; what a channel holds at
 * each wake-up goes as one routed batch, see route-batch.ts); the peer's ingress delivers it into the channel of the same
 * name in its shared memory, where its workers receive it with the ordinary `Server` API.
 *
 * What crosses and what does not:
 * - BULK_XFER bulks travel: their bytes land in the receiving host's slab, and receivers there get
 *   them in place (`meta.send[i].data` is a view of the staged bytes until `recvBulks`), or copy
 *   them into their own buffers with `recvBulks` as over any transport.
 * - BULK_EXPOSE bulks (without XFER) stay on their host. Their descriptors (size, flags) arrive in
 *   the metadata; on the receiving host `meta.send[i].data` is `null` for them.
 * - Custom metadata fields are forwarded verbatim, never decoded.
 *
 * Delivery: ZeroMQ PUSH/PULL has no acknowledgements. A message is counted `forwarded` once
 * ZeroMQ queued it; what was queued survives a link that goes down and up (ZeroMQ reconnects and
 * the connecting side keeps its queue), but messages already written to a peer process that then
 * dies are lost with it, unseen by this side. Everything the bridge itself could not pass on
 * (high-water mark past the timeout, full or missing local channel, malformed input, close) is
 * counted in `stats()` and reported through `onUndelivered`.
 */
import { LightbeamError } from '@lightbeam/core';
import { BridgeEgress } from './egress.js';
import { BridgeIngress } from './ingress.js';
import type { BridgeIngressQueueOptions, BridgeOptions, ChannelRoute, UndeliveredReport } from './options.js';
import { parseEndpoint } from './options.js';
import type { BridgeStats } from './stats.js';
import { newEgressStats, newIngressStats } from './stats.js';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_RECONNECT_INTERVAL_MS, intOption } from '../zmq/options.js';
import { MAX_ROUTE_NAME_BYTES } from './route.js';

/** Default {@link BridgeOptions.sendTimeoutMs} and {@link BridgeOptions.deliverTimeoutMs}. */
export const DEFAULT_BRIDGE_TIMEOUT_MS = 5000;
/** Default {@link BridgeOptions.drainMs}. */
export const DEFAULT_BRIDGE_DRAIN_MS = 1000;
/** Default {@link BridgeIngressQueueOptions.messages}. */
export const DEFAULT_INGRESS_QUEUE_MESSAGES = 64;
/** Default {@link BridgeIngressQueueOptions.bytes} and {@link BridgeIngressQueueOptions.unboundBytes}. */
export const DEFAULT_INGRESS_QUEUE_BYTES = 16 * 1024 * 1024;
/** Default {@link BridgeOptions.maxMessageBytes}: 256 MiB per frame. */
export const DEFAULT_BRIDGE_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * A bridge between this host's shared memory and a peer's, with an egress (`peer` and
 * `channels`), an ingress (`listen`), or both. Run it in the thread that created (or attached)
 * the host's `MemoryManager`.
 *
 * @example
 * ```ts
 * // host A: workers send to channel "frames"; the bridge forwards them to B
 * const a = await Bridge.create({ peer: 'tcp://10.0.0.2:9000', channels: ['frames'] });
 * // host B: delivers into B's channel "frames", served by B's workers
 * const b = await Bridge.create({ listen: 'tcp://0.0.0.0:9000' });
 * ```
 */
export class Bridge {
  private closing: Promise<void> | null = null;
  private readonly byCode: Record<string, number> = {};

  private constructor(
    private readonly ingress: BridgeIngress | null,
    private egress: BridgeEgress | null,
    private readonly options: BridgeOptions,
  ) {}

  /**
   * Binds the ingress (if `listen`), then binds the served channels and connects to `peer` (if
   * `peer`).
   *
   * @param options - see {@link BridgeOptions}
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a bad URL, channel or option;
   *   `ERR_LBM_BIND` when the listen address cannot be bound (port in use, address not local) or
   *   a channel already has a live server in this shared memory
   */
  static async create(options: BridgeOptions): Promise<Bridge> {
    const listen = options.listen === undefined ? null : parseEndpoint('listen', options.listen, true);
    const peer = options.peer === undefined ? null : parseEndpoint('peer', options.peer, false);
    const channels = (options.channels ?? []).map(toRoute);
    if (listen === null && peer === null) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'a bridge needs listen, peer, or both');
    if (peer === null && channels.length > 0) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'channels need a peer to forward to');
    if (peer !== null && channels.length === 0) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'a peer needs at least one channel to forward');
    const locals = channels.map((c) => c.local);
    if (new Set(locals).size !== locals.length) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `channels has duplicates: ${locals.join(',')}`);
    for (const c of channels) {
      checkChannel(c.local);
      checkChannel(c.remote);
    }
    if (options.defaultChannel !== undefined) checkChannel(options.defaultChannel);
    if (peer !== null && options.curve !== undefined && options.curve.serverKey === undefined) {
      throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'curve.serverKey (the peer ingress public key) is needed with a peer');
    }
    const hwm = intOption('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, 0);
    const drainMs = intOption('drainMs', options.drainMs, DEFAULT_BRIDGE_DRAIN_MS, 0);
    const sendTimeoutMs = intOption('sendTimeoutMs', options.sendTimeoutMs, DEFAULT_BRIDGE_TIMEOUT_MS, 0);
    const deliverTimeoutMs = intOption('deliverTimeoutMs', options.deliverTimeoutMs, DEFAULT_BRIDGE_TIMEOUT_MS, 0);
    const reconnectInterval = intOption('reconnectInterval', options.reconnectInterval, DEFAULT_RECONNECT_INTERVAL_MS, -1);
    const maxMessageSize = intOption('maxMessageBytes', options.maxMessageBytes, DEFAULT_BRIDGE_MAX_MESSAGE_BYTES, -1);
    const q: BridgeIngressQueueOptions = options.ingressQueue ?? {};
    const queue = {
      messages: intOption('ingressQueue.messages', q.messages, DEFAULT_INGRESS_QUEUE_MESSAGES, 1),
      bytes: intOption('ingressQueue.bytes', q.bytes, DEFAULT_INGRESS_QUEUE_BYTES, 0),
      unboundBytes: intOption('ingressQueue.unboundBytes', q.unboundBytes, DEFAULT_INGRESS_QUEUE_BYTES, 0),
    };
    let bridge: Bridge | null = null;
    const report = (r: UndeliveredReport): void => bridge?.record(r);
    const ingress =
      listen === null
        ? null
        : await BridgeIngress.create({
            listen,
            server: {
              highWaterMark: hwm,
              linger: drainMs,
              maxMessageSize,
              limits: options.limits,
              context: options.context,
              curve:
                options.curve === undefined
                  ? undefined
                  : { secretKey: options.curve.secretKey, publicKey: options.curve.publicKey, allowedClients: options.curve.allowedClients },
            },
            defaultChannel: options.defaultChannel,
            acceptChannels: options.acceptChannels === undefined ? null : new Set(options.acceptChannels),
            deliverTimeoutMs,
            drainMs,
            queue,
            report,
          });
    bridge = new Bridge(ingress, null, options);
    if (peer !== null) {
      try {
        bridge.egress = await BridgeEgress.create({
          peer,
          channels,
          client: {
            highWaterMark: hwm,
            linger: drainMs,
            reconnectInterval,
            context: options.context,
            curve:
              options.curve === undefined
                ? undefined
                : { serverKey: options.curve.serverKey as string, publicKey: options.curve.publicKey, secretKey: options.curve.secretKey },
          },
          sendTimeoutMs,
          drainMs,
          ring: options.ring ?? {},
          report,
        });
      } catch (err) {
        await ingress?.close();
        throw err;
      }
    }
    return bridge;
  }

  /** The URL the ingress bound (with the real port), or `null` without an ingress. */
  get endpoint(): string | null {
    return this.ingress?.server.endpoint ?? null;
  }

  /** The TCP port the ingress bound (useful with port 0), or `null`. */
  get port(): number | null {
    return this.ingress?.server.port ?? null;
  }

  /** The channels the egress serves. */
  get channels(): string[] {
    return this.egress?.channels ?? [];
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /** A snapshot of the counters. */
  stats(): BridgeStats {
    return {
      egress: { ...(this.egress?.stats ?? newEgressStats()) },
      ingress: { ...(this.ingress?.stats ?? newIngressStats()) },
      undeliveredByCode: { ...this.byCode },
    };
  }

  /**
   * Closes the bridge: the egress forwards what its channels still hold for up to `drainMs` and
   * reports the rest (`ESHUTDOWN`); the ingress delivers what its queues hold for up to `drainMs`
   * and reports the rest (`ESHUTDOWN`). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        await this.egress?.close();
        await this.ingress?.close();
      })();
    }
    return this.closing;
  }

  private record(r: UndeliveredReport): void {
    const key = String(r.code);
    this.byCode[key] = (this.byCode[key] ?? 0) + 1;
    try {
      this.options.onUndelivered?.(r);
    } catch {
      // A throwing callback must not stop the bridge.
    }
  }
}

function toRoute(c: string | ChannelRoute): ChannelRoute {
  if (typeof c === 'string') return { local: c, remote: c };
  if (c === null || typeof c !== 'object') throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `a channel must be a name or { local, remote }, got ${String(c)}`);
  return { local: c.local, remote: c.remote };
}

function checkChannel(c: string): void {
  const n = typeof c === 'string' ? new TextEncoder().encode(c).byteLength : 0;
  if (n === 0 || n > MAX_ROUTE_NAME_BYTES) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `channel name must be 1..${MAX_ROUTE_NAME_BYTES} UTF-8 bytes, got ${JSON.stringify(c)}`);
  }
}
