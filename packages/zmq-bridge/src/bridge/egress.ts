/**
 * The egress half of a bridge: serves local shared-memory channels and forwards their messages to
 * the peer's ingress over one ZeroMQ connection.
 *
 * Each wake-up drains everything ready: the pump of a channel parks on its ring, and once woken
 * takes every message the ring holds then (up to a batch's bounds, egress-batch.ts) without
 * waiting again, encodes them as one routed batch (route-batch.ts: the route, every metadata frame
 * and the small XFER data in frame 0, each large XFER bulk in a frame of its own) and hands that
 * to zeromq.js as one multipart message. The socket is written in the thread that drains the
 * ring, so a message crosses the same threads as in a hand-written `postMessage` + zeromq.js
 * pipeline: the sending worker, this thread, ZeroMQ's I/O threads, the peer bridge's thread, the
 * receiving worker.
 *
 * Only BULK_XFER data crosses: the metadata frames carry every bulk's size and flags (custom
 * fields untouched) and the XFER bytes follow. A BULK_EXPOSE bulk stays in this host's shared
 * memory; the peer's receivers see its descriptor with `data === null`.
 *
 * Slab safety: every byte is copied out of shared memory before zeromq.js sees it (why, in
 * egress-batch.ts), so each message is released as soon as its batch is encoded.
 */
import type { IncomingMessage, OutgoingMessage } from '@lightbeam/core';
import { EAGAIN, ECANCELED, ESHUTDOWN, LBM_MALFORMED, LBM_OK, strerror } from '@lightbeam/core';
import { RING_CLOSED, ShmServer } from '@lightbeam/shm';
import { EgressBatch } from './egress-batch.js';
import { encodeBatchHead } from './route-batch.js';
import type { BridgeEndpoint, ChannelRoute, UndeliveredReport } from './options.js';
import type { EgressStats } from './stats.js';
import { newEgressStats } from './stats.js';
import { ZeroMqClient } from '../zmq/client.js';
import { framesFit } from '../zmq/negotiate-client.js';
import { errnoOf } from '../zmq/endpoint.js';
import { afterTurn, turnDue } from '../zmq/send-copy.js';
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
const NO_FRAMES: OutgoingMessage['xfer'] = [];
/** After the rings are closed, how long a sender that saw them open may still be publishing. */
const PUBLISH_GRACE_MS = 5;

/**
 * How long a served channel's receive spins before it parks, in microseconds: none. This thread
 * has other work (the ingress, the other channels), and on a machine with more runnable threads
 * than cores a spin takes the core the sending worker needs.
 */
const EGRESS_SPIN_US = 0;

interface Served {
  channel: string;
  server: ShmServer;
  batch: EgressBatch;
}

/** Serves local channels and forwards their messages to one peer. */
export class BridgeEgress {
  /** Counters since creation. */
  readonly stats: EgressStats = newEgressStats();
  private readonly stop = new AbortController();
  private readonly pumps: Promise<void>[] = [];
  private closing: Promise<void> | null = null;
  /**
   * Set once the client's first send has settled its negotiation with the peer: from then on a
   * batch whose frames fit the agreed sizes goes straight to the socket (see `send`).
   */
  private direct = false;
  /** Sends in progress on the client, every channel's pump together. */
  private sending = 0;

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
    // copyXfer off: every frame handed over is already a copy of our own (egress-batch.ts).
    const client = new ZeroMqClient(config.peer.addr, config.peer.protocol, config.peer.port, { ...config.client, copyXfer: false, batch: false });
    const served: Served[] = [];
    try {
      for (const { local, remote } of config.channels) {
        const batch = new EgressBatch(encodeBatchHead(remote));
        served.push({ channel: local, batch, server: await ShmServer.create(local, { spinUs: EGRESS_SPIN_US, ...config.ring }) });
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
      // What arrived while the last batch was being sent is taken without a park (no promise).
      let got = signal.aborted ? ECANCELED : s.server.recvRawNow();
      if (got === EAGAIN) got = await s.server.waitRaw({ signal });
      if (typeof got === 'number') {
        if (got === ECANCELED || got === ESHUTDOWN) return;
        this.malformedSlot(s);
        continue;
      }
      this.take(s, got);
      this.drainReady(s);
      await this.flush(s, this.config.sendTimeoutMs);
    }
  }

