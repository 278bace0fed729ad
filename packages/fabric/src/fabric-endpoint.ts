/**
 * The JavaScript side of one native endpoint: operation ids, completions dispatched to their
 * waiters, and whether the endpoint keeps the process alive (only while someone waits on it).
 */
import { ESHUTDOWN, LightbeamError } from '@lightbeam/core';
import type { NativeEndpoint } from './native.js';
import { fabricUnavailableReason, nativeAddon } from './native.js';
import { answered, hot, hotLeftMs, posted, setWaiting } from './hot.js';
import { RegionCache } from './region-cache.js';
import type { FabricStats } from './fabric-stats.js';
import type { EndpointInit, PostedRead, RecvDone } from './endpoint-types.js';

/** How long a poll right after an shm read retries while the progress thread holds the queue (us). */
const POLL_NOW_WAIT_US = 50;
const K_SEND = 1;
const K_RECV = 2;
const K_META = 3;

/** Buffers of closed shm endpoints that libfabric may still touch; held for the life of the process. */
const KEPT_AFTER_CLOSE: Uint8Array[] = [];

/** An shm endpoint's name as its region is called under /dev/shm (`fi_shm://123:0:1` is `123:0:1`). */
export function shmRegion(name: string): string {
  const n = name.startsWith('fi_shm://') ? name.slice(9) : name;
  const z = n.indexOf('\0');
  return z >= 0 ? n.slice(0, z) : n;
}

/** One native endpoint and its bookkeeping. */
export class FabricEndpoint {
  /** Called with each metadata message (or `undefined` and the errno of a failed receive). */
  onMeta: (buf: Uint8Array | undefined, err: number) => void = () => {};
  /** The first send completion error not yet reported, or 0. */
  sendError = 0;
  private readonly native: NativeEndpoint;
  private nextId = 1;
  private readonly recvs = new Map<number, { done: (r: RecvDone) => void; keep: Uint8Array | null; strong: boolean; handle?: PostedRead }>();
  private sendsInFlight = 0;
  private exposures = 0;
  private strong = 0;
  private holds = 0;
  private refd = false;
  private busy = false;
  private progressWaiters: Array<() => void> = [];
  private closed = false;
  private readonly shm: boolean;
  private abandoned: Uint8Array[] = [];
  /** Exposures of the caller's own bytes inside a registered buffer (copyXfer false), by id. */
  private readonly inPlace = new Map<number, Uint8Array>();
  /** Each buffer registered whole for copyXfer false, once while it lives. */
  private readonly regions: RegionCache;
  private readonly spinMs: number;
  private hotQueued = false;
  private polledEvents = 0;
  private threadEvents = 0;

  /**
   * Opens the endpoint.
   *
   * @throws LightbeamError `ERR_LBM_TRANSPORT_UNAVAILABLE` without the addon; the addon's error otherwise
   */
  constructor(init: EndpointInit) {
    const addon = nativeAddon();
    if (addon === null) throw new LightbeamError('ERR_LBM_TRANSPORT_UNAVAILABLE', `Transport.kFabric is unavailable: ${fabricUnavailableReason}`);
    this.native = new addon.Endpoint({
      ...init,
      onEvents: (ev) => {
        this.threadEvents += ev.length / 5;
        this.dispatch(ev);
      },
    });
    this.spinMs = init.spinUs / 1000;
    this.regions = new RegionCache(this.native, () => this.id());
    this.native.unref();
    this.shm = this.native.provider().startsWith('shm');
    if (this.shm) this.native.watch(shmRegion(this.native.name() ?? ''));
  }

  /** The endpoint's own address as libfabric prints it (`fi_sockaddr_in://127.0.0.1:41234`). */
  name(): string {
    return this.native.name() ?? '';
  }

  /** The provider libfabric chose (`tcp;ofi_rxm`). */
  provider(): string {
    return this.native.provider();
  }

  /**
   * Posts a send of a private copy of `bytes` to the peer.
   *
   * @returns 0, `EAGAIN` (the provider needs progress first), or another errno
   */
  send(bytes: Uint8Array, tagged: boolean, hi: number, lo: number, peer = -1): number {
    if (this.closed) return ESHUTDOWN;
    const rc = this.native.postSend(this.id(), bytes, tagged, hi, lo, peer);
    if (rc === 0) {
      this.sendsInFlight++;
      this.updateRef();
      posted(this.spinMs);
    }
    return rc;
  }

  /** This endpoint's raw address, for a peer's {@link FabricEndpoint.insertPeer}. */
  rawName(): Uint8Array {
    return this.native.rawName() ?? new Uint8Array(0);
  }

  /**
   * Adds a peer's raw address.
   *
   * @returns its `fi_addr`, or a negative errno
   */
  insertPeer(name: Uint8Array): number {
    return this.closed ? -ESHUTDOWN : this.native.insertPeer(name);
  }

