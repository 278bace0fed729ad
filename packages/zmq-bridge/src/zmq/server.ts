/**
 * The ZeroMQ server: a PULL socket that binds (wire format: docs/porting.md). It only moves frames; every
 * protocol rule (decoding, recv vectors, mismatches) lives in the `Server` base class.
 */
import type { IncomingMessage, WaitSpec } from '@lightbeam/core';
import { DEFAULT_PORT, DEFAULT_PROTOCOL, EAGAIN, ESHUTDOWN, LightbeamError, Server, raceWait } from '@lightbeam/core';
import type { Context } from 'zeromq';
import { Pull } from 'zeromq';
import type { CurveAllowList, CurveAllowListStats } from '../curve/zap-handler.js';
import { registerCurveAllowList } from '../curve/zap-handler.js';
import { MALFORMED_RECORD, isBatchMarker, unpackBatch } from './batch-codec.js';
import { bindError, errnoOf, zmqCode, zmqUrl } from './endpoint.js';
import type { IpcFile } from './ipc-file.js';
import { ipcFileOf, removeIpcFile } from './ipc-file.js';
import type { ZeroMqServerOptions } from './options.js';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_LINGER_MS, intOption, portOption } from './options.js';
import type { NegotiationStats } from './negotiate-server.js';
import { NegotiationEndpoint, serverHello } from './negotiate-server.js';

/** A plain multipart message: frame 0 is the metadata, the rest are data frames. */
class FrameMessage implements IncomingMessage {
  constructor(private readonly frames: Buffer[]) {}

  get meta(): Uint8Array {
    return this.frames[0];
  }

  get dataCount(): number {
    return this.frames.length - 1;
  }

  data(i: number): Uint8Array {
    return this.frames[i + 1];
  }

  release(): void {}
}

/**
 * `hshm::lbm::ZeroMqServer`: receives what {@link ZeroMqClient}s (or the C++ client) send.
 *
 * @example
 * ```ts
 * const server = await ZeroMqServer.create('127.0.0.1', 'tcp', 8192);
 * const meta = new LbmMeta();
 * if ((await server.waitMetadata(meta, { timeoutMs: 1000 })) === 0) { ... }
 * ```
 */
export class ZeroMqServer extends Server {
  /** The underlying zeromq.js socket (for options this class does not wrap). */
  readonly socket: Pull;
  /** The URL asked for (`tcp://127.0.0.1:*` for an ephemeral port). */
  readonly url: string;
  private readonly acceptBatches: boolean;
  private bound: Promise<this> | null = null;
  /** Messages received but not yet handed out (the rest of a batch, or a late arrival). */
  private ready: IncomingMessage[] = [];
  private readyHead = 0;
  /** The single zeromq.js receive in progress, shared by every waiter (zeromq.js allows one). */
  private parked: Promise<void> | null = null;
  private failure = 0;
  private readonly allowedClients: readonly string[] | undefined;
  private readonly zmqContext: Context | undefined;
  private allowList: CurveAllowList | null = null;
  /** The socket file an ipc bind made (libzmq leaves it behind on close; we remove it). */
  private ipcFile: IpcFile | null = null;
  private readonly negotiationOptions: { port?: number } | null;
  private readonly curveOptions: Record<string, unknown> = {};
  private negotiation: NegotiationEndpoint | null = null;
  /** The negotiation endpoint's own allow-list (same keys), so `curveStats` counts data connections only. */
  private negotiationAllowList: CurveAllowList | null = null;

