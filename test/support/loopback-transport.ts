/**
 * An in-memory transport for tests: a `Client`/`Server` pair joined by a bounded queue of
 * encoded messages. It only moves bytes, exactly as a real transport does, so the protocol rules
 * of the core base classes can be tested without sockets; and because the queue has a capacity,
 * backpressure (`EAGAIN`, waiting for room) is testable too.
 *
 * It is deliberately not registered in `TransportFactory`: construct it with
 * {@link createLoopbackPair}.
 */
import type { FullPtr, IncomingMessage, OutgoingMessage, ServerOptions, WaitSpec } from '@lightbeam/core';
import { Client, EAGAIN, LBM_OK, NULL_POINTER, Server, decodeMeta, isXfer, raceWait } from '@lightbeam/core';

/** Options of a loopback pair. */
export interface LoopbackOptions {
  /**
   * Messages the queue holds before `send` resolves `EAGAIN` (or waits, given `timeoutMs`).
   * @defaultValue 1024
   */
  capacity?: number;
  /**
   * Deliver non-XFER bulks as the sender's live `FullPtr` (as the shared-memory transport does)
   * instead of `null` (as a network transport does).
   * @defaultValue false
   */
  shareExposed?: boolean;
  /**
   * What `getAddress()` returns.
   * @defaultValue 'loopback://<n>'
   */
  address?: string;
  /** Server options (decoding limits). */
  server?: ServerOptions;
}

/** One queued message: a list of frames exactly as a wire would carry them. */
export interface LoopbackFrames {
  /** Frame 0 (metadata) then one frame per XFER bulk. */
  readonly frames: readonly Uint8Array[];
  /** Per send bulk, what the receiver sees when `shareExposed` is on (see `shareable`). */
  readonly exposed?: readonly (FullPtr | null)[];
}

/** Counters a test can inspect to prove nothing leaked. */
export interface LoopbackStats {
  /** Messages accepted into the queue. */
  pushed: number;
  /** Messages handed to the server and not yet released. */
  inFlight: number;
  /** `release()` calls on an already released message (always a bug). */
  doubleReleases: number;
  /** Sends refused with `EAGAIN` because the queue was full. */
  refused: number;
}

type Wake = () => void;

/** The queue between a loopback client and server, with wake-ups for both sides. */
export class LoopbackChannel {
  /** Most messages queued at once. */
  readonly capacity: number;
  /** Counters since creation. */
  readonly stats: LoopbackStats = { pushed: 0, inFlight: 0, doubleReleases: 0, refused: 0 };
  private readonly queue: LoopbackFrames[] = [];
  private readonly dataWaiters = new Set<Wake>();
  private readonly roomWaiters = new Set<Wake>();
  private serverGone = false;

