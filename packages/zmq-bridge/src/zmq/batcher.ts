/**
 * The client side of batching (negotiated, or opted into): small messages are appended to an open
 * batch; full batches and large messages wait, in order, in a short outbox that one pump hands to
 * zeromq.js.
 *
 * `send` resolves `0` once the message is in our hands (open batch or outbox), exactly as a plain
 * send resolves once zeromq.js queued it. The outbox is bounded ({@link OUTBOX_LIMIT} entries
 * besides the open batch): when it is full a send resolves `EAGAIN`, or waits for the pump with
 * `timeoutMs`. The open batch goes out when full, or at the end of the event-loop turn.
 */
import { sendableCopy } from './frame-copy.js';
import type { OutgoingMessage, WaitSpec } from '@lightbeam/core';
import { EAGAIN, ESHUTDOWN, LBM_OK, raceWait } from '@lightbeam/core';
import { BatchBuilder, recordBytes } from './batch-codec.js';
import type { Frames, SocketSender } from './socket-sender.js';
import type { ZeroMqBatchOptions } from './options.js';
import { DEFAULT_MAX_BATCHED_MESSAGE_BYTES, DEFAULT_MAX_BATCH_BYTES, intOption } from './options.js';

/** Smallest `maxBatchBytes` accepted. */
export const MIN_BATCH_BYTES = 64;

/** Entries the outbox holds besides the open batch: one being sent, one ready behind it. */
export const OUTBOX_LIMIT = 2;

const FOREVER: WaitSpec = Object.freeze({ deadline: Infinity, signal: undefined });

/** Packs small messages and keeps them in order with large ones. */
export class Batcher {
  private readonly maxBatchBytes: number;
  private readonly maxMessageBytes: number;
  private open: BatchBuilder | null = null;
  private readonly outbox: Frames[] = [];
  private pumping = false;
  private flushScheduled = false;
  /** Resolved (and replaced) each time the outbox shrinks or the pump stops. */
  private progress: { promise: Promise<void>; resolve: () => void } = deferred();
  /** Aborted when the client gives up draining: the pump then stops waiting for room. */
  private readonly drainController = new AbortController();
  private failure = 0;

  /**
   * @param sender - the client's socket sender
   * @param options - batch sizes
   * @param closed - the client's close signal
   * @param copyXfer - copy the XFER data of messages sent unbatched (zeromq.js keeps them by reference)
   */
  constructor(
    private readonly sender: SocketSender,
    options: ZeroMqBatchOptions,
    private readonly closed: AbortSignal,
    private readonly copyXfer = true,
  ) {
    this.maxBatchBytes = intOption('batch.maxBatchBytes', options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES, MIN_BATCH_BYTES);
    this.maxMessageBytes = Math.min(
      intOption('batch.maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_BATCHED_MESSAGE_BYTES, 0),
      this.maxBatchBytes - 4,
    );
  }

  /**
   * Takes one message.
   *
   * @returns `0` once in our hands, `EAGAIN` when the outbox is full and `spec` does not wait,
   *   or the code of a wait that ended (`ETIMEDOUT`, `ECANCELED`, `ESHUTDOWN`)
   */
  add(msg: OutgoingMessage, spec: WaitSpec): number | Promise<number> {
    if (this.failure !== 0) return this.takeFailure();
    const bytes = recordBytes(msg);
    if (bytes <= this.maxMessageBytes && this.open !== null && this.open.fits(bytes)) {
      this.open.append(msg);
      return LBM_OK;
    }
    if (this.open === null && bytes <= this.maxMessageBytes) {
      this.open = new BatchBuilder(this.maxBatchBytes);
      this.open.append(msg);
      this.scheduleFlush();
      return LBM_OK;
    }
    // Either the open batch is full or the message is too large to batch: both need outbox room.
    if (this.outbox.length < OUTBOX_LIMIT) return this.admit(msg, bytes);
    if (spec.deadline === 0) return EAGAIN;
    return this.waitThenAdd(msg, spec);
  }

  /** Hands the open batch to the pump and resolves when the outbox is empty (or the wait ends). */
  async flushNow(spec: WaitSpec = FOREVER): Promise<number> {
    this.sealOpen();
    this.pump();
    while (this.outbox.length > 0 || this.open !== null) {
      const rc = await raceWait(this.progress.promise, spec, this.closed);
      if (typeof rc === 'number') return rc;
      if (this.open !== null && this.outbox.length < OUTBOX_LIMIT) {
        this.sealOpen();
        this.pump();
      }
    }
    return this.failure !== 0 ? this.takeFailure() : LBM_OK;
  }

  /**
   * On close: hands everything to zeromq.js for at most `ms`, then gives up on the rest.
   *
   * @param ms - longest wait
   */
  async drain(ms: number): Promise<void> {
    const deadline = performance.now() + ms;
    this.sealOpen();
    this.pump();
    while ((this.outbox.length > 0 || this.pumping) && performance.now() < deadline) {
      await raceWait(this.progress.promise, { deadline, signal: undefined }, undefined);
    }
    this.drainController.abort();
    this.outbox.length = 0;
  }

  private admit(msg: OutgoingMessage, bytes: number): number {
    this.sealOpen();
    if (bytes <= this.maxMessageBytes) {
      this.open = new BatchBuilder(this.maxBatchBytes);
      this.open.append(msg);
      this.scheduleFlush();
    } else {
      const frames: Frames = [msg.meta];
      for (const d of msg.xfer) frames.push(this.copyXfer ? sendableCopy(d) : d);
      this.outbox.push(frames);
    }
    this.pump();
    return LBM_OK;
  }

  private async waitThenAdd(msg: OutgoingMessage, spec: WaitSpec): Promise<number> {
    while (this.outbox.length >= OUTBOX_LIMIT) {
      const rc = await raceWait(this.progress.promise, spec, this.closed);
      if (typeof rc === 'number') return rc;
      if (this.failure !== 0) return this.takeFailure();
    }
    return this.add(msg, spec);
  }

  private sealOpen(): void {
    if (this.open === null) return;
    const b = this.open;
    this.open = null;
    if (b.count > 0) this.outbox.push(b.seal());
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // Only when the outbox has room: otherwise the pump seals it as soon as there is.
      if (this.open !== null && this.outbox.length < OUTBOX_LIMIT) {
        this.sealOpen();
        this.pump();
      }
    });
  }

  /** Sends the outbox head to zeromq.js until the outbox is empty; one pump at a time. */
  private pump(): void {
    if (this.pumping || this.outbox.length === 0) return;
    this.pumping = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.outbox.length > 0) {
        const rc = await this.sender.send(this.outbox[0], FOREVER, this.drainController.signal);
        this.outbox.shift();
        if (rc !== LBM_OK) {
          // The socket is gone (or failed): what is left cannot be delivered any more.
          this.failure = rc;
          this.outbox.length = 0;
          this.open = null;
        }
        this.signalProgress();
        if (this.outbox.length === 0 && this.open !== null && !this.flushScheduled) this.scheduleFlush();
      }
    } finally {
      this.pumping = false;
      this.signalProgress();
    }
  }

  private signalProgress(): void {
    const p = this.progress;
    this.progress = deferred();
    p.resolve();
  }

  private takeFailure(): number {
    const rc = this.failure;
    if (rc !== ESHUTDOWN) this.failure = 0;
    return rc;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
