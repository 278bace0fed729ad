/**
 * The ingress half of a bridge: a ZeroMQ PULL that takes routed bridge messages, plain C++-wire
 * messages and batches of a batching `ZeroMqClient`, and delivers each into a local
 * shared-memory channel with `ShmClient.sendRaw`.
 *
 * Frame 0 is delivered verbatim (custom fields never decoded); only its two bulk vectors are read,
 * to build the send bulks (flags as on the wire) and to check that the message carries exactly one
 * data frame of the right size per BULK_XFER bulk. The data frames are staged by the shared-memory
 * client straight into this host's slab, where the receiving workers read them in place (the
 * staged view in `meta.send[i].data`, or `recvBulks`). Non-XFER bulks arrive as descriptors only:
 * their `data` is `null` on this host.
 *
 * Messages are delivered one at a time, in arrival order. A full ring (or a channel not bound yet)
 * is waited for up to `deliverTimeoutMs`; meanwhile nothing more is read from the socket, so
 * ZeroMQ's high-water marks and TCP push back on the sending bridge instead of memory growing here.
 */
import type { ArchiveLimits, Bulk, IncomingMessage } from '@lightbeam/core';
import { Archive, ECANCELED, ESHUTDOWN, LBM_MALFORMED, LBM_OK, isXfer, strerror } from '@lightbeam/core';
import { ShmClient } from '@lightbeam/shm';
import { decodeRoute, looksLikeRoute } from './bridge-route.js';
import type { BridgeEndpoint, UndeliveredReport } from './bridge-options.js';
import type { IngressStats } from './bridge-stats.js';
import { newIngressStats } from './bridge-stats.js';
import { ZeroMqServer } from './zmq-server.js';
import type { ZeroMqServerOptions } from './zmq-options.js';

/** What {@link BridgeIngress.create} needs; the bridge fills it from its options. */
export interface IngressConfig {
  listen: BridgeEndpoint;
  server: ZeroMqServerOptions;
  defaultChannel: string | undefined;
  acceptChannels: ReadonlySet<string> | null;
  deliverTimeoutMs: number;
  report: (r: UndeliveredReport) => void;
}

/** Most shared-memory clients kept (one per channel seen); beyond it the oldest is dropped. */
const MAX_CLIENTS = 256;

/**
 * Reads the send vector of a metadata frame and checks the recv vector is whole; custom fields
 * are not read. Never throws.
 *
 * @param frame - a metadata frame from the wire
 * @param limits - decoding limits
 * @returns the send bulks (`data: null`, flags as on the wire), or `null` when malformed
 */
export function readSendBulks(frame: Uint8Array, limits: ArchiveLimits): Bulk[] | null {
  try {
    const ar = new Archive(true, frame, limits);
    const send = ar.readBulks();
    ar.readBulks();
    return send;
  } catch {
    return null;
  }
}

