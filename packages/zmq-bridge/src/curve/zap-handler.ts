/**
 * CURVE client allow-lists, through a ZAP handler (ZeroMQ RFC 27). libzmq asks the handler bound
 * at `inproc://zeromq.zap.01` in a socket's context whether each CURVE client may connect; the
 * answer comes from here. Without a handler libzmq admits every client that knows the server's
 * public key, which is what an allow-list closes.
 *
 * One handler serves a whole zeromq.js context, and once it is bound libzmq consults it for every
 * CURVE (and PLAIN) handshake of that context. So each server with an allow-list gets a ZAP domain
 * of its own (`ZMQ_ZAP_DOMAIN`), and requests for any other domain are answered `200` (admit), as
 * libzmq would without a handler: servers without an allow-list behave as before.
 *
 * A ZAP request and reply, each a multipart message (after the ROUTER's routing id and the empty
 * delimiter):
 *
 * | frame | request             | reply                         |
 * |-------|---------------------|-------------------------------|
 * | 0     | version `1.0`       | version `1.0`                 |
 * | 1     | request id          | the same request id           |
 * | 2     | domain              | status code `200` or `400`    |
 * | 3     | peer address        | status text                   |
 * | 4     | routing id          | user id (empty)               |
 * | 5     | mechanism (`CURVE`) | metadata (empty)              |
 * | 6     | client key, 32 bytes| -                             |
 *
 * The handler's socket is closed when the last allow-list is released, so a process with no
 * server left is not kept alive by it.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'zeromq';
import { Router, context as defaultContext } from 'zeromq';
import { LightbeamError } from '@lightbeam/core';
import { isZ85Key, z85Encode } from './z85.js';

/** The endpoint libzmq sends ZAP requests to (RFC 27). */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/** Counters of an allow-list's decisions. */
export interface CurveAllowListStats {
  /** CURVE handshakes admitted (the client key is listed). */
  admitted: number;
  /** Handshakes refused (another key, or no CURVE). */
  refused: number;
}

/** One registered allow-list: the ZAP domain to set on the server socket, and how to drop it. */
export interface CurveAllowList {
  /** Set as the server socket's `zapDomain` (`ZMQ_ZAP_DOMAIN`) before it binds. */
  readonly domain: string;
  /** Counters of this allow-list's decisions. */
  readonly stats: CurveAllowListStats;
  /** Forgets the allow-list (idempotent); the handler closes with the last one. */
  release(): void;
}

interface Entry {
  keys: ReadonlySet<string>;
  stats: CurveAllowListStats;
}

const enc = new TextEncoder();

/** Binds the ZAP endpoint, retrying briefly while a closed handler's endpoint is being released. */
async function bindZap(router: Router): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await router.bind(ZAP_ENDPOINT);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** How long the handler outlives the last allow-list released, in ms (see `ZapHandler.stop`). */
const ZAP_CLOSE_GRACE_MS = 250;

/** The ZAP handler of one zeromq.js context. */
class ZapHandler {
  private readonly domains = new Map<string, Entry>();
  private router: Router | null = null;
  private ready: Promise<void> | null = null;
  private stopping: Promise<void> = Promise.resolve();
  private stopTimer: NodeJS.Timeout | null = null;

  constructor(private readonly context: Context) {}

  async register(keys: ReadonlySet<string>): Promise<CurveAllowList> {
    const domain = `lightbeam-${randomBytes(8).toString('hex')}`;
    const entry: Entry = { keys, stats: { admitted: 0, refused: 0 } };
    this.domains.set(domain, entry);
    try {
      await this.start();
    } catch (err) {
      this.domains.delete(domain);
      throw err;
    }
    let released = false;
    return {
      domain,
      stats: entry.stats,
      release: () => {
        if (released) return;
        released = true;
        this.domains.delete(domain);
        if (this.domains.size === 0) this.stop();
      },
    };
  }

