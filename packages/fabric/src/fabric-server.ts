/**
 * The receiving side over libfabric: metadata from pre-posted receives, XFER data by tagged
 * receives posted by `recvBulks` straight into the receiver's buffers.
 */
import type { IncomingMessage, LbmMeta, WaitSpec, ArchiveLimits } from '@lightbeam/core';
import { EAGAIN, ESHUTDOWN, LBM_MALFORMED, LBM_OK, LightbeamError, Server, decodeMeta, isXfer, raceWait } from '@lightbeam/core';
import type { RecvDone } from './fabric-endpoint.js';
import { FabricEndpoint } from './fabric-endpoint.js';
import type { FabricServerOptions } from './fabric-options.js';
import { DEFAULT_BULK_TIMEOUT_MS, DEFAULT_IDLE_MAX_US, DEFAULT_META_BYTES, DEFAULT_META_SLOTS, DEFAULT_SPIN_US, resolveProvider } from './fabric-options.js';
import { fabricNode } from './fabric-address.js';
import type { WireHeader } from './wire.js';
import { decodeWire, isHello, tagHi, tagLo } from './wire.js';

const FI_ETRUNC = 265;
const EMPTY = new Uint8Array(0);

/** One received metadata message and the data frames still at the sender. */
class FabricMessage implements IncomingMessage {
  readonly meta: Uint8Array;
  readonly dataCount: number;
  /** Frames received into buffers of the endpoint's (the copy path), by index. */
  fetched: Uint8Array[] | null = null;
  /** Frames already received (or discarded): `release` must not post receives for them. */
  consumed = false;
  released = false;

  constructor(
    private readonly server: FabricServer,
    readonly header: WireHeader | null,
  ) {
    this.meta = header?.meta ?? EMPTY;
    this.dataCount = header?.sizes.length ?? 0;
  }

  data(i: number): Uint8Array {
    const f = this.fetched?.[i];
    if (f === undefined) throw new Error(`fabric message data frame ${i} was not received (use recvBulks)`);
    return f;
  }

  decodeInto(meta: LbmMeta, limits: ArchiveLimits): number {
    const rc = decodeMeta(this.meta, meta, limits);
    if (rc === LBM_OK) this.server.track(meta, this);
    return rc;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.consumed && this.header !== null) this.server.discard(this.header);
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