  /** Takes into the batch every message the ring holds now, without waiting, while it has room. */
  private drainReady(s: Served): void {
    while (s.batch.room) {
      const more = s.server.recvRawNow();
      if (typeof more !== 'number') this.take(s, more);
      else if (more === LBM_MALFORMED) this.malformedSlot(s);
      else return;
    }
  }

  /** Adds one message to its channel's batch, or drops it when its frames do not add up. */
  private take(s: Served, msg: IncomingMessage): void {
    this.stats.received++;
    if (s.batch.add(msg)) return;
    msg.release();
    this.report(s.channel, LBM_MALFORMED, 'the message\'s data frames do not match the XFER bulks of its metadata');
  }

  /** A slot of the local channel held no readable envelope: the shm server dropped it. */
  private malformedSlot(s: Served): void {
    this.stats.malformed++;
    this.config.report({ direction: 'egress', channel: s.channel, code: LBM_MALFORMED, reason: 'the local channel held an envelope that could not be read' });
  }

  /** Sends the channel's batch as one ZeroMQ message (its messages are released first); never throws. */
  private async flush(s: Served, timeoutMs: number): Promise<void> {
    const n = s.batch.count;
    if (n === 0) return;
    const bytes = s.batch.bytes;
    let rc: number;
    let why = '';
    try {
      rc = await this.send(s.batch.encode(), timeoutMs);
    } catch (err) {
      rc = ESHUTDOWN;
      why = `send failed: ${(err as Error).message}`;
    }
    if (rc === LBM_OK) {
      this.stats.forwarded += n;
      this.stats.bytes += bytes;
      return;
    }
    if (why === '') why = `not queued towards ${this.client.url}: ${strerror(rc)}`;
    for (let i = 0; i < n; i++) this.report(s.channel, rc, why);
  }

  /**
   * Queues one batch's frames. Once the negotiation has settled and nothing else is being sent,
   * the frames go straight to the socket: its send timeout is 0, so zeromq.js sends at once or
   * refuses with EAGAIN, and never holds the socket busy. That skips the client's general path
   * (wait spec, ordering chain, negotiation check, frame list: four promises and their
   * microtask turns per batch, which a 64 B round trip pays on both bridges). Everything else
   * (the first send, a full high-water mark, a frame over the peer's size limit, a send already
   * in progress for another channel) takes that general path, which waits, orders and checks.
   */
  private async send(frames: Uint8Array[], timeoutMs: number): Promise<number> {
    this.sending++;
    try {
      if (this.direct && this.sending === 1 && framesFit(this.client.peer?.maxMessageBytes ?? null, frames)) {
        try {
          await this.client.socket.send(frames);
          // Large frames were copied for zeromq.js: let the event loop turn now and then, so it can
          // drop what libzmq has sent and the copies' memory comes back (as the client does).
          if (turnDue()) await afterTurn(LBM_OK);
          return LBM_OK;
        } catch (err) {
          const rc = errnoOf(err, this.client.closed || this.client.socket.closed);
          if (rc !== EAGAIN || timeoutMs === 0) return rc;
          // No room now: the general path waits for it, up to the timeout.
        }
      }
      const rc = await this.client.sendRaw({ meta: frames[0], xfer: frames.length === 1 ? NO_FRAMES : frames.slice(1), bulks: NO_BULKS }, { timeoutMs });
      this.direct = true;
      return rc;
    } finally {
      this.sending--;
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
      // Take only what is visibly there: nobody publishes into a closed ring after the grace.
      for (;;) {
        this.drainReady(s);
        if (s.batch.count === 0) break;
        const left = deadline - performance.now();
        if (left > 0) {
          await this.flush(s, left);
          continue;
        }
        const n = s.batch.discard();
        for (let i = 0; i < n; i++) this.report(s.channel, ESHUTDOWN, 'bridge closed before the message could be forwarded');
      }
      await s.server.close();
    }
    await this.client.close();
  }
}
