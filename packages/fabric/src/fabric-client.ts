/**
 * The sending side over libfabric. A send is one message: the metadata, small XFER bulks inline,
 * and for larger ones the address and key of a registered private copy, which the server reads
 * with a one-sided `fi_read` and then releases (see wire.ts).
 */
import type { OutgoingMessage, WaitSpec } from '@lightbeam/core';
import { Client, EAGAIN, ECANCELED, ECONNRESET, EMSGSIZE, ESHUTDOWN, ETIMEDOUT, LightbeamError, remainingMs } from '@lightbeam/core';
import type { FabricStats } from './fabric-stats.js';
import { FabricEndpoint, shmRegion } from './fabric-endpoint.js';
import { PEER_GONE, PROBE_MS, localOrigin, pidAlive } from './peer-gone.js';
import { fabricNode } from './fabric-address.js';
import type { FabricClientOptions } from './fabric-options.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FABRIC_LINGER_MS,
  DEFAULT_IDLE_MAX_US,
  DEFAULT_INLINE_BYTES,
  DEFAULT_META_BYTES,
  DEFAULT_SPIN_US,
  DEFAULT_STAGE_KEEP_BYTES,
  resolveProvider,
} from './fabric-options.js';
import type { WireFrame } from './wire.js';
import { WIRE_FRAME_BYTES, WIRE_HEADER_BYTES, WIRE_MAX_FRAMES, WIRE_WELCOME_BYTES, decodeRelease, decodeWelcome, encodeHello, encodeWire } from './wire.js';

/** Receives a client keeps posted for the server's releases (16 bytes) and welcome (40 bytes). */
const RELEASE_SLOTS = 64;
const NO_ADDR: [number, number] = [0, 0];

/** A client over libfabric (`Transport.kFabric`). */
export class FabricClient extends Client {
  /** The libfabric provider in use. */
  readonly provider: string;
  /** This client's own address as libfabric prints it. */
  readonly endpoint: string;
  private readonly ep: FabricEndpoint;
  private readonly clientId: number;
  private readonly metaBytes: number;
  private readonly inlineBytes: number;
  private readonly lingerMs: number;
  private readonly copyXfer: boolean;
  /** Exposures of each message the server has not released yet, by sequence number. */
  private readonly unreleased = new Map<number, number[]>();
  private seq = 0;
  /** The server's shm region (shm only), to ask whether its process is alive. */
  private readonly serverRegion: string | undefined;
  /** Set once the server is known lost: every later send resolves ECONNRESET without posting. */
  private serverLost = false;
  /** When the server's liveness was last asked (performance.now()). */
  private probedAt = 0;
  /** The server's pid, when its welcome says it runs where this client can ask the kernel. */
  private serverPid = 0;
  private releaseNotes = 0;
  private peerProbes = 0;

  private constructor(ep: FabricEndpoint, clientId: number, serverName: string | undefined, options: FabricClientOptions) {
    super();
    this.serverRegion = ep.isShm && serverName !== undefined ? shmRegion(serverName) : undefined;
    if (this.serverRegion !== undefined) ep.watch(this.serverRegion);
    this.ep = ep;
    this.clientId = clientId;
    this.provider = ep.provider();
    this.endpoint = ep.name();
    this.metaBytes = options.metaBytes ?? DEFAULT_META_BYTES;
    this.inlineBytes = options.inlineBytes ?? DEFAULT_INLINE_BYTES;
    this.lingerMs = options.lingerMs ?? DEFAULT_FABRIC_LINGER_MS;
    this.copyXfer = options.copyXfer ?? true;
    ep.onMeta = (buf) => {
      const w = buf === undefined ? null : decodeWelcome(buf);
      const mine = localOrigin();
      if (w !== null && w.clientId === this.clientId && mine !== null && Buffer.compare(w.origin, mine) === 0) this.serverPid = w.pid;
      const r = buf === undefined ? null : decodeRelease(buf);
      if (r === null || r.clientId !== this.clientId) return;
      this.releaseNotes++;
      for (let k = 0; k < r.count; k++) {
        const seq = (r.seq + k) >>> 0;
        const ids = this.unreleased.get(seq);
        if (ids === undefined) continue;
        this.unreleased.delete(seq);
        for (const id of ids) this.ep.unexpose(id);
      }
    };
  }

