/**
 * The receiving side over libfabric: metadata from pre-posted receives; `recvBulks` copies inline
 * XFER bulks and pulls the others with one-sided reads straight into the receiver's buffers,
 * then tells the sender it may release them.
 */
import { setMaxListeners } from 'node:events';
import type { ArchiveLimits, IncomingMessage, LbmMeta, WaitSpec } from '@lightbeam/core';
import { EAGAIN, ECONNRESET, ESHUTDOWN, ETIMEDOUT, LBM_OK, LightbeamError, NULL_POINTER, Server, decodeMeta, isXfer, raceWait } from '@lightbeam/core';
import type { PostedRead, RecvDone } from './endpoint-types.js';
import type { FabricStats } from './fabric-stats.js';
import { FabricEndpoint, shmRegion } from './fabric-endpoint.js';
import { PEER_GONE, PROBE_MS, localOrigin, pidAlive } from './peer-gone.js';
import type { FabricServerOptions } from './fabric-options.js';
import { DEFAULT_BULK_TIMEOUT_MS, DEFAULT_IDLE_MAX_US, DEFAULT_META_BYTES, DEFAULT_META_SLOTS, DEFAULT_SPIN_US, resolveProvider } from './fabric-options.js';
import { fabricNode } from './fabric-address.js';
import type { WireHeader } from './wire.js';
import { decodeHello, decodeWire, encodeWelcome } from './wire.js';
import { ReleaseNotes } from './release-notes.js';

const EMPTY = new Uint8Array(0);

/** One received metadata message; its remote frames stay at the sender until released. */
class FabricMessage implements IncomingMessage {
  readonly meta: Uint8Array;
  readonly dataCount: number;
  /** True when some frame is at the sender (to be read, then released). */
  readonly remote: boolean;
  released = false;

  constructor(
    private readonly server: FabricServer,
    readonly header: WireHeader | null,
  ) {
    this.meta = header?.meta ?? EMPTY;
    this.dataCount = header?.frames.length ?? 0;
    this.remote = header !== null && header.frames.some((f) => !f.inline);
  }

  data(i: number): Uint8Array {
    const f = this.header?.frames[i];
    if (f === undefined || !f.inline) throw new Error(`fabric data frame ${i} is at the sender (use recvBulks)`);
    return (this.header as WireHeader).inline.subarray(f.addr[1], f.addr[1] + f.size);
  }

  decodeInto(meta: LbmMeta, limits: ArchiveLimits): number {
    const rc = decodeMeta(this.meta, meta, limits);
    if (rc === LBM_OK) this.server.track(meta, this);
    return rc;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.remote) this.server.releaseAt(this.header as WireHeader);
  }
}

/** A server over libfabric (`Transport.kFabric`). */
export class FabricServer extends Server {
  /** The endpoint's own address as libfabric prints it (`fi_sockaddr_in://127.0.0.1:41234`, or the shm name). */
  readonly endpoint: string;
  /** The libfabric provider in use (`tcp;ofi_rxm`, `shm`). */
  readonly provider: string;
  /** The bound TCP port (useful after binding port 0); 0 for providers without ports. */
  readonly port: number;
  private readonly ep: FabricEndpoint;
  private readonly bulkTimeoutMs: number;
  private readonly ready: FabricMessage[] = [];
  private arrivals: Array<() => void> = [];
  private readonly byMeta = new WeakMap<LbmMeta, FabricMessage>();
  /** Each client's `fi_addr`, from its hello. */
  private readonly peers = new Map<number, number>();
  /** Clients whose connection was found gone by a read. */
  private readonly gone = new Set<number>();
  /** Each client's shm region, from its hello (shm only), to ask whether it is alive. */
  private readonly regions = new Map<number, string>();
  /** Pids of clients that run where the server can ask the kernel about them (same boot and pid namespace). */
  private readonly pids = new Map<number, number>();
  private readonly notes: ReleaseNotes;
  /** When each client was last found alive (performance.now()). */
  private readonly aliveAt = new Map<number, number>();
  private peerProbes = 0;

