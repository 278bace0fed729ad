/**
 * Whether a client's server is there, from ZeroMQ's connection events (a monitor socket). ZeroMQ
 * queues a message for a server that is not there yet and `send` resolves 0 (as the C++ `Send`
 * does); a client that closes before any server completed the handshake has delivered nothing,
 * and only zeromq.js's exit-time warning says so. The watch counts those messages, so `close()`
 * can report them, and lets a sender wait for a server first.
 *
 * The monitor keeps the process alive until the client closes, which is why it is opt-in.
 */
import type { WaitSpec } from '@lightbeam/core';
import { LBM_OK, raceWait } from '@lightbeam/core';
import type { Push } from 'zeromq';

/** Connection state and the messages queued while no server was connected. */
export class PeerWatch {
  /** A server has completed the handshake and not disconnected since. */
  up = false;
  /** Messages queued (send resolved 0) while no server was connected, since the last handshake. */
  queued = 0;
  private waiters: Array<() => void> = [];

  /** @param socket - the client's socket, before it connects (so no event is missed) */
  constructor(socket: Push) {
    const events = socket.events;
    events.on('handshake', () => {
      // libzmq hands what waited in the pipe to the server that just connected.
      this.up = true;
      this.queued = 0;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
    events.on('disconnect', () => {
      this.up = false;
    });
  }

  /**
   * Counts the message once its send resolved 0, if no server is connected by then.
   *
   * @param rc - the send's result
   */
  count(rc: Promise<number>): Promise<number> {
    return rc.then((code) => {
      if (code === LBM_OK && !this.up) this.queued++;
      return code;
    });
  }

  /**
   * Resolves `0` once a server is connected (at once if it is), or `ETIMEDOUT`, `ECANCELED`,
   * `ESHUTDOWN`.
   *
   * @param spec - deadline and signal
   * @param closed - the client's close signal
   */
  wait(spec: WaitSpec, closed: AbortSignal): Promise<number> {
    if (this.up) return Promise.resolve(LBM_OK);
    let done!: () => void;
    const connected = new Promise<number>((resolve) => (done = () => resolve(LBM_OK)));
    this.waiters.push(done);
    return raceWait(connected, spec, closed).finally(() => {
      this.waiters = this.waiters.filter((f) => f !== done);
    });
  }
}
