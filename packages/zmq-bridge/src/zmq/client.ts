/**
 * The ZeroMQ client: a PUSH socket that connects (wire format: docs/porting.md). One `send` is one
 * multipart message (metadata frame, then one frame per XFER bulk), or, when batching is on and
 * the message is small, one record of a batch (see batch-codec.ts). Before the first send the
 * client asks its server what it speaks (negotiate-client.ts): that decides `batch: 'auto'` and
 * the size limits every send is checked against.
 */
import type { OutgoingMessage, SendOptions, WaitOptions, WaitSpec } from '@lightbeam/core';
import { Client, DEFAULT_PORT, DEFAULT_PROTOCOL, LightbeamError, toWaitSpec } from '@lightbeam/core';
import { Push, curveKeyPair } from 'zeromq';
import { Batcher, MIN_BATCH_BYTES } from './batcher.js';
import { connectError, zmqUrl } from './endpoint.js';
import type { ZeroMqClientOptions } from './options.js';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_LINGER_MS, DEFAULT_MAX_BATCH_BYTES, DEFAULT_RECONNECT_INTERVAL_MS, intOption, portOption } from './options.js';
import { SocketSender } from './socket-sender.js';
import { outgoingFrames, settleMoves } from './outgoing-frames.js';
import { afterTurn, turnDue } from './send-copy.js';
import { PeerWatch } from './peer-watch.js';
import type { ZeroMqBatchOptions } from './options.js';
import type { PeerAgreement } from './negotiate-codec.js';
import { DEFAULT_NEGOTIATE_TIMEOUT_MS, negotiationUrl } from './negotiate-codec.js';
import { Negotiator, clientHello } from './negotiate-client.js';

function hasMoves(msg: OutgoingMessage): boolean {
  for (const b of msg.bulks) if (b.move === true) return true;
  return false;
}

/**
 * `hshm::lbm::ZeroMqClient`: sends to a {@link ZeroMqServer} (or the C++ server).
 *
 * @example
 * ```ts
 * const client = await ZeroMqClient.create('127.0.0.1', 'tcp', 8192);
 * const meta = new LbmMeta();
 * meta.send.push(client.expose(bytes, bytes.length, BULK_XFER));
 * const rc = await client.send(meta); // 0 once queued, EAGAIN when it cannot be
 * ```
 */
export class ZeroMqClient extends Client {
  /** The underlying zeromq.js socket (for options this class does not wrap). */
  readonly socket: Push;
  /** The URL connected to. */
  readonly url: string;
  private readonly address: string;
  private readonly sender: SocketSender;
  /** `undefined` while `batch: 'auto'` waits for the negotiation to decide. */
  private batcher: Batcher | null | undefined;
  private readonly batchOptions: ZeroMqBatchOptions | 'auto' | null;
  private readonly negotiator: Negotiator | null;
  private readonly copyXfer: boolean;
  private readonly lingerMs: number;
  private readonly watch: PeerWatch | null;

