/**
 * The ingress's per-channel delivery queues: every local channel gets its own FIFO and its own
 * delivery loop, so a channel that takes nothing (no server bound, a ring that stays full) holds
 * up only its own messages, never those of the others.
 *
 * Bounds, all checked before a message is queued:
 *
 * | bound                         | channel with a live server       | channel without one          |
 * |-------------------------------|----------------------------------|------------------------------|
 * | `messages` per channel        | the reader waits for room        | the message is dropped       |
 * | `bytes` per channel           | the reader waits for room        | the message is dropped       |
 * | `unboundBytes`, all channels  | -                                | the message is dropped       |
 * | {@link MAX_QUEUED_CHANNELS}   | a queue is made anyway           | an idle queue is recycled, else dropped |
 *
 * Waiting for a channel with a live server keeps the bridge's old flow control: its reader stops,
 * and ZeroMQ's high-water marks and TCP push back on the sender instead of memory growing here. A
 * channel nobody serves cannot push back that way without stalling everyone, so what does not fit
 * is dropped, counted and reported. An empty queue always takes one message, so a single message
 * larger than `bytes` still gets through.
 *
 * Each message waits at most `deliverTimeoutMs` from the moment it was queued; its queue then
 * reports it undelivered (`ETIMEDOUT`), so a queue behind an unbound channel empties at the pace
 * of that timeout, not one timeout per message.
 */
import type { Bulk, IncomingMessage } from '@lightbeam/core';
import { EAGAIN, ECANCELED, ESHUTDOWN, ETIMEDOUT, LBM_MALFORMED, LBM_OK, strerror } from '@lightbeam/core';
import { RING_OPEN, ShmClient, findChannelRing } from '@lightbeam/shm';
import type { Ring } from '@lightbeam/shm';
import type { UndeliveredReport } from './options.js';
import type { IngressStats } from './stats.js';

/** Most channels with a queue at once (the shared-memory channel directory holds as many). */
export const MAX_QUEUED_CHANNELS = 256;

/** The bounds of the ingress queues; see the table in the file comment. */
export interface IngressQueueLimits {
  /** Messages queued per channel. */
  messages: number;
  /** Bytes (metadata + XFER data) queued per channel. */
  bytes: number;
  /** Bytes queued for channels without a live server, all channels together. */
  unboundBytes: number;
}

/** A validated message on its way into a local channel. */
export interface QueuedMessage {
  /** The undecoded message; released once delivered or dropped. */
  msg: IncomingMessage;
  /** Its metadata frame. */
  meta: Uint8Array;
  /** Its XFER data frames, one per XFER bulk. */
  xfer: Uint8Array[];
  /** Its send bulks, as on the wire. */
  bulks: Bulk[];
  /** Metadata plus data bytes. */
  bytes: number;
}

interface Entry {
  item: QueuedMessage;
  /** `performance.now()` after which the entry is reported undelivered. */
  deadline: number;
  /** Queued while the channel had no live server: counted against `unboundBytes`. */
  unbound: boolean;
}

/** What the queues need from the ingress. */
export interface QueueContext {
  limits: IngressQueueLimits;
  deliverTimeoutMs: number;
  stats: IngressStats;
  report: (r: UndeliveredReport) => void;
  /** Aborted when the ingress gives up on what is still queued (close, after the drain). */
  abandon: AbortSignal;
}

/** One channel's FIFO and the loop that delivers it. */
class ChannelQueue {
  private readonly entries: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private running: Promise<void> | null = null;
  private roomWaiters: Array<() => void> = [];
  private ring: Ring | null = null;
  /** When this queue last held or delivered something; idle queues are recycled oldest first. */
  lastUsed = performance.now();

  constructor(
    readonly channel: string,
    private readonly client: ShmClient,
    private readonly owner: IngressQueues,
  ) {}

  get length(): number {
    return this.entries.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get idle(): boolean {
    return this.running === null && this.length === 0;
  }

  /** Whether a live server is bound to the channel now. */
  bound(): boolean {
    if (this.ring === null || this.ring.state !== RING_OPEN) this.ring = findChannelRing(this.channel);
    return this.ring !== null && this.ring.state === RING_OPEN;
  }

  /** Whether `bytes` more fit within this channel's own bounds (an empty queue takes anything). */
  fits(bytes: number): boolean {
    const { messages, bytes: maxBytes } = this.owner.ctx.limits;
    return this.length === 0 || (this.length < messages && this.queuedBytes + bytes <= maxBytes);
  }

  push(item: QueuedMessage, unbound: boolean): void {
    // Nothing ahead of it and the ring has room: deliver now, without a turn of the loop.
    if (this.running === null && this.length === 0 && !this.owner.ctx.abandon.aborted) {
      const rc = this.client.sendRawNow(item);
      if (rc !== EAGAIN) {
        this.lastUsed = performance.now();
        if (unbound) this.owner.releaseUnbound(item.bytes);
        this.settle(item, rc);
        return;
      }
    }
    this.entries.push({ item, deadline: performance.now() + this.owner.ctx.deliverTimeoutMs, unbound });
    this.queuedBytes += item.bytes;
    this.lastUsed = performance.now();
    if (this.running === null) this.running = this.run();
  }

  /** Resolves when an entry left the queue (delivered, timed out or given up) or the ingress gives up. */
  room(): Promise<void> {
    const abandon = this.owner.ctx.abandon;
    if (abandon.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        abandon.removeEventListener('abort', done);
        resolve();
      };
      abandon.addEventListener('abort', done, { once: true });
      this.roomWaiters.push(done);
    });
  }

  /** Resolves once the delivery loop has nothing left. */
  drained(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async run(): Promise<void> {
    const { ctx } = this.owner;
    while (this.length > 0) {
      const entry = this.entries[this.head];
      let rc = ESHUTDOWN;
      if (!ctx.abandon.aborted) {
        try {
          rc = await this.client.sendRaw(entry.item, { timeoutMs: Math.max(0, entry.deadline - performance.now()), signal: ctx.abandon });
        } catch {
          rc = ESHUTDOWN;
        }
      }
      this.take(entry);
      this.settle(entry.item, rc === ECANCELED ? ESHUTDOWN : rc);
    }
    this.running = null;
    this.lastUsed = performance.now();
  }

  private take(entry: Entry): void {
    this.entries[this.head++] = undefined as unknown as Entry; // let the GC have the frames
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    }
    this.queuedBytes -= entry.item.bytes;
    if (entry.unbound) this.owner.releaseUnbound(entry.item.bytes);
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private settle(item: QueuedMessage, rc: number): void {
    const { stats, report, deliverTimeoutMs } = this.owner.ctx;
    item.msg.release();
    if (rc === LBM_OK) {
      stats.delivered++;
      stats.bytes += item.bytes;
      return;
    }
    stats.undelivered++;
    const name = JSON.stringify(this.channel);
    const reason =
      rc === ETIMEDOUT
        ? `local channel ${name} did not take it within ${deliverTimeoutMs} ms (${this.bound() ? 'ring full' : 'no server bound'})`
        : rc === ESHUTDOWN
          ? `the bridge closed before local channel ${name} took it`
          : `local channel ${name} did not take it: ${strerror(rc)}`;
    report({ direction: 'ingress', channel: this.channel, code: rc, reason });
  }
}