  private constructor(address: string, ep: FabricEndpoint, options: FabricServerOptions) {
    super(address, { limits: options.limits });
    this.ep = ep;
    this.endpoint = ep.name();
    this.provider = ep.provider();
    const m = /:(\d+)$/.exec(this.endpoint);
    this.port = this.provider.startsWith('shm') || m === null ? 0 : Number(m[1]);
    this.bulkTimeoutMs = options.bulkTimeoutMs ?? DEFAULT_BULK_TIMEOUT_MS;
    ep.onMeta = (buf, err) => this.arrived(buf, err);
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

  /** @internal remembers which message `meta` was filled from, for `recvBulks`. */
  track(meta: LbmMeta, msg: FabricMessage): void {
    this.byMeta.set(meta, msg);
  }

  /** @internal receives and drops the data frames of a message nobody asked for. */
  discard(h: WireHeader): void {
    const hi = tagHi(h.clientId, h.seq);
    for (let i = 0; i < h.sizes.length; i++) {
      const r = this.ep.recv(null, h.sizes[i], hi, tagLo(h.seq, i), false);
      // The bytes are dropped when the receive completes; nothing waits for it.
      if (typeof r !== 'number') void r.done;
    }
  }

  /**
   * Receives the data of the message behind `meta` into its XFER `recv` entries. Buffers at least
   * as large as their frames receive in place (the provider writes them directly); otherwise
   * the frames are received first and copied, as on every transport.
   *
   * @returns `0`, `-1` on a frame-count mismatch (the message's data is dropped), `ETIMEDOUT`
   *   when the frames did not arrive within `bulkTimeoutMs`, `ESHUTDOWN`, or another errno
   */
  override async recvBulks(meta: LbmMeta): Promise<number> {
    const msg = this.byMeta.get(meta);
    if (msg === undefined || msg.released || msg.fetched !== null) return super.recvBulksNow(meta);
    const h = msg.header;
    const recv = meta.recv;
    let wanted = 0;
    let direct = true;
    for (let i = 0; i < recv.length; i++) {
      const b = recv[i];
      if (!isXfer(b.flags)) continue;
      const size = h !== null && wanted < h.sizes.length ? h.sizes[wanted] : 0;
      const dst = b.data?.ptr;
      if (dst === undefined || Math.min(b.size, dst.byteLength) < size) direct = false;
      wanted++;
    }
    // Nothing wanted, or a mismatch: the base class releases the message (its frames are discarded).
    if (h === null || wanted === 0 || wanted !== msg.dataCount) return super.recvBulksNow(meta);
    const hi = tagHi(h.clientId, h.seq);
    msg.consumed = true;
    const ops: Array<{ id: number; done: Promise<RecvDone> }> = [];
    let k = 0;
    let rc = LBM_OK;
    for (let i = 0; i < recv.length && rc === LBM_OK; i++) {
      const b = recv[i];
      if (!isXfer(b.flags)) continue;
      const size = h.sizes[k];
      const target = direct ? (b.data as { ptr: Uint8Array }).ptr.subarray(0, size) : null;
      const r = this.ep.recv(target, size, hi, tagLo(h.seq, k), true);
      k++;
      if (typeof r === 'number') rc = r;
      else ops.push(r);
    }
    if (rc === LBM_OK) rc = await this.awaitFrames(ops, msg, direct);
    if (rc !== LBM_OK) {
      for (const op of ops) this.ep.cancel(op.id);
      this.release(meta);
      return rc;
    }
    if (direct) {
      this.release(meta);
      return LBM_OK;
    }
    return super.recvBulksNow(meta);
  }

  /**
   * As {@link Server.recvBulksNow}, except that a message whose frames are still at the sender
   * cannot be received synchronously: `EAGAIN`, use {@link FabricServer.recvBulks}.
   *
   * @param meta - a meta filled by this server
   */
  override recvBulksNow(meta: LbmMeta): number {
    const msg = this.byMeta.get(meta);
    if (msg !== undefined && !msg.released && msg.fetched === null && msg.dataCount > 0) {
      let wanted = 0;
      for (const b of meta.recv) if (isXfer(b.flags)) wanted++;
      if (wanted === msg.dataCount) return EAGAIN;
    }
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
    this.ep.close();
    for (const m of this.ready.splice(0)) m.released = true;
    for (const w of this.arrivals.splice(0)) w();
  }

  private async awaitFrames(ops: Array<{ id: number; done: Promise<RecvDone> }>, msg: FabricMessage, direct: boolean): Promise<number> {
    const all = Promise.all(ops.map((o) => o.done));
    const got = await raceWait(all, { deadline: performance.now() + this.bulkTimeoutMs, signal: undefined }, this.closeController.signal);
    if (typeof got === 'number') return got;
    const fetched: Uint8Array[] = [];
    for (const r of got) {
      if (r.err === FI_ETRUNC) return LBM_MALFORMED;
      if (r.err !== 0) return r.err;
      if (!direct) fetched.push(r.buf === undefined ? EMPTY : r.buf.subarray(0, r.len));
    }
    if (!direct) msg.fetched = fetched;
    return LBM_OK;
  }

  private arrived(buf: Uint8Array | undefined, err: number): void {
    if (err !== 0 && err !== FI_ETRUNC) return;
    if (buf !== undefined && isHello(buf)) return;
    const h = err === 0 && buf !== undefined ? decodeWire(buf) : null;
    this.ready.push(new FabricMessage(this, h));
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