  private constructor(address: string, ep: FabricEndpoint, options: FabricServerOptions) {
    super(address, { limits: options.limits });
    this.ep = ep;
    this.endpoint = ep.name();
    this.provider = ep.provider();
    const m = /:(\d+)$/.exec(this.endpoint);
    this.port = this.provider.startsWith('shm') || m === null ? 0 : Number(m[1]);
    this.bulkTimeoutMs = options.bulkTimeoutMs ?? DEFAULT_BULK_TIMEOUT_MS;
    ep.onMeta = (buf, err) => this.arrived(buf, err);
    this.notes = new ReleaseNotes(ep, (id) => this.peers.get(id), () => this.closed);
    // Every pending recvBulks listens for close: many in flight (pipelined reads) is no leak.
    setMaxListeners(0, this.closeController.signal);
  }

  /**
   * Binds a server.
   *
   * @param addr - host address to listen on (tcp providers) or the name of the endpoint (`shm`)
   * @param protocol - `tcp` (default provider `tcp;ofi_rxm`, or `FI_PROVIDER`) or `shm`
   * @param port - TCP port, 0 for an ephemeral one (part of the name with `shm`)
   * @param options - provider, sizes, progress tuning
   * @throws LightbeamError `ERR_LBM_BIND` naming the address and libfabric's reason, or
   *   `ERR_LBM_TRANSPORT_UNAVAILABLE` without the addon
   */
  static async create(addr: string, protocol = 'tcp', port = 0, options: FabricServerOptions = {}): Promise<FabricServer> {
    const provider = resolveProvider(protocol, options.provider);
    const { node, service, url } = fabricNode(provider, addr, port);
    let ep: FabricEndpoint;
    try {
      ep = new FabricEndpoint({
        provider,
        node,
        service,
        server: true,
        metaBytes: options.metaBytes ?? DEFAULT_META_BYTES,
        metaSlots: options.metaSlots ?? DEFAULT_META_SLOTS,
        spinUs: options.spinUs ?? DEFAULT_SPIN_US,
        idleMaxUs: options.idleMaxUs ?? DEFAULT_IDLE_MAX_US,
      });
    } catch (err) {
      if (err instanceof LightbeamError) throw err;
      const e = err as Error & { errno?: number };
      throw new LightbeamError('ERR_LBM_BIND', `cannot bind ${url}: ${e.message}`, { errno: e.errno, cause: err });
    }
    return new FabricServer(addr, ep, options);
  }

  /** Memory registrations (none on a server yet), how completions came, release notes sent. */
  stats(): FabricStats {
    return { ...this.ep.stats(), releaseNotes: this.notes.sent, peerProbes: this.peerProbes };
  }

  /**
   * Remembers which message `meta` was filled from, for `recvBulks`.
   * @internal
   */
  track(meta: LbmMeta, msg: IncomingMessage): void {
    this.byMeta.set(meta, msg as FabricMessage);
  }

  /**
   * Tells the sender of `h` that its exposed bulks may be freed (best effort: a sender that is
   * gone frees them when it closes).
   * @internal
   */
  releaseAt(h: WireHeader): void {
    if (!this.peers.has(h.clientId) || this.closed) return;
    this.notes.add(h.clientId, h.seq);
  }