/** Receives from the peer and delivers into local channels. */
export class BridgeIngress {
  /** Counters since creation. */
  readonly stats: IngressStats = newIngressStats();
  private readonly clients = new Map<string, ShmClient>();
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly config: IngressConfig,
    /** The ZeroMQ server (PULL) the ingress receives on. */
    readonly server: ZeroMqServer,
  ) {
    this.loop = this.run();
  }

  /**
   * Binds the ingress.
   *
   * @throws LightbeamError `ERR_LBM_BIND` naming the URL and the reason (port in use, bad address)
   */
  static async create(config: IngressConfig): Promise<BridgeIngress> {
    const { addr, protocol, port } = config.listen;
    const server = await ZeroMqServer.create(addr, protocol, port, config.server);
    return new BridgeIngress(config, server);
  }

  /** Stops receiving, finishes the delivery in progress, closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        this.stop.abort();
        await this.loop;
        await this.server.close();
        await Promise.all([...this.clients.values()].map((c) => c.close()));
      })();
    }
    return this.closing;
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    for (;;) {
      const got = await this.server.waitRaw({ signal });
      if (typeof got === 'number') {
        if (got === ECANCELED || got === ESHUTDOWN) return;
        continue;
      }
      this.stats.received++;
      // The delivery in progress is finished even when close starts: it is bounded by deliverTimeoutMs.
      try {
        await this.deliver(got);
      } finally {
        got.release();
      }
    }
  }

  /** Validates and delivers one message (the caller releases it); every outcome is counted, nothing throws. */
  private async deliver(msg: IncomingMessage): Promise<void> {
    const stats = this.stats;
    const f0 = msg.meta;
    let channel: string | null;
    let meta: Uint8Array;
    let first: number;
    if (looksLikeRoute(f0)) {
      channel = decodeRoute(f0);
      if (channel === null || msg.dataCount < 1) {
        stats.malformed++;
        this.config.report({ direction: 'ingress', channel: null, code: LBM_MALFORMED, reason: 'malformed routing frame' });
        return;
      }
      meta = msg.data(0);
      first = 1;
    } else {
      channel = this.config.defaultChannel ?? null;
      meta = f0;
      first = 0;
    }
    if (channel === null || (this.config.acceptChannels !== null && !this.config.acceptChannels.has(channel))) {
      stats.unroutable++;
      this.config.report({ direction: 'ingress', channel, code: LBM_MALFORMED, reason: channel === null ? 'no routing frame and no default channel' : `channel ${JSON.stringify(channel)} is not accepted` });
      return;
    }
    const bulks = readSendBulks(meta, this.server.limits);
    if (bulks === null) {
      stats.malformed++;
      this.config.report({ direction: 'ingress', channel, code: LBM_MALFORMED, reason: 'malformed metadata frame' });
      return;
    }
    const frames = msg.dataCount - first;
    const xfer: Uint8Array[] = [];
    let bytes = meta.byteLength;
    for (let i = 0; i < bulks.length; i++) {
      if (!isXfer(bulks[i].flags)) continue;
      const k = xfer.length;
      const d = k < frames ? msg.data(first + k) : null;
      if (d === null || d.byteLength !== bulks[i].size) {
        xfer.length = frames + 1; // mark as mismatched
        break;
      }
      xfer.push(d);
      bytes += d.byteLength;
    }
    if (xfer.length !== frames) {
      stats.mismatched++;
      this.config.report({ direction: 'ingress', channel, code: LBM_MALFORMED, reason: `XFER bulks do not match the ${frames} data frame(s) (count or size)` });
      return;
    }
    const client = this.clientFor(channel);
    let rc: number;
    try {
      rc = client === null ? LBM_MALFORMED : await client.sendRaw({ meta, xfer, bulks }, { timeoutMs: this.config.deliverTimeoutMs });
    } catch (err) {
      rc = ESHUTDOWN;
      this.config.report({ direction: 'ingress', channel, code: rc, reason: `delivery failed: ${(err as Error).message}` });
      stats.undelivered++;
      return;
    }
    if (rc === LBM_OK) {
      stats.delivered++;
      stats.bytes += bytes;
    } else if (client === null) {
      stats.unroutable++;
      this.config.report({ direction: 'ingress', channel, code: rc, reason: `channel name ${JSON.stringify(channel)} is not valid here` });
    } else {
      stats.undelivered++;
      this.config.report({ direction: 'ingress', channel, code: rc, reason: `local channel ${JSON.stringify(channel)} did not take it: ${strerror(rc)}` });
    }
  }

  private clientFor(channel: string): ShmClient | null {
    let c = this.clients.get(channel);
    if (c !== undefined) return c;
    try {
      c = new ShmClient(channel);
    } catch {
      return null;
    }
    if (this.clients.size >= MAX_CLIENTS) {
      const [oldest, client] = this.clients.entries().next().value as [string, ShmClient];
      this.clients.delete(oldest);
      void client.close();
    }
    this.clients.set(channel, c);
    return c;
  }
}
