/**
 * Sending on a zeromq.js socket with the C++ return-code semantics: a send that cannot be queued
 * at once resolves `EAGAIN` (the `ZMQ_DONTWAIT` of the C++ code), or waits for room up to a
 * deadline when asked to.
 *
 * zeromq.js has no way to cancel a waiting `send()`, so a wait is cut into slices of at most
 * {@link SEND_SLICE_MS}: between slices the deadline, the caller's signal and close are checked.
 * A slice that succeeds after an abort still counts (the message was queued), so the code
 * returned is always the truth about the message.
 */
import type { WaitSpec } from '@lightbeam/core';
import { EAGAIN, ECANCELED, ESHUTDOWN, ETIMEDOUT, LBM_OK } from '@lightbeam/core';
import type { Push } from 'zeromq';
import { errnoOf } from './endpoint.js';

/** Longest single zeromq.js wait, in ms: the worst latency of an abort or close during a send. */
export const SEND_SLICE_MS = 50;

/** Frames of one ZeroMQ message. */
export type Frames = Uint8Array[];

/** Serialises nothing itself: callers make sure only one `send` runs at a time. */
export class SocketSender {
  private waiting: Promise<number> | null = null;

  /**
   * @param socket - a socket whose `sendTimeout` is 0 (every first attempt is non-blocking)
   * @param closed - aborted when the owner closes; ends waits with `ESHUTDOWN`
   */
  constructor(
    private readonly socket: Push,
    private readonly closed: AbortSignal,
  ) {}

  /**
   * Queues one message.
   *
   * @param frames - the frames; zeromq.js keeps views over 128 bytes by reference
   * @param spec - `deadline` 0: do not wait for room
   * @param closed - overrides the close signal (a drain on close uses its own)
   * @returns `0` once queued, `EAGAIN`, `ETIMEDOUT`, `ECANCELED`, `ESHUTDOWN` or an errno
   */
  send(frames: Frames, spec: WaitSpec, closed: AbortSignal = this.closed): Promise<number> {
    let first: Promise<void>;
    try {
      first = this.socket.send(frames);
    } catch (err) {
      return Promise.resolve(errnoOf(err, closed.aborted || this.socket.closed));
    }
    return first.then(
      () => LBM_OK,
      (err: unknown) => {
        const rc = errnoOf(err, closed.aborted || this.socket.closed);
        if (rc !== EAGAIN || spec.deadline === 0) return rc;
        const w = this.waitForRoom(frames, spec, closed);
        this.waiting = w;
        return w.finally(() => {
          if (this.waiting === w) this.waiting = null;
        });
      },
    );
  }

  /** Resolves when no waiting send is in progress. */
  async idle(): Promise<void> {
    while (this.waiting !== null) await this.waiting.catch(() => undefined);
  }

  private async waitForRoom(frames: Frames, spec: WaitSpec, closed: AbortSignal): Promise<number> {
    for (;;) {
      if (closed.aborted || this.socket.closed) return ESHUTDOWN;
      if (spec.signal?.aborted) return ECANCELED;
      const left = spec.deadline - performance.now();
      if (left <= 0) return ETIMEDOUT;
      const slice = Math.max(1, Math.ceil(Math.min(left, SEND_SLICE_MS)));
      let attempt: Promise<void>;
      try {
        // The timeout is read when `send` is called, so it applies to this call alone.
        this.socket.sendTimeout = slice;
        attempt = this.socket.send(frames);
      } catch (err) {
        return errnoOf(err, closed.aborted || this.socket.closed);
      } finally {
        if (!this.socket.closed) this.socket.sendTimeout = 0;
      }
      try {
        await attempt;
        return LBM_OK;
      } catch (err) {
        const rc = errnoOf(err, closed.aborted || this.socket.closed);
        if (rc !== EAGAIN) return rc;
      }
    }
  }
}
