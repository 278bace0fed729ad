/**
 * The ingress half of a bridge: a ZeroMQ PULL that takes routed batches of a peer bridge
 * (route-batch.ts, what an egress sends), routed messages of an older one (route.ts), plain
 * C++-wire messages and batches of a batching `ZeroMqClient`, and delivers each message into a
 * local shared-memory channel with `ShmClient.sendRaw`: the bytes are copied once, from the
 * frames zeromq.js received into this host's slab.
 *
 * Frame 0 is delivered verbatim (custom fields never decoded); only its two bulk vectors are read,
 * to build the send bulks (flags as on the wire) and to check that the message carries exactly one
 * data frame of the right size per BULK_XFER bulk. The data frames are staged by the shared-memory
 * client straight into this host's slab, where the receiving workers read them in place (the
 * staged view in `meta.send[i].data`, or `recvBulks`). Non-XFER bulks arrive as descriptors only:
 * their `data` is `null` on this host.
 *
 * Each local channel has its own queue and delivery loop (ingress-queue.ts): a channel that takes
 * nothing (no server bound, a full ring) delays only its own messages. A channel with a live
 * server whose queue is full stops the reader, so ZeroMQ's high-water marks and TCP push back on
 * the sending bridge instead of memory growing here; for a channel without one, what does not fit
 * its bounded queue is dropped, counted and reported at once.
 */
import { setMaxListeners } from 'node:events';
import type { IncomingMessage } from '@lightbeam/core';
import { ECANCELED, ESHUTDOWN, LBM_MALFORMED, isXfer } from '@lightbeam/core';
import { decodeRoute, looksLikeRoute } from './route.js';
import type { BatchRecord } from './route-batch.js';
import { decodeRouteBatch, isRouteBatch } from './route-batch.js';
import { readSendBulks } from './read-bulks.js';
import type { BridgeEndpoint, UndeliveredReport } from './options.js';
import type { IngressStats } from './stats.js';
import { newIngressStats } from './stats.js';
import type { IngressQueueLimits, QueuedMessage } from './ingress-queue.js';
import { IngressQueues } from './ingress-queue.js';
import { ZeroMqServer } from '../zmq/server.js';
import type { ZeroMqServerOptions } from '../zmq/options.js';

/** What {@link BridgeIngress.create} needs; the bridge fills it from its options. */
export interface IngressConfig {
  listen: BridgeEndpoint;
  server: ZeroMqServerOptions;
  defaultChannel: string | undefined;
  acceptChannels: ReadonlySet<string> | null;
  deliverTimeoutMs: number;
  /** On close, how long queued messages may still be delivered before the rest are given up. */
  drainMs: number;
  queue: IngressQueueLimits;
  report: (r: UndeliveredReport) => void;
}

/** What a record of a batch has to release: nothing (its frames are the ZeroMQ message's). */
const HELD: IncomingMessage = { meta: new Uint8Array(0), dataCount: 0, data: () => new Uint8Array(0), release: () => {} };

