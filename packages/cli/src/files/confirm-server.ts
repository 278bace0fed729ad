/**
 * The receiver's end of the reply path (confirm-protocol.ts): a ROUTER that answers each
 * sender's `watch` and then routes that transfer's events to it.
 */
import { Router } from 'zeromq';
import type { CurveAllowList } from '@lightbeam/zmq-bridge';
import { registerCurveAllowList } from '@lightbeam/zmq-bridge';
import { CliError } from '../common/cli-error.js';
import type { ConfirmEvent, WatchRequest } from './confirm-protocol.js';
import { MAX_CONFIRM_FRAME_BYTES, TRANSFER_PATH, decodeWatch, encodeConfirm } from './confirm-protocol.js';
import type { CurveServerKeys } from '../common/curve-options.js';
import { curveServerSocketOptions } from '../common/curve-options.js';

/** Transfers watched at once; beyond it the oldest watch is forgotten (its sender then times out). */
const MAX_WATCHERS = 1024;
/** Events waiting to be handed to ZeroMQ; beyond it events are dropped (their sender times out). */
const MAX_PENDING_EVENTS = 100_000;
/** Events queued per sender inside ZeroMQ (ZMQ_SNDHWM): a transfer of many small files confirms each. */
const SEND_HIGH_WATER_MARK = 100_000;

/** Options of {@link ConfirmServer.bind}. */
export interface ConfirmServerOptions {
  /** Host to bind. */
  host: string;
  /** TCP port to bind. */
  port: number;
  /** CURVE keys and allowed clients, when the data path uses CURVE. */
  curve?: CurveServerKeys;
  /**
   * Decides on each `watch`: a reason refuses the whole transfer (the sender is told, instead of
   * `watching`), `null` admits it.
   */
  admit?: (req: WatchRequest) => string | null;
}

/** Answers `watch` requests and routes each transfer's events to its sender. */
export class ConfirmServer {
  private readonly watchers = new Map<string, Buffer>();
  private sending: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly router: Router,
    private readonly allowList: CurveAllowList | null,
    private readonly admit: (req: WatchRequest) => string | null,
  ) {
    this.loop = this.serve();
  }

  /**
   * Binds the ROUTER.
   *
   * @throws CliError naming the address when it cannot be bound
   */
  static async bind(opts: ConfirmServerOptions): Promise<ConfirmServer> {
    // The same allow-list as the data port: a sender refused there learns nothing here either.
    const allowList = opts.curve?.allowedClients === undefined ? null : await registerCurveAllowList(opts.curve.allowedClients);
    const router = new Router({
      linger: 1000,
      maxMessageSize: MAX_CONFIRM_FRAME_BYTES,
      sendHighWaterMark: SEND_HIGH_WATER_MARK,
      ...(opts.curve === undefined ? {} : curveServerSocketOptions({ ...opts.curve, zapDomain: allowList?.domain })),
    });
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    try {
      await router.bind(`tcp://${host}:${opts.port}`);
    } catch (err) {
      router.close();
      allowList?.release();
      const reason = /in use/i.test((err as Error).message) ? 'address already in use' : (err as Error).message;
      throw new CliError(`cannot listen on ${host}:${opts.port} for the reply path: ${reason} (see --reply-port)`);
    }
    return new ConfirmServer(router, allowList, opts.admit ?? (() => null));
  }

  /** The TCP port bound. */
  get port(): number {
    return Number(/:(\d+)$/.exec(this.router.lastEndpoint ?? '')?.[1] ?? 0);
  }

  /**
   * Sends `event` to the sender watching its transfer, if one is; a `done` event ends the watch.
   *
   * @param event - what happened
   */
  publish(event: ConfirmEvent): void {
    const id = this.watchers.get(event.transferId);
    if (id === undefined) return;
    if (event.event === 'done') this.watchers.delete(event.transferId);
    this.enqueue(id, event);
  }

  /** Hands the events still queued to ZeroMQ, then closes (ZeroMQ delivers them for up to 1 s). */
  async close(): Promise<void> {
    await this.sending;
    this.router.close();
    await this.loop;
    this.allowList?.release();
  }

  private enqueue(id: Buffer, event: ConfirmEvent): void {
    if (this.pending >= MAX_PENDING_EVENTS) return;
    this.pending++;
    // zeromq.js allows one send at a time per socket: chain them.
    this.sending = this.sending.then(async () => {
      this.pending--;
      // A ROUTER never blocks: a peer that is gone, or full, drops the event.
      await this.router.send([id, encodeConfirm(event)]).catch(() => {});
    });
  }

  private async serve(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.router.receive();
      } catch {
        if (this.router.closed) return;
        continue; // a spurious EAGAIN: the socket looked readable but was not
      }
      if (frames.length !== 2) continue;
      const req = decodeWatch(frames[1]);
      if (req === null) continue;
      this.watchers.delete(req.transferId);
      const refused = this.admit(req);
      if (refused !== null) {
        this.enqueue(frames[0], { event: 'refused', transferId: req.transferId, path: TRANSFER_PATH, reason: refused });
        continue;
      }
      if (this.watchers.size >= MAX_WATCHERS) this.watchers.delete(this.watchers.keys().next().value as string);
      this.watchers.set(req.transferId, frames[0]);
      this.enqueue(frames[0], { event: 'watching', transferId: req.transferId });
    }
  }
}