  /**
   * Offers `bytes` for peers to read until {@link FabricEndpoint.unexpose}: a copy in a staging
   * buffer (registered once, when the buffer was first made), or with `copy` false the bytes
   * themselves, through a registration of the whole buffer they lie in made once for that buffer.
   *
   * @returns its id and `[addrHi, addrLo, keyHi, keyLo]`, or an errno
   */
  expose(bytes: Uint8Array, copy = true): { id: number; parts: [number, number, number, number] } | number {
    if (this.closed) return ESHUTDOWN;
    const id = this.id();
    if (!copy) {
      const reg = this.closed ? ESHUTDOWN : this.regions.get(bytes);
      if (typeof reg === 'number') return reg;
      // Kept referenced (never moved or collected) until unexposed.
      this.inPlace.set(id, bytes);
      this.exposures++;
      this.updateRef();
      const lo = reg.lo + bytes.byteOffset;
      return { id, parts: [(reg.hi + Math.floor(lo / 0x100000000)) >>> 0, lo >>> 0, reg.key[0], reg.key[1]] };
    }
    const r = this.native.expose(id, bytes, true);
    if (typeof r === 'number') return r;
    this.exposures++;
    this.updateRef();
    return { id, parts: r };
  }

  /** Frees an exposure (the peer read it, or dropped it). */
  unexpose(id: number): void {
    if (this.closed) return;
    if (this.inPlace.delete(id) || this.native.unexpose(id)) {
      this.exposures--;
      this.updateRef();
    }
  }

  /** Registrations made and held, staging bytes kept, and completions by the way they came. */
  stats(): Omit<FabricStats, 'releaseNotes' | 'peerProbes'> {
    const [registrations, registered, stagedBytes] = this.closed ? [0, 0, 0] : this.native.stats();
    return { registrations, registered, stagedBytes, polledEvents: this.polledEvents, threadEvents: this.threadEvents };
  }

  /** Exposures not yet released. */
  get exposed(): number {
    return this.exposures;
  }

  /**
   * Reads a peer's exposure into `target` (kept referenced until done) or, with `null`, into a
   * buffer of `len` bytes of the endpoint's. On `shm` the provider copies inside the post
   * (`process_vm_readv`) and queues the completion at once: it is read back right here, so the
   * caller finds it in `result` without waiting for an event-loop turn or the progress thread.
   *
   * @returns the posted read, or an errno when it could not be posted
   */
  read(target: Uint8Array | null, len: number, peer: number, addr: [number, number], key: [number, number]): PostedRead | number {
    if (this.closed) return ESHUTDOWN;
    const id = this.id();
    let done!: (r: RecvDone) => void;
    const p = new Promise<RecvDone>((r) => {
      done = r;
    });
    const handle: PostedRead = { id, done: p, result: undefined };
    this.recvs.set(id, { done, keep: target, strong: true, handle });
    const rc = this.native.postRead(id, target, len, peer, addr[0], addr[1], key[0], key[1]);
    if (rc !== 0) {
      this.recvs.delete(id);
      return rc;
    }
    this.strong++;
    this.updateRef();
    posted(this.spinMs);
    if (this.shm && this.spinMs > 0) this.pollNow();
    return handle;
  }

  /**
   * Reads the completion queue once from this thread now and dispatches what it holds, retrying
   * for up to POLL_NOW_WAIT_US while the progress thread holds the queue.
   */
  private pollNow(): void {
    const ev = this.native.poll(Math.ceil(Math.max(hotLeftMs(), this.spinMs) * 1000), POLL_NOW_WAIT_US);
    if (ev === undefined) return;
    this.polledEvents += ev.length / 5;
    this.dispatch(ev);
  }

  /**
   * Gives up on a posted receive or read whose peer is gone: its waiter resolves with `err` now.
   * The provider keeps the operation until the endpoint closes (libfabric cannot cancel a read
   * from a dead shm peer); the dead peer can no longer write into its target.
   */
  abandon(id: number, err: number): void {
    this.native.cancel(id);
    const r = this.recvs.get(id);
    if (r === undefined) return;
    this.recvs.delete(id);
    // Kept referenced until close: the provider still holds the operation.
    if (r.keep !== null) this.abandoned.push(r.keep);
    if (r.strong) this.strong--;
    this.updateRef();
    r.done({ err, len: 0, buf: undefined });
  }

  /**
   * Shm only: asks the native reaper to look after an shm region (this endpoint's own or a
   * peer's), releasing a lock that a killed process left held in it.
   */
  watch(name: string): void {
    if (!this.closed && this.isShm) this.native.watch(name);
  }

  /** True on libfabric's shm provider. */
  get isShm(): boolean {
    return this.shm;
  }