/** The queues of every channel the ingress delivers into. */
export class IngressQueues {
  private readonly queues = new Map<string, ChannelQueue>();
  private unboundQueued = 0;

  constructor(
    /** Bounds, timeout, counters and reports. */
    readonly ctx: QueueContext,
  ) {}

  /**
   * Queues a validated message for `channel`, waiting for room when the channel has a live server
   * and its queue is full; drops it (counted in `dropped`, reported with `EAGAIN`, released) when
   * the channel has none and it does not fit.
   *
   * @returns `undefined` when the message was queued, delivered or dropped at once (the common
   *   case makes no promise); a promise that settles once it was, when it had to wait for room
   */
  offer(channel: string, item: QueuedMessage): Promise<void> | undefined {
    let q: ChannelQueue | null;
    try {
      q = this.queueFor(channel);
    } catch (err) {
      // No shared memory in this thread, or a name the directory refuses: nothing can be delivered.
      item.msg.release();
      this.ctx.stats.unroutable++;
      this.ctx.report({ direction: 'ingress', channel, code: LBM_MALFORMED, reason: `channel ${JSON.stringify(channel)} cannot be opened here: ${(err as Error).message}` });
      return undefined;
    }
    if (q === null) return void this.drop(channel, item, `more than ${MAX_QUEUED_CHANNELS} channels have messages waiting`);
    if (q.bound()) {
      if (q.fits(item.bytes)) return void q.push(item, false);
      if (this.ctx.abandon.aborted) return void this.drop(channel, item, 'the bridge is closing');
      // A live server takes a message at least every deliverTimeoutMs (or it times out): wait.
      return q.room().then(() => this.offer(channel, item));
    }
    if (q.fits(item.bytes) && (q.length === 0 || this.unboundQueued + item.bytes <= this.ctx.limits.unboundBytes)) {
      this.unboundQueued += item.bytes;
      return void q.push(item, true);
    }
    return void this.drop(channel, item, `no server is bound to it and its queue is full (${q.length} messages, ${q.bytes} bytes)`);
  }

  /** Resolves once every queue's delivery loop has nothing left. */
  async drained(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.drained()));
  }

  /** Waits for the delivery loops (end them first with the abandon signal), then closes the clients. */
  async close(): Promise<void> {
    await this.drained();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  /** Called by a queue for each entry queued while its channel had no server, as it leaves. */
  releaseUnbound(bytes: number): void {
    this.unboundQueued -= bytes;
  }

  private drop(channel: string, item: QueuedMessage, reason: string): void {
    item.msg.release();
    this.ctx.stats.dropped++;
    this.ctx.report({ direction: 'ingress', channel, code: EAGAIN, reason: `dropped for local channel ${JSON.stringify(channel)}: ${reason}` });
  }

  /**
   * The channel's queue, made on first use; `null` when every queue slot is busy and the channel
   * has no live server. A channel with one always gets a queue: such channels are bounded by the
   * shared-memory channel directory, and unbound traffic must not take their place.
   */
  private queueFor(channel: string): ChannelQueue | null {
    const q = this.queues.get(channel);
    if (q !== undefined) return q;
    if (this.queues.size >= MAX_QUEUED_CHANNELS && !this.recycleIdle() && findChannelRing(channel)?.state !== RING_OPEN) return null;
    const fresh = new ChannelQueue(channel, new ShmClient(channel), this);
    this.queues.set(channel, fresh);
    return fresh;
  }

  /** Frees the slot of the idle queue used longest ago; false when every queue is busy. */
  private recycleIdle(): boolean {
    let oldest: ChannelQueue | null = null;
    for (const q of this.queues.values()) if (q.idle && (oldest === null || q.lastUsed < oldest.lastUsed)) oldest = q;
    if (oldest === null) return false;
    this.queues.delete(oldest.channel);
    void oldest.close();
    return true;
  }
}