  /**
   * Makes the socket and connects it (connecting never waits in ZeroMQ: messages queue until the
   * peer is there, up to the high-water mark).
   *
   * @param addr - server host (tcp), path (ipc) or name (inproc)
   * @param protocol - `tcp`, `ipc` or `inproc`
   * @param port - server TCP port
   * @param options - socket options, CURVE keys, batching
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a bad protocol, address, port or option,
   *   `ERR_LBM_CONNECT` when zeromq.js refuses the URL
   */
  constructor(addr: string, protocol: string = DEFAULT_PROTOCOL, port: number = DEFAULT_PORT, options: ZeroMqClientOptions = {}) {
    super();
    if (protocol === 'tcp' && port === 0) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'a client needs the server port, got 0');
    this.url = zmqUrl(addr, protocol, port);
    this.address = addr;
    this.copyXfer = options.copyXfer ?? true;
    this.lingerMs = intOption('linger', options.linger, DEFAULT_LINGER_MS, -1);
    // Checked before the socket exists, so a bad option leaks nothing.
    const batch = options.batch ?? 'auto';
    this.batchOptions = batch === false ? null : batch === true ? {} : batch;
    if (typeof this.batchOptions === 'object' && this.batchOptions !== null) {
      intOption('batch.maxBatchBytes', this.batchOptions.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES, MIN_BATCH_BYTES);
      intOption('batch.maxMessageBytes', this.batchOptions.maxMessageBytes, 0, 0);
    }
    if (typeof options.negotiation === 'object') {
      portOption('negotiation.port', options.negotiation.port);
      intOption('negotiation.timeoutMs', options.negotiation.timeoutMs, DEFAULT_NEGOTIATE_TIMEOUT_MS, 1);
    }
    const socketOptions: Record<string, unknown> = {
      linger: this.lingerMs,
      sendHighWaterMark: intOption('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, 0),
      reconnectInterval: intOption('reconnectInterval', options.reconnectInterval, DEFAULT_RECONNECT_INTERVAL_MS, -1),
      // Every send first tries without waiting; waiting sends set a timeout for their own call.
      sendTimeout: 0,
    };
    // Set before connect: libzmq reads ZMQ_IMMEDIATE when it makes the connection's pipe.
    if (options.immediate === true) socketOptions.immediate = true;
    if (options.maxMessageSize !== undefined) socketOptions.maxMessageSize = intOption('maxMessageSize', options.maxMessageSize, -1, -1);
    if (options.curve !== undefined) {
      const { serverKey } = options.curve;
      if (typeof serverKey !== 'string') throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'curve.serverKey must be a Z85 string');
      const own = options.curve.publicKey !== undefined && options.curve.secretKey !== undefined ? options.curve : curveKeyPair();
      socketOptions.curveServerKey = serverKey;
      socketOptions.curvePublicKey = own.publicKey;
      socketOptions.curveSecretKey = own.secretKey;
    }
    try {
      this.socket = options.context === undefined ? new Push(socketOptions) : new Push({ ...socketOptions, context: options.context });
    } catch (err) {
      throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `cannot create a PUSH socket for ${this.url}: ${(err as Error).message}`, { cause: err });
    }
    if (options.watchPeer === true && protocol === 'inproc') {
      this.socket.close();
      throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'watchPeer needs tcp or ipc: ZeroMQ reports no connection events for inproc');
    }
    // Before connect, so the first handshake is not missed.
    this.watch = options.watchPeer === true ? new PeerWatch(this.socket) : null;
    try {
      this.socket.connect(this.url);
    } catch (err) {
      this.socket.close();
      throw connectError(this.url, err);
    }
    this.sender = new SocketSender(this.socket, this.closeController.signal);
    this.negotiator = this.makeNegotiator(options, socketOptions);
    // With a negotiation the batcher waits for it: 'auto' to decide, explicit batching to keep a
    // batch within the frame size the server takes.
    this.batcher = this.batchOptions !== null && this.negotiator !== null ? undefined : this.makeBatcher(null);
  }

  /**
   * Makes and connects a client; async for symmetry with {@link ZeroMqServer.create} and the factory.
   *
   * @param addr - as for the constructor
   * @param protocol - `tcp` (default), `ipc` or `inproc`
   * @param port - default 8192
   * @param options - as for the constructor
   */
  static async create(addr: string, protocol: string = DEFAULT_PROTOCOL, port: number = DEFAULT_PORT, options: ZeroMqClientOptions = {}): Promise<ZeroMqClient> {
    return new ZeroMqClient(addr, protocol, port, options);
  }

  /** The server address given at construction. */
  getAddress(): string {
    return this.address;
  }

  /**
   * True when this client packs small messages into batches (with `batch: 'auto'`: once the
   * negotiation found a server that reads them; false before).
   */
  get batching(): boolean {
    return this.batcher !== null && this.batcher !== undefined;
  }

  /**
   * What this client and its server agreed on: `null` before the negotiation (the first send or
   * {@link ZeroMqClient.negotiate}), towards a server that did not answer (a plain peer: the C++
   * server, an older release), or with `negotiation: false`.
   */
  get peer(): PeerAgreement | null {
    return this.negotiator?.agreement ?? null;
  }

  /**
   * Asks the server what it speaks now instead of on the first send (once; later calls share the
   * answer).
   *
   * @returns the agreement, or `null` for a plain peer (no answer in time) or `negotiation: false`
   * @throws LightbeamError `ERR_LBM_PROTOCOL_VERSION` when the server speaks no common protocol
   *   version (the message names both); every send then rejects with the same error
   */
  async negotiate(): Promise<PeerAgreement | null> {
    if (this.negotiator === null) return null;
    const a = await this.negotiator.settle();
    if (this.batcher === undefined) this.batcher = this.makeBatcher(a);
    return a;
  }

  /**
   * Sends the batch in progress now instead of at the end of the event-loop turn.
   *
   * @returns `0` when nothing is left in our hands, `EAGAIN` when zeromq.js had no room (the batch
   *   stays with us and is retried), or `ESHUTDOWN`
   */
  flush(): Promise<number> {
    return this.batcher === null || this.batcher === undefined ? Promise.resolve(0) : this.batcher.flushNow();
  }

  /**
   * With `watchPeer`: messages that `send` queued (resolved 0) while no server was connected and
   * that no server has taken since; after `close()`, those it closed with (not delivered, unless
   * a server came within the linger). `null` without `watchPeer`.
   */
  get undelivered(): number | null {
    return this.watch === null ? null : this.watch.queued;
  }

  /** With `watchPeer`: a server has completed the ZeroMQ handshake and is connected now; `null` without. */
  get peerConnected(): boolean | null {
    return this.watch === null ? null : this.watch.up;
  }

  /**
   * With `watchPeer`: waits until a server is connected, so that what is sent next is not queued
   * for nobody.
   *
   * @param opts - `timeoutMs`, `signal`
   * @returns `0` once connected, `ETIMEDOUT`, `ECANCELED` or `ESHUTDOWN`
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` without `watchPeer`
   */
  waitForPeer(opts?: WaitOptions): Promise<number> {
    if (this.watch === null) return Promise.reject(new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'waitForPeer needs the client option watchPeer: true'));
    return this.watch.wait(toWaitSpec(opts), this.closeController.signal);
  }

  /**
   * As {@link Client.sendRaw}; with `watchPeer`, a message queued while no server is connected
   * is counted in {@link ZeroMqClient.undelivered}.
   *
   * @param msg - as for {@link Client.sendRaw}
   * @param opts - as for {@link Client.sendRaw}
   */
  override sendRaw(msg: OutgoingMessage, opts?: SendOptions): Promise<number> {
    const rc = super.sendRaw(msg, opts);
    // Counted only while no server is there: nothing extra per message in steady state.
    return this.watch === null || this.watch.up ? rc : this.watch.count(rc);
  }

  /** Moved bulks are given away here (outgoing-frames.ts), not copied by the abstract client. */
  protected override get movesBlocks(): boolean {
    return true;
  }

  /** A moved plain buffer is detached and handed to zeromq.js without a copy. */
  protected override get movesPlainBuffers(): boolean {
    return true;
  }

  protected override transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    // The first send waits (a bounded time) for the negotiation; sends are never concurrent, so
    // the later ones find it settled.
    const n = this.negotiator;
    if (n !== null && !n.settled) return this.negotiate().then(() => this.transmitAgreed(msg, spec));
    return this.transmitAgreed(msg, spec);
  }

  private transmitAgreed(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    if (this.negotiator !== null) {
      const rc = this.negotiator.admit(msg);
      if (rc !== 0) return rc;
    }
    // A batched message is copied into the batch anyway: the batcher copies only what it hands to
    // zeromq.js as is (messages too large to batch).
    if (this.batcher !== null && this.batcher !== undefined) {
      let added: Promise<number> | number;
      if (!hasMoves(msg)) added = this.batcher.add(msg, spec);
      else {
        const out = outgoingFrames(msg, false);
        const sent = this.batcher.add({ meta: msg.meta, xfer: out.frames.slice(1), bulks: msg.bulks }, spec);
        added = typeof sent === 'number' ? settleMoves(out, sent) : sent.then((rc) => settleMoves(out, rc));
      }
      // The batcher copies what it hands to zeromq.js as is: the same turns as below.
      return turnDue() ? Promise.resolve(added).then(afterTurn) : added;
    }
    const out = outgoingFrames(msg, this.copyXfer);
    const sent = this.sender.send(out.frames, spec);
    const settled = out.blocks === null && out.given === null ? sent : sent.then((rc) => settleMoves(out, rc));
    // Many copies since the event loop last turned: let it turn, so that zeromq.js drops what
    // libzmq has sent and the copies' memory can come back (send-copy.ts).
    return turnDue() ? settled.then(afterTurn) : settled;
  }

  /** The negotiation of this client, or `null` with `negotiation: false`. */
  private makeNegotiator(options: ZeroMqClientOptions, socketOptions: Record<string, unknown>): Negotiator | null {
    const o = options.negotiation ?? true;
    if (o === false) return null;
    const cfg = o === true ? {} : o;
    const url = negotiationUrl(this.url, portOption('negotiation.port', cfg.port));
    if (url === null) return null;
    // The negotiation connection authenticates as the data connection does.
    const curve: Record<string, unknown> = {};
    for (const k of ['curveServerKey', 'curvePublicKey', 'curveSecretKey']) if (socketOptions[k] !== undefined) curve[k] = socketOptions[k];
    return new Negotiator({
      where: this.url,
      url,
      hello: clientHello(this.batchOptions !== null),
      ask: {
        timeoutMs: intOption('negotiation.timeoutMs', cfg.timeoutMs, DEFAULT_NEGOTIATE_TIMEOUT_MS, 1),
        context: options.context,
        socketOptions: curve,
        signal: this.closeController.signal,
      },
    });
  }

  /** The batcher the options and the agreement call for, or `null` for none. */
  private makeBatcher(agreement: PeerAgreement | null): Batcher | null {
    const b = this.batchOptions;
    if (b === null || (b === 'auto' && (agreement === null || agreement.batchVersion === 0))) return null;
    const opts: ZeroMqBatchOptions = b === 'auto' ? {} : { ...b };
    // A batch is one frame: keep it within what the server takes.
    const max = agreement?.maxMessageBytes ?? null;
    if (max !== null && max < (opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES)) {
      // Below the smallest batch there is nothing to gain: 'auto' sends plain messages.
      if (max < MIN_BATCH_BYTES) {
        if (b === 'auto') return null;
      } else opts.maxBatchBytes = max;
    }
    return new Batcher(this.sender, opts, this.closeController.signal, this.copyXfer);
  }

  protected override async shutdown(): Promise<void> {
    // Hand what we still hold to zeromq.js (bounded by the linger), then close: libzmq keeps
    // delivering queued messages for at most `linger` ms, so close never hangs.
    if (this.batcher !== null && this.batcher !== undefined) await this.batcher.drain(this.lingerMs < 0 ? 1000 : this.lingerMs);
    await this.sender.idle();
    if (!this.socket.closed) this.socket.close();
    if (this.watch !== null && this.watch.queued > 0) {
      process.emitWarning(`${this.url}: closed with ${this.watch.queued} message(s) queued that no server received (send resolves 0 once queued, not delivered)`, {
        type: 'LightbeamWarning',
        code: 'LBM_UNDELIVERED',
      });
    }
  }
}