  /**
   * Opens a client towards a server and waits until the provider accepts its hello (with
   * `tcp;ofi_rxm`, until its connection is up).
   *
   * @param addr - the server's host (tcp providers) or name (`shm`)
   * @param protocol - `tcp` or `shm`, as for the server
   * @param port - the server's port
   * @param options - provider, sizes, timeouts
   * @throws LightbeamError `ERR_LBM_CONNECT` naming the address and the reason, or
   *   `ERR_LBM_TRANSPORT_UNAVAILABLE` without the addon
   */
  static async create(addr: string, protocol = 'tcp', port = 0, options: FabricClientOptions = {}): Promise<FabricClient> {
    const provider = resolveProvider(protocol, options.provider);
    const { node, service, url } = fabricNode(provider, addr, port);
    let ep: FabricEndpoint;
    try {
      ep = new FabricEndpoint({
        provider,
        node,
        service,
        server: false,
        metaBytes: WIRE_WELCOME_BYTES,
        metaSlots: RELEASE_SLOTS,
        spinUs: options.spinUs ?? DEFAULT_SPIN_US,
        idleMaxUs: options.idleMaxUs ?? DEFAULT_IDLE_MAX_US,
        stageKeepBytes: options.stageKeepBytes ?? DEFAULT_STAGE_KEEP_BYTES,
      });
    } catch (err) {
      if (err instanceof LightbeamError) throw err;
      const e = err as Error & { errno?: number };
      throw new LightbeamError('ERR_LBM_CONNECT', `cannot connect to ${url}: ${e.message}`, { errno: e.errno, cause: err });
    }
    const clientId = (Math.random() * 0x100000000) >>> 0;
    // The provider accepts messages once its connection to the peer is up (tcp;ofi_rxm connects
    // on the first send): post the hello, which names our address to the server, until it is taken.
    const hello = encodeHello(clientId, ep.rawName(), process.pid, localOrigin());
    const until = performance.now() + (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    let rc = ep.send(hello, false, 0, 0);
    while (rc === EAGAIN && performance.now() < until) {
      await ep.progress(1);
      rc = ep.send(hello, false, 0, 0);
    }
    if (rc !== 0) {
      ep.close();
      throw new LightbeamError('ERR_LBM_CONNECT', `cannot connect to ${url}: ${rc === EAGAIN ? 'the provider accepted no message in time' : `errno ${rc}`}`, {
        errno: rc,
      });
    }
    return new FabricClient(ep, clientId, node, options);
  }

  /** Memory registrations made and held, staging bytes kept, how completions came, release notes received. */
  stats(): FabricStats {
    return { ...this.ep.stats(), releaseNotes: this.releaseNotes, peerProbes: this.peerProbes };
  }

  /** Messages whose exposed bulks the server has not released yet. */
  get unreleasedMessages(): number {
    return this.unreleased.size;
  }

  protected transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    // shm queues sends into a dead server's region without complaint: ask now and then.
    if (this.checkLost()) return ECONNRESET;
    const failed = this.ep.sendError;
    if (failed !== 0) {
      // A send that completed with an error: report it once, on the next send; a lost
      // connection as ECONNRESET, and for good.
      this.ep.sendError = 0;
      if (PEER_GONE.has(failed)) return this.lose();
      return failed;
    }
    const n = msg.xfer.length;
    if (n > WIRE_MAX_FRAMES) return EMSGSIZE;
    const fixed = WIRE_HEADER_BYTES + WIRE_FRAME_BYTES * n + msg.meta.byteLength;
    if (fixed > this.metaBytes) return EMSGSIZE;
    const seq = this.seq;
    const frames: WireFrame[] = [];
    const inline: Uint8Array[] = [];
    const ids: number[] = [];
    let room = Math.min(this.inlineBytes, this.metaBytes - fixed);
    let offset = 0;
    for (const x of msg.xfer) {
      if (x.byteLength <= room) {
        frames.push({ size: x.byteLength, inline: true, addr: [0, offset], key: NO_ADDR });
        inline.push(x);
        offset += x.byteLength;
        room -= x.byteLength;
        continue;
      }
      const e = this.ep.expose(x, this.copyXfer);
      if (typeof e === 'number') {
        for (const id of ids) this.ep.unexpose(id);
        return e;
      }
      ids.push(e.id);
      frames.push({ size: x.byteLength, inline: false, addr: [e.parts[0], e.parts[1]], key: [e.parts[2], e.parts[3]] });
    }
    const wire = encodeWire(this.clientId, seq, msg.meta, frames, inline);
    const rc = this.ep.send(wire, false, 0, 0);
    if (rc === 0) return this.sent(seq, ids);
    if (rc !== EAGAIN || spec.deadline === 0) {
      for (const id of ids) this.ep.unexpose(id);
      return rc;
    }
    return this.retry(wire, seq, ids, spec);
  }

