/**
 * The RPC server's clients towards reply addresses: one per address, connected on first use,
 * at most `max` kept (the least recently used is closed), so requests naming ever new addresses
 * (hostile or just many short-lived callers) cannot make the server hold unbounded sockets.
 */
import type { Client } from './client.js';
import type { LbmMeta } from './lbm-meta.js';
import { ECONNRESET, ESHUTDOWN, EINVAL } from './return-codes.js';
import { connectReply } from './rpc-reply-path.js';
import type { Transport } from './transport-factory.js';

/** A cache of reply clients by address. */
export class ReplyClients {
  private readonly clients = new Map<string, Promise<Client | null>>();
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

  /**
   * Sends `meta` to `replyTo`.
   *
   * @returns the transport's code; `EINVAL` when the address cannot be connected
   */
  async send(replyTo: string, meta: LbmMeta, timeoutMs: number): Promise<number> {
    if (this.closed) return ESHUTDOWN;
    const client = await this.get(replyTo);
    if (client === null) return EINVAL;
    const rc = await client.send(meta, { timeoutMs });
    // A reply endpoint that went away will not come back under the same address: forget it.
    if (rc === ECONNRESET || rc === ESHUTDOWN) this.drop(replyTo, client);
    return rc;
  }

  /** Closes every client; later sends resolve `ESHUTDOWN`. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map(async (p) => (await p)?.close()));
  }

  private get(replyTo: string): Promise<Client | null> {
    let p = this.clients.get(replyTo);
    if (p !== undefined) {
      // Most recently used last: Map keeps insertion order, so the first entry is the oldest.
      this.clients.delete(replyTo);
      this.clients.set(replyTo, p);
      return p;
    }
    p = connectReply(this.transport, replyTo, this.options).catch(() => null);
    this.clients.set(replyTo, p);
    if (this.clients.size > this.max) {
      const [oldest, victim] = this.clients.entries().next().value as [string, Promise<Client | null>];
      this.clients.delete(oldest);
      void victim.then((c) => c?.close());
    }
    return p;
  }

  private drop(replyTo: string, client: Client): void {
    const p = this.clients.get(replyTo);
    if (p === undefined) return;
    void p.then((c) => {
      if (c === client && this.clients.get(replyTo) === p) this.clients.delete(replyTo);
    });
    void client.close();
  }
}