  /**
   * Whether the peer owning the shm region `name` is alive; `true` on other providers, where a
   * lost peer shows as an error completion instead.
   */
  peerAlive(name: string | undefined): boolean {
    if (!this.shm || name === undefined) return true;
    return nativeAddon()?.regionAlive(shmRegion(name)) ?? true;
  }

  /** Cancels a posted receive; its completion (`ECANCELED`) follows. */
  cancel(id: number): void {
    if (!this.closed) this.native.cancel(id);
  }

  /** A caller waits for a metadata message: keep the process alive until {@link FabricEndpoint.unhold}. */
  hold(): void {
    this.holds++;
    this.updateRef();
    this.heat();
  }

  /** The wait that {@link FabricEndpoint.hold} announced is over. */
  unhold(): void {
    this.holds--;
    this.updateRef();
  }

  /** Sends posted and not yet completed. */
  get inFlight(): number {
    return this.sendsInFlight;
  }

  /** Resolves at the next batch of completions, or after `ms` at the latest. */
  progress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(fire, ms);
      const waiters = this.progressWaiters;
      function fire(): void {
        clearTimeout(t);
        const i = waiters.indexOf(fire);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(fire);
    });
  }

  /** Closes the native endpoint; every posted receive completes with `ESHUTDOWN`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const shm = this.shm;
    this.native.close();
    if (shm) KEPT_AFTER_CLOSE.push(...this.abandoned);
    this.abandoned = [];
    if (shm) {
      // A closed shm endpoint stays open in libfabric until the process has no open shm endpoint
      // (see native/endpoint.cc): a peer may still write into what its reads target, or read its exposures.
      for (const r of this.recvs.values()) if (r.keep !== null) KEPT_AFTER_CLOSE.push(r.keep);
      for (const b of this.inPlace.values()) KEPT_AFTER_CLOSE.push(b);
    }
    this.inPlace.clear();
    setWaiting(this, false);
    const recvs = [...this.recvs.values()];
    this.recvs.clear();
    this.strong = 0;
    this.holds = 0;
    this.sendsInFlight = 0;
    this.exposures = 0;
    for (const r of recvs) r.done({ err: ESHUTDOWN, len: 0, buf: undefined });
    for (const w of this.progressWaiters.splice(0)) w();
  }

  /**
   * Reads the completion queue from this thread, once per event-loop turn, while someone waits
   * here and the process is hot (see `hotUntil`); then the progress thread takes over again. Each
   * poll tells the addon how long to keep its thread off the queue.
   * @internal
   */
  heat(): void {
    if (this.hotQueued || this.closed || this.spinMs <= 0 || !this.waiting()) return;
    if (!hot()) return;
    this.hotQueued = true;
    setImmediate(this.hotTick);
  }

  private readonly hotTick = (): void => {
    this.hotQueued = false;
    if (this.closed || !this.waiting()) return;
    const left = hotLeftMs();
    if (left <= 0) return;
    const ev = this.native.poll(Math.ceil(left * 1000));
    if (ev !== undefined) {
      // A completion keeps the spinner warm (dispatch says so).
      this.polledEvents += ev.length / 5;
      this.dispatch(ev);
    }
    this.heat();
  };

  private waiting(): boolean {
    return this.holds > 0 || this.strong > 0 || this.sendsInFlight > 0;
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    return id;
  }

  private dispatch(ev: unknown[]): void {
    if (this.closed) return;
    if (ev.length > 0) answered(this.spinMs);
    for (let i = 0; i + 4 < ev.length; i += 5) {
      const kind = ev[i] as number;
      const err = ev[i + 2] as number;
      if (kind === K_META) {
        this.onMeta(ev[i + 4] as Uint8Array | undefined, err);
      } else if (kind === K_SEND) {
        this.sendsInFlight--;
        if (err !== 0 && this.sendError === 0) this.sendError = err;
      } else if (kind === K_RECV) {
        const id = ev[i + 1] as number;
        const r = this.recvs.get(id);
        if (r === undefined) continue;
        this.recvs.delete(id);
        if (r.strong) this.strong--;
        const res: RecvDone = { err, len: ev[i + 3] as number, buf: ev[i + 4] as Uint8Array | undefined };
        if (r.handle !== undefined) r.handle.result = res;
        r.done(res);
      }
    }
    this.updateRef();
    if (this.progressWaiters.length > 0) for (const w of this.progressWaiters.slice()) w();
  }

  private updateRef(): void {
    if (this.closed) return;
    setWaiting(this, this.waiting());
    const busy = this.strong > 0 || this.exposures > 0;
    if (busy !== this.busy) {
      this.busy = busy;
      this.native.setBusy(busy);
    }
    const want = this.holds > 0 || this.strong > 0 || this.sendsInFlight > 0;
    if (want === this.refd) return;
    this.refd = want;
    if (want) this.native.ref();
    else this.native.unref();
  }
}