  /**
   * Receives the data of the message behind `meta` into its XFER `recv` entries, in order: inline
   * bulks by copy, the others by one-sided reads of at most each entry's size straight into its
   * buffer (an entry without a buffer gets a view of bytes read into a buffer of the server's).
   *
   * @returns `0`; `-1` on a frame-count mismatch (the message's data is dropped); `ETIMEDOUT`
   *   when the reads did not finish within `bulkTimeoutMs`; `ECONNRESET` when the sender never
   *   said hello or its connection is gone; `ESHUTDOWN`; or libfabric's errno
   */
  override async recvBulks(meta: LbmMeta): Promise<number> {
    const msg = this.byMeta.get(meta);
    const h = msg?.header ?? null;
    if (msg === undefined || msg.released || h === null || !this.matches(meta, msg)) return super.recvBulksNow(meta);
    const peer = this.peers.get(h.clientId);
    // An alive verdict of the last PROBE_MS stands (asking per message cost ~100 us); a failed read asks again.
    if (msg.remote && (peer === undefined || this.lost(h.clientId, false))) {
      // A dead sender's queued messages fail at once, so they never hold up other senders'.
      this.release(meta);
      return ECONNRESET;
    }
    const deadline = performance.now() + this.bulkTimeoutMs;
    const reads: Array<{ read: PostedRead; bulk: number; own: boolean }> = [];
    let rc = LBM_OK;
    let k = 0;
    const recv = meta.recv;
    for (let i = 0; i < recv.length && rc === LBM_OK; i++) {
      const b = recv[i];
      if (!isXfer(b.flags)) continue;
      const f = h.frames[k];
      const dst = b.data?.ptr;
      const n = Math.min(b.size, f.size, dst?.byteLength ?? Infinity);
      if (f.inline) {
        const src = h.inline.subarray(f.addr[1], f.addr[1] + n);
        if (dst === undefined) b.data = { ptr: src, shm: NULL_POINTER };
        else dst.set(src);
      } else {
        const target = dst === undefined ? null : dst.subarray(0, n);
        let r = this.ep.read(target, n, peer as number, f.addr, f.key);
        // The provider may need progress first (a connection being made or lost): retry until the deadline.
        while (r === EAGAIN && performance.now() < deadline && !this.closed) {
          await this.ep.progress(1);
          r = this.ep.read(target, n, peer as number, f.addr, f.key);
        }
        if (typeof r === 'number') rc = r === EAGAIN ? ETIMEDOUT : r;
        else reads.push({ read: r, bulk: i, own: dst === undefined });
      }
      k++;
    }
    let lost = false;
    if (reads.length > 0) {
      let got: RecvDone[] | number = [];
      // shm reads have completed inside their posts: nothing to wait for.
      const now = reads.every((r) => r.read.result !== undefined);
      if (now) for (const r of reads) got.push(r.read.result as RecvDone);
      const all = now ? null : Promise.all(reads.map((r) => r.read.done));
      if (all !== null) this.notes.readsPending++;
      while (all !== null) {
        // Wait in short turns: between them ask whether the sender is still alive, since a read
        // from a dead shm peer never completes (nobody serves it).
        const turn = Math.min(deadline, performance.now() + PROBE_MS);
        got = await raceWait(all, { deadline: turn, signal: undefined }, this.closeController.signal);
        if (got !== ETIMEDOUT || performance.now() >= deadline) break;
        if (this.lost(h.clientId)) {
          lost = true;
          break;
        }
      }
      if (all !== null) this.notes.readsPending--;
      if (lost) {
        for (const r of reads) this.ep.abandon(r.read.id, ECONNRESET);
      } else if (typeof got === 'number') {
        for (const r of reads) this.ep.cancel(r.read.id);
        // The deadline passed: ETIMEDOUT only if the sender is alive and merely slow.
        if (rc === LBM_OK) rc = got === ETIMEDOUT && this.lost(h.clientId) ? ECONNRESET : got;
      } else {
        for (let j = 0; j < got.length; j++) {
          const g = got[j];
          if (g.err !== 0) {
            if (PEER_GONE.has(g.err)) lost = true;
            else if (rc === LBM_OK) rc = g.err;
          } else if (reads[j].own) {
            recv[reads[j].bulk].data = { ptr: g.buf === undefined ? EMPTY : g.buf.subarray(0, g.len), shm: NULL_POINTER };
          }
        }
      }
    }
    this.release(meta);
    // Any other failure may still be a dead sender (the verdict above can be PROBE_MS old): ask now.
    if (!lost && rc !== LBM_OK && !PEER_GONE.has(rc) && rc !== ESHUTDOWN && this.lost(h.clientId)) lost = true;
    if (lost || PEER_GONE.has(rc)) {
      // The sender's connection is gone: its other messages cannot be read either.
      this.gone.add(h.clientId);
      return ECONNRESET;
    }
    return rc;
  }

  /**
   * As {@link Server.recvBulksNow}; a message with bulks still at the sender cannot be received
   * synchronously: `EAGAIN`, use {@link FabricServer.recvBulks}.
   *
   * @param meta - a meta filled by this server
   */
  override recvBulksNow(meta: LbmMeta): number {
    const msg = this.byMeta.get(meta);
    if (msg !== undefined && !msg.released && msg.remote && this.matches(meta, msg)) return EAGAIN;
    return super.recvBulksNow(meta);
  }

