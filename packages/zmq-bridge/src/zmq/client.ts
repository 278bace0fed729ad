/**
 * The ZeroMQ client: a PUSH socket that connects (DESIGN.md section 2). One `send` is one
 * multipart message (metadata frame, then one frame per XFER bulk), or, when batching is on and
 * the message is small, one record of a batch (see batch-codec.ts).
 */
import { sendableCopy } from './frame-copy.js';
import type { OutgoingMessage, WaitSpec } from '@lightbeam/core';
import { Client, DEFAULT_PORT, DEFAULT_PROTOCOL, LightbeamError } from '@lightbeam/core';
import { Push, curveKeyPair } from 'zeromq';
import { Batcher } from './batcher.js';
import { connectError, zmqUrl } from './endpoint.js';
import type { ZeroMqClientOptions } from './options.js';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_LINGER_MS, DEFAULT_RECONNECT_INTERVAL_MS, intOption } from './options.js';
import { SocketSender } from './socket-sender.js';

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
  private readonly batcher: Batcher | null;
  private readonly copyXfer: boolean;
  private readonly lingerMs: number;

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
    try {
      this.socket.connect(this.url);
    } catch (err) {
      this.socket.close();
      throw connectError(this.url, err);
    }
    this.sender = new SocketSender(this.socket, this.closeController.signal);
    const batch = options.batch;
    this.batcher = batch === undefined || batch === false ? null : new Batcher(this.sender, batch === true ? {} : batch, this.closeController.signal, this.copyXfer);
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

  /** True when this client packs small messages into batches. */
  get batching(): boolean {
    return this.batcher !== null;
  }

  /**
   * Sends the batch in progress now instead of at the end of the event-loop turn.
   *
   * @returns `0` when nothing is left in our hands, `EAGAIN` when zeromq.js had no room (the batch
   *   stays with us and is retried), or `ESHUTDOWN`
   */
  flush(): Promise<number> {
    return this.batcher === null ? Promise.resolve(0) : this.batcher.flushNow();
  }

  protected override transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    // A batched message is copied into the batch anyway: the batcher copies only what it hands to
    // zeromq.js as is (messages too large to batch).
    if (this.batcher !== null) return this.batcher.add(msg, spec);
    const out = this.copyXfer ? { meta: msg.meta, xfer: msg.xfer.map(sendableCopy), bulks: msg.bulks } : msg;
    const frames: Uint8Array[] = new Array(out.xfer.length + 1);
    frames[0] = out.meta; // fresh from encodeMeta: never reused by the library
    for (let i = 0; i < out.xfer.length; i++) frames[i + 1] = out.xfer[i];
    return this.sender.send(frames, spec);
  }

  protected override async shutdown(): Promise<void> {
    // Hand what we still hold to zeromq.js (bounded by the linger), then close: libzmq keeps
    // delivering queued messages for at most `linger` ms, so close never hangs.
    if (this.batcher !== null) await this.batcher.drain(this.lingerMs < 0 ? 1000 : this.lingerMs);
    await this.sender.idle();
    if (!this.socket.closed) this.socket.close();
  }
}
