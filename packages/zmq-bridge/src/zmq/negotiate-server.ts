/**
 * The server side of the negotiation (frame layout in negotiate-codec.ts): a ROUTER bound beside
 * the data PULL socket answers each client's hello with what this server reads. A hello whose
 * protocol versions do not overlap ours is answered too (so the client can name both versions)
 * and reported here once, as a process warning carrying a `LightbeamError`
 * `ERR_LBM_PROTOCOL_VERSION`.
 *
 * The ROUTER is polled from an unref'd timer instead of holding a receive open: a pending
 * zeromq.js receive keeps the process alive, and a server that nobody waits on must not (as
 * before negotiation existed). A hello waits at most {@link NEGOTIATE_POLL_MS} for its answer.
 */
import { LightbeamError } from '@lightbeam/core';
import type { Context, Pull } from 'zeromq';
import { Router } from 'zeromq';
import { BATCH_VERSION } from './batch-codec.js';
import type { IpcFile } from './ipc-file.js';
import { ipcFileOf, removeIpcFile } from './ipc-file.js';
import type { PeerHello } from './negotiate-codec.js';
import { MIN_PROTOCOL_VERSION, NEGOTIATE_ANSWER, NEGOTIATE_MAX_FRAME_BYTES, NEGOTIATE_HELLO, PROTOCOL_VERSION, agree, decodeNegotiation, encodeNegotiation, negotiationUrl, versionMismatchMessage } from './negotiate-codec.js';

/** How often a server looks for hellos, in ms. */
export const NEGOTIATE_POLL_MS = 10;
/** Most hellos answered per poll (a flood cannot hold the event loop). */
const MAX_PER_POLL = 64;
/** Ephemeral binds tried before a port-0 server gives up on a negotiation port. */
const EPHEMERAL_TRIES = 8;

/** What a server's negotiation endpoint has done. */
export interface NegotiationStats {
  /** Hellos answered with a common version. */
  answered: number;
  /** Hellos from clients with no common version (each reported by a warning). */
  refused: number;
}

/** How the server's negotiation endpoint is made. */
export interface NegotiationBindOptions {
  /** What the server announces. */
  hello: PeerHello;
  /** tcp: an explicit negotiation port instead of the derived one. */
  port?: number;
  /** The zeromq.js context of the data socket. */
  context?: Context;
  /** Extra socket options (the data socket's CURVE keys and ZAP domain). */
  socketOptions?: Record<string, unknown>;
}

/**
 * The hello of a server of this release.
 *
 * @param acceptBatches - whether it reads batches
 * @param maxMessageSize - its ZMQ_MAXMSGSIZE (-1 = none)
 * @param maxBulkSize - its decoder's largest bulk size
 */
export function serverHello(acceptBatches: boolean, maxMessageSize: number, maxBulkSize: number): PeerHello {
  return {
    minProtocol: MIN_PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    batchVersions: acceptBatches ? 1 << (BATCH_VERSION - 1) : 0,
    maxMessageBytes: maxMessageSize < 0 ? 0 : maxMessageSize,
    maxBulkBytes: maxBulkSize >= Number.MAX_SAFE_INTEGER ? 0 : maxBulkSize,
    features: 0n,
  };
}

/** A bound negotiation endpoint answering hellos. */
export class NegotiationEndpoint {
  /** Counters, for tests and diagnostics. */
  readonly stats: NegotiationStats = { answered: 0, refused: 0 };
  private readonly timer: ReturnType<typeof setInterval>;
  private busy = false;
  private readonly answer: Buffer;

  private constructor(
    private readonly router: Router,
    private readonly hello: PeerHello,
    private readonly where: string,
    private readonly ipcFile: IpcFile | null,
  ) {
    this.answer = encodeNegotiation(NEGOTIATE_ANSWER, hello);
    this.timer = setInterval(() => void this.poll(), NEGOTIATE_POLL_MS);
    this.timer.unref();
  }

  /** The bound URL (the port is real for tcp). */
  get url(): string {
    return this.router.lastEndpoint ?? '';
  }

  /**
   * Binds the endpoint beside a bound data socket. A port-0 (`*`) tcp server rebinds its data
   * socket on another ephemeral port when the derived one is taken.
   *
   * @param data - the bound data socket
   * @param dataUrl - the URL it was asked to bind (`tcp://host:*` for an ephemeral port)
   * @param opts - what to announce and how to bind
   * @returns the endpoint, or the reason it could not be bound
   */
  static async bindBeside(data: Pull, dataUrl: string, opts: NegotiationBindOptions): Promise<NegotiationEndpoint | string> {
    const ephemeral = dataUrl.startsWith('tcp://') && dataUrl.endsWith(':*') && opts.port === undefined;
    let reason = '';
    for (let attempt = 0; attempt < (ephemeral ? EPHEMERAL_TRIES : 1); attempt++) {
      if (attempt > 0) {
        // The derived port was taken: move the data socket to another ephemeral port.
        await data.unbind(data.lastEndpoint as string);
        await data.bind(dataUrl);
      }
      const where = data.lastEndpoint as string;
      const url = negotiationUrl(where, opts.port);
      if (url === null) {
        reason = `${where} has no negotiation port (above 65535)`;
        continue;
      }
      const router = makeRouter(opts);
      try {
        await router.bind(url);
      } catch (err) {
        router.close();
        reason = `cannot bind ${url}: ${(err as Error).message}`;
        continue;
      }
      const file = url.startsWith('ipc://') ? ipcFileOf(router.lastEndpoint) : null;
      return new NegotiationEndpoint(router, opts.hello, where, file);
    }
    return reason;
  }

  /** Stops answering and closes the socket (and removes an ipc socket file). */
  close(): void {
    clearInterval(this.timer);
    if (!this.router.closed) this.router.close();
    if (this.ipcFile !== null) removeIpcFile(this.ipcFile);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let n = 0; n < MAX_PER_POLL && !this.router.closed && this.router.readable; n++) {
        const frames = await this.router.receive();
        // [routing id, hello]: anything else is not a Lightbeam hello.
        if (frames.length !== 2) continue;
        const hello = decodeNegotiation(frames[1], NEGOTIATE_HELLO);
        if (hello === null) continue;
        if (agree(hello, this.hello) === null) this.refuse(hello);
        else this.stats.answered++;
        // Answered either way, so the client can name both versions. A client gone by now is
        // dropped by the ROUTER, silently, as it should be.
        await this.router.send([frames[0], this.answer]).catch(() => undefined);
      }
    } catch {
      // Closed under us: the next poll finds the socket closed and the timer cleared.
    } finally {
      this.busy = false;
    }
  }

  private refuse(client: PeerHello): void {
    this.stats.refused++;
    process.emitWarning(new LightbeamError('ERR_LBM_PROTOCOL_VERSION', versionMismatchMessage(this.where, this.hello, client, 'client')));
  }
}

function makeRouter(opts: NegotiationBindOptions): Router {
  const options: Record<string, unknown> = {
    ...opts.socketOptions,
    linger: 0,
    sendTimeout: 0,
    // Hellos are 40 bytes; a peer sending megabytes here is disconnected before it is read.
    maxMessageSize: NEGOTIATE_MAX_FRAME_BYTES,
  };
  if (opts.context !== undefined) options.context = opts.context;
  return new Router(options);
}