  /** @param capacity - most messages queued at once */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`loopback capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Messages waiting for the server. */
  get length(): number {
    return this.queue.length;
  }

  /**
   * Queues a message without waiting; false when the queue is full or the server is gone (as a
   * PUSH socket without a live peer cannot queue).
   *
   * @param msg - the frames
   */
  tryPush(msg: LoopbackFrames): boolean {
    if (this.serverGone || this.queue.length >= this.capacity) {
      this.stats.refused++;
      return false;
    }
    this.queue.push(msg);
    this.stats.pushed++;
    wakeAll(this.dataWaiters);
    return true;
  }

  /** Takes the oldest message, if any, and wakes a sender waiting for room. */
  shift(): LoopbackFrames | undefined {
    const msg = this.queue.shift();
    if (msg !== undefined) wakeAll(this.roomWaiters);
    return msg;
  }

  /** Resolves on the next push (the caller re-checks the queue: a wake-up is only a hint). */
  nextPush(): { promise: Promise<void>; cancel(): void } {
    return waiter(this.dataWaiters);
  }

  /** Resolves on the next shift (room may have appeared). */
  nextRoom(): { promise: Promise<void>; cancel(): void } {
    return waiter(this.roomWaiters);
  }

  /** The server closed: drop what is queued and refuse further pushes. */
  dropServer(): void {
    this.serverGone = true;
    this.queue.length = 0;
    wakeAll(this.roomWaiters);
  }
}

function waiter(set: Set<Wake>): { promise: Promise<void>; cancel(): void } {
  let wake!: Wake;
  const promise = new Promise<void>((resolve) => {
    wake = resolve;
  });
  set.add(wake);
  return { promise, cancel: () => set.delete(wake) };
}

function wakeAll(set: Set<Wake>): void {
  const all = [...set];
  set.clear();
  for (const w of all) w();
}

/** The sending half: copies each message's frames into the channel. */
export class LoopbackClient extends Client {
  /** @param channel - the queue shared with the server */
  constructor(
    readonly channel: LoopbackChannel,
    private readonly shareExposed: boolean,
  ) {
    super();
  }

  protected async transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> {
    // Copy now: send resolves once queued, after which the caller may reuse its buffers.
    const frames = [msg.meta, ...msg.xfer.map((x) => x.slice())];
    const exposed = this.shareExposed ? shareable(msg, frames) : undefined;
    const item: LoopbackFrames = exposed === undefined ? { frames } : { frames, exposed };
    for (;;) {
      if (this.channel.tryPush(item)) return LBM_OK;
      if (spec.deadline === 0) return EAGAIN;
      const room = this.channel.nextRoom();
      const rc = await raceWait(room.promise.then(() => LBM_OK), spec, this.closeController.signal);
      room.cancel();
      if (rc !== LBM_OK) return rc;
    }
  }

  protected async shutdown(): Promise<void> {}
}

/**
 * What a shared-memory transport shows the receiver of each send bulk: the sender's live bytes
 * for a non-XFER bulk, the queued copy (read-only by convention) for an XFER bulk.
 */
function shareable(msg: OutgoingMessage, frames: readonly Uint8Array[]): (FullPtr | null)[] {
  let k = 1;
  return msg.bulks.map((b) => (isXfer(b.flags) ? { ptr: frames[k++], shm: NULL_POINTER } : (b.data ?? null)));
}

/** The receiving half: hands queued messages to the base class's protocol rules. */
export class LoopbackServer extends Server {
  /**
   * @param channel - the queue shared with the client
   * @param address - what `getAddress()` returns
   * @param options - decoding limits
   */
  constructor(
    readonly channel: LoopbackChannel,
    address: string,
    options?: ServerOptions,
  ) {
    super(address, options);
  }

  protected async receive(spec: WaitSpec): Promise<IncomingMessage | number> {
    for (;;) {
      const msg = this.channel.shift();
      if (msg !== undefined) return this.incoming(msg);
      if (spec.deadline === 0) return EAGAIN;
      const push = this.channel.nextPush();
      const rc = await raceWait(push.promise.then(() => LBM_OK), spec, this.closeController.signal);
      push.cancel();
      if (rc !== LBM_OK) return rc;
    }
  }

  protected async shutdown(): Promise<void> {
    this.channel.dropServer();
  }

  private incoming(msg: LoopbackFrames): IncomingMessage {
    const stats = this.channel.stats;
    stats.inFlight++;
    let released = false;
    const [meta, ...data] = msg.frames;
    const exposed = msg.exposed;
    return {
      meta,
      dataCount: data.length,
      data: (i) => data[i],
      decodeInto:
        exposed === undefined
          ? undefined
          : (into, limits) => {
              const rc = decodeMeta(meta, into, limits);
              if (rc === LBM_OK) into.send.forEach((b, i) => (b.data = exposed[i] ?? null));
              return rc;
            },
      release: () => {
        if (released) {
          stats.doubleReleases++;
          return;
        }
        released = true;
        stats.inFlight--;
      },
    };
  }
}

let pairs = 0;

/**
 * A connected loopback client and bound server sharing one channel.
 *
 * @param opts - capacity, memory sharing, address, server options
 */
export function createLoopbackPair(opts: LoopbackOptions = {}): { client: LoopbackClient; server: LoopbackServer; channel: LoopbackChannel } {
  const channel = new LoopbackChannel(opts.capacity ?? 1024);
  const server = new LoopbackServer(channel, opts.address ?? `loopback://${++pairs}`, opts.server);
  const client = new LoopbackClient(channel, opts.shareExposed ?? false);
  return { client, server, channel };
}

/**
 * Queues raw frames as if a peer had sent them, bypassing `Client.send`'s validation (to test
 * what a server does with flags or frames no conforming client produces).
 *
 * @param channel - the channel to inject into
 * @param frames - frame 0 (metadata) then the data frames
 * @returns false when the queue is full or the server is gone
 */
export function injectFrames(channel: LoopbackChannel, frames: readonly Uint8Array[]): boolean {
  return channel.tryPush({ frames: frames.map((f) => f.slice()) });
}