  private start(): Promise<void> {
    if (this.ready !== null) return this.ready;
    const router = new Router({ context: this.context, linger: 0 });
    this.router = router;
    // A handler stopped just before may still hold the endpoint: wait for its unbind first.
    this.ready = this.stopping.then(() => bindZap(router)).then(
      () => void this.serve(router),
      (err: unknown) => {
        if (this.router === router) {
          this.router = null;
          this.ready = null;
        }
        router.close();
        throw new LightbeamError('ERR_LBM_BIND', `cannot bind the ZAP handler at ${ZAP_ENDPOINT}: ${(err as Error).message} (another ZAP handler in this context?)`, {
          cause: err,
        });
      },
    );
    return this.ready;
  }

  private stop(): void {
    // Closed a moment later, not at once: the server whose list was the last one closed just
    // before, and its sessions are still tearing down their ZAP pipes to this socket on libzmq's
    // I/O thread. Closing both ends at once tripped an assertion in libzmq's pipe termination
    // (pipe.cpp:355) that aborted the process about once in ten test runs. A register within the
    // grace keeps the handler.
    if (this.stopTimer !== null) return;
    this.stopTimer = setTimeout(() => {
      this.stopTimer = null;
      if (this.domains.size === 0) this.stopNow();
    }, ZAP_CLOSE_GRACE_MS);
    this.stopTimer.unref();
  }

  private stopNow(): void {
    const r = this.router;
    this.router = null;
    this.ready = null;
    if (r === null || r.closed) return;
    // libzmq frees an inproc endpoint only once the socket is unbound or reaped; unbinding before
    // the close lets the next handler of this context bind at once instead of failing.
    this.stopping = r.unbind(ZAP_ENDPOINT).then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      if (!r.closed) r.close();
    });
  }

  private async serve(router: Router): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await router.receive();
      } catch {
        if (router.closed) return;
        continue; // a spurious EAGAIN: the socket looked readable but was not
      }
      // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials...]
      if (frames.length < 8) continue;
      const [id, empty, version, requestId, domainFrame, , , mechanism] = frames;
      const domain = domainFrame.toString('utf8');
      const entry = this.domains.get(domain);
      let status = '200';
      let text = 'OK';
      if (entry !== undefined) {
        const key = mechanism.toString('utf8') === 'CURVE' && frames.length >= 9 && frames[8].byteLength === 32 ? z85Encode(frames[8]) : null;
        if (key !== null && entry.keys.has(key)) {
          entry.stats.admitted++;
        } else {
          entry.stats.refused++;
          status = '400';
          text = key === null ? 'CURVE required' : 'client key not allowed';
        }
      }
      try {
        // The user id stays empty: with a non-empty one, libzmq queues a "credential" message it
        // drops on read, and we saw receives on admitted sockets fail with a spurious EAGAIN
        // (test/cli/curve.test.ts failed that way three runs out of three).
        await router.send([id, empty, version, requestId, enc.encode(status), enc.encode(text), new Uint8Array(0), new Uint8Array(0)]);
      } catch {
        if (router.closed) return;
      }
    }
  }
}

const handlers = new WeakMap<Context, ZapHandler>();

/**
 * Registers a CURVE client allow-list with the ZAP handler of `context` (started on first use).
 * Set the returned `domain` as `zapDomain` on the CURVE server socket before it binds, and call
 * `release()` when the socket closes.
 *
 * @param allowedClients - the Z85 public keys of the clients to admit
 * @param context - the socket's zeromq.js context (default: zeromq.js's shared one)
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for a key that is not 40 Z85 characters,
 *   `ERR_LBM_BIND` when another ZAP handler already holds the context's ZAP endpoint
 */
export async function registerCurveAllowList(allowedClients: readonly string[], context: Context = defaultContext): Promise<CurveAllowList> {
  if (!Array.isArray(allowedClients)) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', 'curve.allowedClients must be an array of Z85 public keys');
  allowedClients.forEach((k, i) => {
    if (!isZ85Key(k)) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `curve.allowedClients[${i}] is not a 40-character Z85 key: ${JSON.stringify(k)}`);
  });
  let h = handlers.get(context);
  if (h === undefined) {
    h = new ZapHandler(context);
    handlers.set(context, h);
  }
  return h.register(new Set(allowedClients));
}
