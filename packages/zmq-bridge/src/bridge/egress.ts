/**
 * The egress half of a bridge: serves local shared-memory channels and forwards every message to
 * the peer's ingress over one ZeroMQ connection, each behind the routing frame of its channel.
 *
 * Only BULK_XFER data crosses: the frames forwarded are the metadata frame (every bulk's size and
 * flags, custom fields untouched) and the staged XFER bytes. A BULK_EXPOSE bulk stays in this
 * host's shared memory; the peer's receivers see its descriptor with `data === null`.
 *
 * Slab safety: the metadata and XFER bytes a worker sent sit in a slab block (or a pooled inline
 * copy) that is freed or reused once the message is released. zeromq.js keeps frames over 128
 * bytes by reference until its I/O thread has written them, an event JavaScript cannot observe,
 * so the egress copies every frame out of shared memory (the `ZeroMqClient` default, `copyXfer`)
 * and releases the message as soon as `send` resolved. Holding the block instead would need a
 * garbage-collector callback (`FinalizationRegistry`) to learn when zeromq.js dropped the view;
 * its timing is unbounded, so slab memory would be held for as long as the GC pleases.
 */
import type { IncomingMessage, OutgoingMessage } from '@lightbeam/core';
import { ECANCELED, ESHUTDOWN, LBM_OK, strerror } from '@lightbeam/core';
import { RING_CLOSED, ShmServer } from '@lightbeam/shm';
import { encodeRoute } from './route.js';
import type { BridgeEndpoint, ChannelRoute, UndeliveredReport } from './options.js';
import type { EgressStats } from './stats.js';
import { newEgressStats } from './stats.js';
import { ZeroMqClient } from '../zmq/client.js';
import type { ZeroMqClientOptions } from '../zmq/options.js';

/** What {@link BridgeEgress.create} needs; the bridge fills it from its options. */
export interface EgressConfig {
  peer: BridgeEndpoint;
  channels: readonly ChannelRoute[];
  client: ZeroMqClientOptions;
  sendTimeoutMs: number;
  drainMs: number;
  ring: { capacity?: number; slotBytes?: number };
  report: (r: UndeliveredReport) => void;
}

const NO_BULKS: OutgoingMessage['bulks'] = [];
/** After the rings are closed, how long a sender that saw them open may still be publishing. */
const PUBLISH_GRACE_MS = 5;

interface Served {
  channel: string;
  server: ShmServer;
  route: Uint8Array;
}

/** Serves local channels and forwards their messages to one peer. */
export class BridgeEgress {
  /** Counters since creation. */
  readonly stats: EgressStats = newEgressStats();
  private readonly stop = new AbortController();
  private readonly pumps: Promise<void>[] = [];
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly config: EgressConfig,
    private readonly client: ZeroMqClient,
    private readonly served: Served[],
  ) {
    for (const s of served) this.pumps.push(this.pump(s));
  }

  /**
   * Connects to the peer and binds every channel in this thread's shared memory.
   *
   * @throws LightbeamError `ERR_LBM_BIND` when a channel already has a live server, or
   *   `ERR_LBM_INVALID_ARGUMENT` / `ERR_LBM_CONNECT` for a bad peer address
   */
  static async create(config: EgressConfig): Promise<BridgeEgress> {
    const client = new ZeroMqClient(config.peer.addr, config.peer.protocol, config.peer.port, { ...config.client, copyXfer: true, batch: false });
    const served: Served[] = [];
    try {
      for (const { local, remote } of config.channels) {
        const route = encodeRoute(remote);
        served.push({ channel: local, route, server: await ShmServer.create(local, config.ring) });
      }
    } catch (err) {
      await Promise.all(served.map((s) => s.server.close()));
      await client.close();
      throw err;
    }
    return new BridgeEgress(config, client, served);
  }

  /** The channels served. */
  get channels(): string[] {
    return this.served.map((s) => s.channel);
  }

  /** The peer URL. */
  get url(): string {
    return this.client.url;
  }

  /**
   * Stops taking messages; forwards what is still queued in the served channels for up to
   * `drainMs`, reports the rest with `ESHUTDOWN`, then closes the socket (libzmq keeps sending
   * what it queued for at most the linger, `drainMs`). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutdown();
    return this.closing;
  }

  private async pump(s: Served): Promise<void> {
    const signal = this.stop.signal;
    for (;;) {
      const got = await s.server.waitRaw({ signal });
      if (typeof got !== 'number') {
        await this.forward(s, got, this.config.sendTimeoutMs);
        continue;
      }
      if (got === ECANCELED || got === ESHUTDOWN) return;
      // A malformed envelope (-1): the shm server already dropped it; count it, keep serving.
      this.stats.malformed++;
      this.config.report({ direction: 'egress', channel: s.channel, code: got, reason: 'the local channel held an envelope that could not be read' });
    }
  }

  /** Forwards one message and releases it; never throws. */
  private async forward(s: Served, msg: IncomingMessage, timeoutMs: number): Promise<void> {
    const stats = this.stats;
    stats.received++;
    let rc: number;
    let bytes = msg.meta.byteLength;
    try {
      const frames: Uint8Array[] = new Array(msg.dataCount + 1);
      frames[0] = msg.meta;
      for (let i = 0; i < msg.dataCount; i++) {
        const d = msg.data(i);
        frames[i + 1] = d;
        bytes += d.byteLength;
      }
      // The client copies every frame before zeromq.js sees it (copyXfer), so the slab block
      // can be released as soon as this resolves; the routing frame is copied by zeromq.js.
      rc = await this.client.sendRaw({ meta: s.route, xfer: frames, bulks: NO_BULKS }, { timeoutMs });
    } catch (err) {
      rc = ESHUTDOWN;
      this.report(s.channel, rc, `send failed: ${(err as Error).message}`);
      return;
    } finally {
      msg.release();
    }
    if (rc === LBM_OK) {
      stats.forwarded++;
      stats.bytes += bytes;
    } else {
      this.report(s.channel, rc, `not queued towards ${this.client.url}: ${strerror(rc)}`);
    }
  }

  private report(channel: string, code: number, reason: string): void {
    this.stats.undelivered++;
    this.config.report({ direction: 'egress', channel, code, reason });
  }

  private async shutdown(): Promise<void> {
    const deadline = performance.now() + this.config.drainMs;
    this.stop.abort();
    await Promise.all(this.pumps);
    // Refuse new messages: senders that see the ring closed get EAGAIN/ETIMEDOUT themselves.
    for (const s of this.served) s.server.ring.setState(RING_CLOSED);
    await new Promise((r) => setTimeout(r, PUBLISH_GRACE_MS));
    for (const s of this.served) {
      // Take only what is visibly there: a wait on a ring that is no longer open would not park.
      while (s.server.ring.peek() >= 0) {
        const got = await s.server.waitRaw({ timeoutMs: 1000 });
        if (typeof got === 'number') break;
        const left = deadline - performance.now();
        if (left > 0) await this.forward(s, got, left);
        else {
          this.stats.received++;
          got.release();
          this.report(s.channel, ESHUTDOWN, 'bridge closed before the message could be forwarded');
        }
      }
      await s.server.close();
    }
    await this.client.close();
  }
}