/** Receives from the peer and delivers into local channels. */
export class BridgeIngress {
  /** Counters since creation. */
  readonly stats: IngressStats = newIngressStats();
  private readonly stop = new AbortController();
  private readonly abandon = new AbortController();
  private readonly queues: IngressQueues;
  private readonly loop: Promise<void>;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly config: IngressConfig,
    /** The ZeroMQ server (PULL) the ingress receives on. */
    readonly server: ZeroMqServer,
  ) {
    // One abort listener per busy channel queue: hundreds are expected, not a leak.
    setMaxListeners(0, this.abandon.signal);
    this.queues = new IngressQueues({
      limits: config.queue,
      deliverTimeoutMs: config.deliverTimeoutMs,
      stats: this.stats,
      report: config.report,
      abandon: this.abandon.signal,
    });
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

  /**
   * Stops receiving, lets the queues deliver for up to `drainMs`, reports what is left
   * (`ESHUTDOWN`), closes the socket. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        this.stop.abort();
        // The reader waits on the socket with no signal (see run): closing the socket is what ends
        // that wait. What libzmq holds but the reader has not taken is not delivered, as before.
        await this.server.close();
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.drainMs)));
        await Promise.race([Promise.all([this.loop, this.queues.drained()]), limit]);
        clearTimeout(timer);
        // Whatever still waits (a reader waiting for room, queued messages) is given up now.
        this.abandon.abort();
        await this.loop;
        await this.queues.close();
      })();
    }
    return this.closing;
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal;
    for (;;) {
      // No signal and no timeout: the server's plain wait, one zeromq.js receive and nothing else
      // per message (a signal would cost a race, its promise and two abort listeners each time).
      // close() ends it by closing the socket.
      const got = await this.server.waitRaw();
      if (signal.aborted) {
        if (typeof got !== 'number') got.release();
        return;
      }
      if (typeof got === 'number') {
        if (got === ECANCELED || got === ESHUTDOWN) return;
        continue;
      }
      if (isRouteBatch(got.meta)) {
        const waiting = this.deliverBatch(got);
        if (waiting !== undefined) await waiting;
        continue;
      }
      this.stats.received++;
      const routed = this.check(got);
      if (routed === null) {
        got.release();
        continue;
      }
      // Returns at once unless the channel has a live server and a full queue (flow control).
      const waiting = this.queues.offer(routed.channel, routed.item);
      if (waiting !== undefined) await waiting;
    }
  }

  /**
   * Validates a routed batch and offers each of its messages to its channel's queue, in order.
   *
   * @returns `undefined` when every message was queued, delivered or dropped at once (no promise
   *   made); otherwise a promise that settles once the rest were
   */
  private deliverBatch(msg: IncomingMessage): Promise<void> | undefined {
    const stats = this.stats;
    const batch = decodeRouteBatch(msg.meta, msg.dataCount, (i) => msg.data(i), this.server.limits);
    if ('error' in batch) {
      stats.received++;
      stats.malformed++;
      msg.release();
      this.config.report({ direction: 'ingress', channel: null, code: LBM_MALFORMED, reason: batch.error });
      return undefined;
    }
    const { channel, records } = batch;
    stats.received += records.length;
    if (this.config.acceptChannels !== null && !this.config.acceptChannels.has(channel)) {
      stats.unroutable += records.length;
      for (let i = 0; i < records.length; i++) this.config.report({ direction: 'ingress', channel, code: LBM_MALFORMED, reason: `channel ${JSON.stringify(channel)} is not accepted` });
      msg.release();
      return undefined;
    }
    // The frames belong to the ZeroMQ message, whose release frees nothing: each record keeps
    // its views alive by reference until it is delivered.
    for (let i = 0; i < records.length; i++) {
      const waiting = this.queues.offer(channel, { msg: HELD, ...records[i] });
      if (waiting !== undefined) return this.deliverRest(waiting, channel, records, i + 1, msg);
    }
    msg.release();
    return undefined;
  }

  /** The rest of a batch once a channel's queue had room again, each offer awaited in order. */
  private async deliverRest(waiting: Promise<void>, channel: string, records: readonly BatchRecord[], from: number, msg: IncomingMessage): Promise<void> {
    await waiting;
    for (let i = from; i < records.length; i++) await this.queues.offer(channel, { msg: HELD, ...records[i] });
    msg.release();
  }

  /**
   * Validates one message: its route, its channel, its metadata and its data frames. Every
   * refusal is counted and reported here; nothing throws.
   *
   * @returns where it goes and what to deliver, or `null` when it was refused
   */
  private check(msg: IncomingMessage): { channel: string; item: QueuedMessage } | null {
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
        return null;
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
      return null;
    }
    const bulks = readSendBulks(meta, this.server.limits);
    if (bulks === null) {
      stats.malformed++;
      this.config.report({ direction: 'ingress', channel, code: LBM_MALFORMED, reason: 'malformed metadata frame' });
      return null;
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
      return null;
    }
    return { channel, item: { msg, meta, xfer, bulks, bytes } };
  }
}