  protected receive(spec: WaitSpec): IncomingMessage | number | Promise<IncomingMessage | number> {
    if (this.closed) return ESHUTDOWN;
    const m = this.ready.shift();
    if (m !== undefined) return m;
    if (spec.deadline === 0) return EAGAIN;
    return this.waitArrival(spec);
  }

  protected async shutdown(): Promise<void> {
    // Releases of this turn still go out (the endpoint takes them before it closes).
    this.notes.flushNow();
    this.ep.close();
    for (const m of this.ready.splice(0)) m.released = true;
    for (const w of this.arrivals.splice(0)) w();
  }

  /**
   * True when the client's connection was found gone, or its process is dead (asked of the
   * kernel where the server can: shm, or a client on the same host and pid namespace). With
   * `fresh` false an alive verdict of the last PROBE_MS stands without asking again.
   */
  private lost(clientId: number, fresh = true): boolean {
    if (this.gone.has(clientId)) return true;
    const pid = this.pids.get(clientId);
    const region = this.regions.get(clientId);
    if (pid === undefined && region === undefined) return false;
    const now = performance.now();
    if (!fresh && now - (this.aliveAt.get(clientId) ?? -Infinity) < PROBE_MS) return false;
    this.peerProbes++;
    if (this.ep.peerAlive(region) && (pid === undefined || pidAlive(pid))) {
      this.aliveAt.set(clientId, now);
      return false;
    }
    this.gone.add(clientId);
    return true;
  }

  /** True when `meta.recv` has as many XFER entries as the message has data frames (and some). */
  private matches(meta: LbmMeta, msg: FabricMessage): boolean {
    let wanted = 0;
    for (const b of meta.recv) if (isXfer(b.flags)) wanted++;
    return wanted !== 0 && wanted === msg.dataCount;
  }

  private arrived(buf: Uint8Array | undefined, err: number): void {
    if (err !== 0 && buf === undefined) return;
    if (buf !== undefined && err === 0) {
      const hello = decodeHello(buf);
      if (hello !== null) {
        const addr = this.ep.insertPeer(hello.name);
        if (addr >= 0) this.peers.set(hello.clientId, addr);
        const mine = localOrigin();
        // Tell the client who we are, so it can tell us dead (best effort: a release slot takes it).
        if (addr >= 0 && mine !== null) {
          const note = encodeWelcome(hello.clientId, process.pid, mine);
          this.notes.sendNote(note, addr);
        }
        if (hello.pid > 0 && hello.origin !== null && mine !== null && Buffer.compare(hello.origin, mine) === 0) this.pids.set(hello.clientId, hello.pid);
        if (this.ep.isShm) {
          const region = shmRegion(new TextDecoder().decode(hello.name));
          this.regions.set(hello.clientId, region);
          this.ep.watch(region);
        }
        return;
      }
    }
    // A truncated message (larger than metaBytes) is malformed: it is queued so the receiver sees -1.
    this.ready.push(new FabricMessage(this, err === 0 && buf !== undefined ? decodeWire(buf) : null));
    const w = this.arrivals.shift();
    if (w !== undefined) w();
  }

  private async waitArrival(spec: WaitSpec): Promise<IncomingMessage | number> {
    for (;;) {
      if (this.closed) return ESHUTDOWN;
      const m = this.ready.shift();
      if (m !== undefined) return m;
      let wake!: () => void;
      const arrived = new Promise<true>((r) => {
        wake = () => r(true);
      });
      this.arrivals.push(wake);
      this.ep.hold();
      let got: true | number;
      try {
        got = await raceWait(arrived, spec, this.closeController.signal);
      } finally {
        this.ep.unhold();
      }
      if (got !== true) {
        const i = this.arrivals.indexOf(wake);
        if (i >= 0) this.arrivals.splice(i, 1);
        // A message that arrived after we lost the race stays queued for the next caller.
        return got;
      }
    }
  }
}