  protected async shutdown(): Promise<void> {
    const until = performance.now() + this.lingerMs;
    // Bounded: each turn waits for completions or 5 ms, until the sends are done and the server
    // has released what it was to read, or linger ends.
    while ((this.ep.inFlight > 0 || this.unreleased.size > 0) && performance.now() < until && !this.checkLost()) await this.ep.progress(5);
    this.unreleased.clear();
    this.ep.close();
  }

  /**
   * True once the server is known lost: a failed send said so, or its process is dead (asked of
   * the kernel at most every PROBE_MS, where this client can: shm, or a welcome of the same origin).
   */
  private checkLost(): boolean {
    if (this.serverLost) return true;
    if (PEER_GONE.has(this.ep.sendError)) {
      this.lose();
      return true;
    }
    if ((this.serverRegion === undefined && this.serverPid === 0) || performance.now() - this.probedAt < PROBE_MS) return false;
    this.probedAt = performance.now();
    this.peerProbes++;
    if (!this.ep.peerAlive(this.serverRegion) || (this.serverPid > 0 && !pidAlive(this.serverPid))) this.lose();
    return this.serverLost;
  }

  /** The server is gone: nothing will be released, so free every exposure now. */
  private lose(): number {
    this.serverLost = true;
    for (const ids of this.unreleased.values()) for (const id of ids) this.ep.unexpose(id);
    this.unreleased.clear();
    return ECONNRESET;
  }

  private sent(seq: number, ids: number[]): number {
    if (ids.length > 0) this.unreleased.set(seq, ids);
    this.seq = (seq + 1) >>> 0;
    return 0;
  }

  /** Posts the message again after progress until it is taken, the deadline passes or the signal aborts. */
  private async retry(wire: Uint8Array, seq: number, ids: number[], spec: WaitSpec): Promise<number> {
    for (;;) {
      const left = remainingMs(spec);
      let rc: number;
      if (this.closed) rc = ESHUTDOWN;
      else if (spec.signal?.aborted === true) rc = ECANCELED;
      else if (this.checkLost()) rc = ECONNRESET;
      else if (left <= 0) rc = ETIMEDOUT;
      else {
        await this.ep.progress(Math.min(1, left));
        rc = this.ep.send(wire, false, 0, 0);
        if (rc === 0) return this.sent(seq, ids);
        if (rc === EAGAIN) continue;
      }
      for (const id of ids) this.ep.unexpose(id);
      return rc;
    }
  }
}
