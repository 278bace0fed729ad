/**
 * The RPC server's clients towards reply addresses: one per address, connected on first use,
 * at most `max` kept (the least recently used is closed), so requests naming ever new addresses
 * (hostile or just many short-lived callers) cannot make the server hold unbounded sockets.
 */
import type { Client } from '../protocol/client.js';
import type { LbmMeta } from '../protocol/lbm-meta.js';
import { EAGAIN, ECONNRESET, ESHUTDOWN, EINVAL } from '../protocol/return-codes.js';
import { connectReply } from './reply-path.js';
import type { Transport } from '../protocol/transport-factory.js';

interface Entry {
  /** Set once connected (`null` while connecting or when the address could not be connected). */
  client: Client | null;
  /** The connected client's transport writes the meta itself (sends synchronously): read once. */
  sendsNow: boolean;
  /** Settles when the connect attempt ends. */
  connecting: Promise<Client | null>;
  /** Sends started on this client and not yet settled. */
  inFlight: number;
  /** Out of the cache (evicted, or its peer went away): closed once `inFlight` is 0. */
  retired: boolean;
  /** `close()` was called on it (or will be, once connected). */
  closed: boolean;
}

/** A cache of reply clients by address. */
export class ReplyClients {
  private readonly clients = new Map<string, Entry>();
  /** Retired clients whose sends have not settled yet: closing them now would lose those replies. */
  private readonly retiring = new Set<Entry>();
  private closed = false;

  /**
   * @param transport - the transport replies go over
   * @param max - most clients kept
   * @param options - transport options of each client
   */
  constructor(
    private readonly transport: Transport,
    private readonly max: number,
    private readonly options: Record<string, unknown>,
  ) {}

  /** Clients open: those cached plus those retired but still sending. */
  get open(): number {
    return this.clients.size + this.retiring.size;
  }

  /**
   * Sends `meta` to `replyTo`.
   *
   * @returns the transport's code; `EINVAL` when the address cannot be connected
   */
  send(replyTo: string, meta: LbmMeta, timeoutMs: number): Promise<number> {
    if (this.closed) return Promise.resolve(ESHUTDOWN);
    const e = this.entry(replyTo);
    e.inFlight++;
    // A connected client sends at once: no promise in front of the transport's own.
    const rc = e.client !== null ? e.client.send(meta, { timeoutMs }) : e.connecting.then((c) => (c === null ? EINVAL : c.send(meta, { timeoutMs })));
    return rc.then(
      (code) => {
        this.settled(replyTo, e, code);
        return code;
      },
      (err: unknown) => {
        this.settled(replyTo, e, 0);
        throw err;
      },
    );
  }

  /**
   * Sends `meta` to `replyTo` synchronously when its client is connected and its transport sends
   * synchronously (shared memory): no promise. `EAGAIN` when it cannot (not connected yet, a
   * transport that cannot, no room now): the caller then uses {@link ReplyClients.send}.
   *
   * @returns the transport's code, or `EAGAIN`
   * @throws LightbeamError for a meta that breaks a send rule, as `Client.sendNow` does
   */
  sendNow(replyTo: string, meta: LbmMeta): number {
    if (this.closed) return ESHUTDOWN;
    const e = this.entry(replyTo);
    const client = e.client;
    if (client === null || !e.sendsNow) return EAGAIN;
    const rc = client.sendNow(meta);
    if (rc === ECONNRESET || rc === ESHUTDOWN) this.retire(replyTo, e);
    return rc;
  }

  /** Closes every client; later sends resolve `ESHUTDOWN`. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.values(), ...this.retiring];
    this.clients.clear();
    this.retiring.clear();
    await Promise.all(all.map((e) => this.closeEntry(e)));
  }

  private settled(replyTo: string, e: Entry, code: number): void {
    e.inFlight--;
    // A reply endpoint that went away will not come back under the same address: forget it.
    if (code === ECONNRESET || code === ESHUTDOWN) this.retire(replyTo, e);
    else if (e.retired && e.inFlight === 0) void this.closeEntry(e);
  }

  private entry(replyTo: string): Entry {
    let e = this.clients.get(replyTo);
    if (e !== undefined) {
      // Most recently used last: Map keeps insertion order, so the first entry is the oldest.
      if (this.clients.size > 1) {
        this.clients.delete(replyTo);
        this.clients.set(replyTo, e);
      }
      return e;
    }
    const entry: Entry = { client: null, sendsNow: false, connecting: Promise.resolve(null), inFlight: 0, retired: false, closed: false };
    entry.connecting = connectReply(this.transport, replyTo, this.options).then(
      (c) => {
        if (this.closed) {
          void c.close();
          return null;
        }
        entry.client = c;
        // A protected getter of Client: only a transport that writes the meta itself sends at once.
        entry.sendsNow = Reflect.get(c, 'writesMetaDirectly') === true;
        return c;
      },
      () => {
        // Unreachable now is not unreachable forever: the next reply to it tries again.
        if (this.clients.get(replyTo) === entry) this.clients.delete(replyTo);
        return null;
      },
    );
    e = entry;
    this.clients.set(replyTo, e);
    if (this.clients.size > this.max) {
      const [oldest, victim] = this.clients.entries().next().value as [string, Entry];
      this.retire(oldest, victim);
    }
    return e;
  }

  /**
   * Takes `e` out of the cache and closes it once its sends have settled (each is bounded by its
   * timeout), so replies already handed to it are not lost to an eviction.
   */
  private retire(replyTo: string, e: Entry): void {
    if (this.clients.get(replyTo) === e) this.clients.delete(replyTo);
    e.retired = true;
    if (e.inFlight === 0) void this.closeEntry(e);
    else this.retiring.add(e);
  }

  private async closeEntry(e: Entry): Promise<void> {
    this.retiring.delete(e);
    if (e.closed) return;
    e.closed = true;
    await (await e.connecting)?.close();
  }
}