  /**
   * Makes the socket; call {@link ZeroMqServer.bind} (or use {@link ZeroMqServer.create}) before receiving.
   *
   * @param addr - host to bind (tcp), path (ipc) or name (inproc); `getAddress()` returns it
   * @param protocol - `tcp`, `ipc` or `inproc`
   * @param port - TCP port; 0 binds an ephemeral port (read it from {@link ZeroMqServer.port})
   * @param options - socket options, CURVE keys, decoding limits
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a bad protocol, address, port or option
   */
  constructor(addr: string, protocol: string = DEFAULT_PROTOCOL, port: number = DEFAULT_PORT, options: ZeroMqServerOptions = {}) {
    super(addr, options);
    this.url = zmqUrl(addr, protocol, port);
    this.acceptBatches = options.acceptBatches ?? true;
    const neg = options.negotiation ?? true;
    this.negotiationOptions = neg === false ? null : neg === true ? {} : { port: portOption('negotiation.port', neg.port) };
    const socketOptions: Record<string, unknown> = {
      linger: intOption('linger', options.linger, DEFAULT_LINGER_MS, -1),
      receiveHighWaterMark: intOption('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, 0),
      maxMessageSize: intOption('maxMessageSize', options.maxMessageSize, -1, -1),
    };
    if (options.curve !== undefined) {
      if (typeof options.curve.secretKey !== 'string') throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'curve.secretKey must be a Z85 string');
      socketOptions.curveServer = true;
      socketOptions.curveSecretKey = options.curve.secretKey;
      if (options.curve.publicKey !== undefined) socketOptions.curvePublicKey = options.curve.publicKey;
      this.allowedClients = options.curve.allowedClients;
      for (const k of ['curveServer', 'curveSecretKey', 'curvePublicKey']) if (socketOptions[k] !== undefined) this.curveOptions[k] = socketOptions[k];
    }
    this.zmqContext = options.context;
    try {
      this.socket = options.context === undefined ? new Pull(socketOptions) : new Pull({ ...socketOptions, context: options.context });
    } catch (err) {
      throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `cannot create a PULL socket for ${this.url}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Makes and binds a server.
   *
   * @param addr - as for the constructor
   * @param protocol - `tcp` (default), `ipc` or `inproc`
   * @param port - default 8192; 0 for an ephemeral port
   * @param options - as for the constructor
   * @throws LightbeamError `ERR_LBM_BIND` naming the URL and the reason (errno kept)
   */
  static async create(addr: string, protocol: string = DEFAULT_PROTOCOL, port: number = DEFAULT_PORT, options: ZeroMqServerOptions = {}): Promise<ZeroMqServer> {
    return new ZeroMqServer(addr, protocol, port, options).bind();
  }

  /**
   * Binds the socket (once; later calls return the same promise).
   *
   * @throws LightbeamError `ERR_LBM_BIND` naming the URL and the reason; the socket is closed
   */
  bind(): Promise<this> {
    if (this.bound === null) {
      this.bound = this.admitOnlyAllowed().then(
        () =>
          this.socket.bind(this.url).then(
            async () => {
              if (this.url.startsWith('ipc:')) this.ipcFile = ipcFileOf(this.socket.lastEndpoint);
              await this.bindNegotiation();
              return this;
            },
            async (err: unknown) => {
              await this.close();
              throw bindError(this.url, err);
            },
          ),
        async (err: unknown) => {
          await this.close();
          throw err;
        },
      );
    }
    return this.bound;
  }

  /** Counters of the CURVE allow-list (clients admitted and refused), or `null` without one. */
  get curveStats(): CurveAllowListStats | null {
    return this.allowList === null ? null : { ...this.allowList.stats };
  }

  /**
   * What the negotiation endpoint has answered (`answered`, and `refused` for clients with no
   * common protocol version), or `null` when this server has none.
   */
  get negotiationStats(): NegotiationStats | null {
    return this.negotiation === null ? null : { ...this.negotiation.stats };
  }

  /** The bound negotiation endpoint's URL, or `null` when this server has none. */
  get negotiationEndpoint(): string | null {
    return this.negotiation === null || this.closed ? null : this.negotiation.url;
  }

  /** Binds the negotiation endpoint beside the data endpoint; a failure only costs negotiation. */
  private async bindNegotiation(): Promise<void> {
    if (this.negotiationOptions === null || this.closed) return;
    const curve = { ...this.curveOptions };
    if (this.allowedClients !== undefined) {
      this.negotiationAllowList = await registerCurveAllowList(this.allowedClients, this.zmqContext);
      if (this.closed) {
        this.negotiationAllowList.release();
        this.negotiationAllowList = null;
        return;
      }
      curve.zapDomain = this.negotiationAllowList.domain;
    }
    const got = await NegotiationEndpoint.bindBeside(this.socket, this.url, {
      hello: serverHello(this.acceptBatches, this.socket.maxMessageSize, this.limits.maxBulkSize),
      port: this.negotiationOptions.port,
      context: this.zmqContext,
      socketOptions: curve,
    });
    if (typeof got === 'string') {
      process.emitWarning(`${this.endpoint ?? this.url}: no negotiation endpoint (${got}); clients treat this server as a plain peer (no batching by default)`, {
        type: 'LightbeamWarning',
        code: 'LBM_NO_NEGOTIATION',
      });
      return;
    }
    if (this.closed) got.close();
    else this.negotiation = got;
  }

  /** With `curve.allowedClients`: registers them with the context's ZAP handler before binding. */
  private async admitOnlyAllowed(): Promise<void> {
    if (this.allowedClients === undefined) return;
    const list = await registerCurveAllowList(this.allowedClients, this.zmqContext);
    if (this.closed) {
      // Closed while registering: shutdown() ran before there was anything to release.
      list.release();
      throw new LightbeamError('ERR_LBM_CLOSED', `${this.url} was closed before it was bound`);
    }
    this.allowList = list;
    this.socket.zapDomain = list.domain;
  }

  /** The URL actually bound (with the real port), or `null` before `bind` resolved. */
  get endpoint(): string | null {
    return this.socket.closed ? null : this.socket.lastEndpoint;
  }

  /**
   * The endpoint actually bound, e.g. `tcp://127.0.0.1:41234` after a bind to port 0 (where
   * `getAddress()` keeps returning the address given at construction, as in C++).
   *
   * @returns the bound URL, or `null` before `bind` resolved or after close
   */
  getEndpoint(): string | null {
    return this.endpoint;
  }

  /** The TCP port actually bound, or `null` for ipc/inproc or before `bind` resolved. */
  get port(): number | null {
    const m = /:(\d+)$/.exec(this.endpoint ?? '');
    return m === null || !this.url.startsWith('tcp:') ? null : Number(m[1]);
  }

  protected override receive(spec: WaitSpec): IncomingMessage | number | Promise<IncomingMessage | number> {
    const next = this.takeReady();
    if (next !== undefined) return next;
    if (this.failure !== 0) return this.takeFailure();
    if (spec.deadline === 0) {
      // The parked receive owns whatever arrives next; a message it takes lands in `ready`.
      if (this.parked !== null || this.socket.closed || !this.socket.readable) return this.closed ? ESHUTDOWN : EAGAIN;
      return this.pull().then(() => this.takeReady() ?? (this.failure !== 0 ? this.takeFailure() : EAGAIN));
    }
    return this.waitReady(spec);
  }

  protected override async shutdown(): Promise<void> {
    this.negotiation?.close();
    this.negotiationAllowList?.release();
    this.negotiationAllowList = null;
    if (!this.socket.closed) this.socket.close();
    if (this.ipcFile !== null) removeIpcFile(this.ipcFile);
    this.ipcFile = null;
    this.allowList?.release();
    this.ready = [];
    this.readyHead = 0;
  }

  private async waitReady(spec: WaitSpec): Promise<IncomingMessage | number> {
    // No deadline and no signal (a receive loop's wait): only close can end it, and closing the
    // socket rejects the parked receive, so it is awaited as it is, without a race's promise,
    // closures and two abort listeners per message.
    const plain = spec.deadline === Infinity && spec.signal === undefined;
    for (;;) {
      if (plain) {
        await this.pull();
        if (this.closed && this.ready.length === this.readyHead) return ESHUTDOWN;
      } else {
        // A receive that loses the race keeps running: its message lands in `ready` for the next caller.
        const rc = await raceWait(this.pull(), spec, this.closeController.signal);
        if (typeof rc === 'number') return rc;
      }
      const next = this.takeReady();
      if (next !== undefined) return next;
      if (this.failure !== 0) return this.takeFailure();
      // An empty batch: nothing to hand out, keep waiting.
    }
  }

  /** Starts (or joins) the one zeromq.js receive; resolves once its frames are in `ready`. */
  private pull(): Promise<void> {
    if (this.parked === null) {
      this.parked = this.socket.receive().then(
        (frames) => {
          this.parked = null;
          this.enqueue(frames);
        },
        (err: unknown) => {
          this.parked = null;
          // We set no receive timeout, yet zeromq.js may reject with EAGAIN when libzmq reported the
          // socket readable and then had nothing to hand over (seen with CURVE and a ZAP handler).
          // Nothing arrived: the next pull waits again instead of failing the caller.
          if (zmqCode(err) === 'EAGAIN' && !this.closed) return;
          this.failure = errnoOf(err, this.closed);
        },
      );
    }
    return this.parked;
  }

  private enqueue(frames: Buffer[]): void {
    if (this.readyHead === this.ready.length) {
      this.ready.length = 0;
      this.readyHead = 0;
    }
    if (this.acceptBatches && isBatchMarker(frames[0])) {
      if (frames.length === 2) unpackBatch(frames[1], this.limits.maxBulks, this.ready);
      else this.ready.push(MALFORMED_RECORD);
      return;
    }
    this.ready.push(new FrameMessage(frames));
  }

  private takeReady(): IncomingMessage | undefined {
    if (this.readyHead === this.ready.length) return undefined;
    const m = this.ready[this.readyHead];
    this.ready[this.readyHead++] = MALFORMED_RECORD; // drop the reference for the GC
    return m;
  }

  private takeFailure(): number {
    const rc = this.closed ? ESHUTDOWN : this.failure;
    this.failure = 0;
    return rc;
  }
}
