/**
 * One call an RPC server is handling: its request, deadline and state, and the context its
 * handler gets. One object per call: it is the handler's `RpcContext` itself, its signal is made
 * on first use, and its deadline timer is armed only for a handler still running after it
 * returned (a synchronous handler settles before any timer could fire).
 */
import type { RpcEnvelope } from './envelope.js';
import type { RpcContext } from './server-types.js';

/** A call in progress on an RPC server; the handler sees it as its {@link RpcContext}. */
export class ServerCall implements RpcContext {
  /** The handler's signal, made on first use. */
  controller: AbortController | null = null;
  /** The reply was sent (or will not be): the handler's late result is discarded. */
  answered = false;
  /** The deadline timer fired: the caller has given up, so no reply is sent. */
  expired = false;
  /** The caller canceled (or the server closed): a signal made from now on starts aborted. */
  canceled = false;
  /** The deadline timer of a handler still running, if armed. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;

  /**
   * @param env - the request (kept until the reply is sent)
   * @param deadline - `performance.now()` after which the caller no longer waits
   */
  constructor(
    readonly env: RpcEnvelope,
    readonly deadline: number,
  ) {}

  /** The caller's correlation id. */
  get callId(): number {
    return this.env.callId;
  }

  /** The called name. */
  get method(): string {
    return this.env.method;
  }

  /** Aborted when the caller cancels, the deadline passes, or the server closes. */
  get signal(): AbortSignal {
    return this.control().signal;
  }

  /** Arms the deadline timer (an asynchronous handler is running). */
  armDeadline(): void {
    if (this.deadline === Infinity || this.timer !== undefined) return;
    // The call rides as the timer's argument: no closure per call.
    this.timer = setTimeout(deadlinePassed, this.deadline - performance.now(), this);
  }

  /** Stops the deadline timer (the handler settled). */
  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Aborts the handler's signal (if it made one) with `reason`. */
  abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  /** The signal, made now if not yet. */
  control(): AbortController {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.canceled) this.controller.abort(new Error('the call was canceled or the server closed'));
    }
    return this.controller;
  }
}

function deadlinePassed(call: ServerCall): void {
  call.timer = undefined;
  // Timers may fire a fraction of a millisecond early: trust the timer, not the clock.
  call.expired = true;
  call.control().abort(new Error('the call deadline passed'));
}
