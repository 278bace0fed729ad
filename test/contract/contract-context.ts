/**
 * What every part of the transport contract suite shares: the options a transport passes, the
 * current endpoint pair, and small helpers that always wait with a timeout (messages may take
 * real time to arrive on a real transport).
 */
import { expect } from 'chai';
import type { Client, ExposeSource, Server } from '@lightbeam/core';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
export { RequestMeta } from '../support/metas.js';
import { RequestMeta } from '../support/metas.js';

/** A connected client and bound server, and how to dispose of them. */
export interface TransportPair {
  /** Connected to `server`. */
  client: Client;
  /** Bound; receives what `client` sends. */
  server: Server;
  /** The bind address the server was constructed with; checked against `getAddress()`. */
  address?: string;
  /** Closes both endpoints and frees anything else the pair holds; must tolerate closed endpoints. */
  cleanup(): Promise<void>;
}

/** What a transport tells the suite about itself. */
export interface TransportContractOptions {
  /**
   * True when BULK_EXPOSE bulks arrive as live views of the sender's memory (shared memory);
   * false when only their descriptors arrive and `data` is `null` (network transports).
   * @defaultValue false
   */
  sharesMemory?: boolean;
  /**
   * Places the bytes of an EXPOSE bulk where the transport can share them (e.g. a shared-memory
   * slab) and returns what to pass to `expose`. Only used when `sharesMemory` is true.
   * @defaultValue the plain view
   */
  placeExposed?: (pair: TransportPair, bytes: Uint8Array) => ExposeSource;
  /**
   * Sends raw frames (metadata frame, then data frames) as a non-conforming peer would, bypassing
   * `Client.send` validation. Rules that need it are skipped when it is missing.
   */
  sendRaw?: (pair: TransportPair, frames: Uint8Array[]) => Promise<void>;
  /**
   * True when `send` copies (or hands off) XFER data before it resolves, so the sender may reuse
   * its buffer at once. A transport that reads XFER bytes from the sender's memory later must
   * say false here and document that the application keeps the buffer until it is received.
   * @defaultValue true
   */
  copiesOnSend?: boolean;
  /**
   * Longest wait for a message that was sent, in ms.
   * @defaultValue 5000
   */
  timeoutMs?: number;
}

/** The suite's view of the current test: options, and the pair made for it in `beforeEach`. */
export interface ContractContext {
  /** Options with defaults filled in. */
  readonly opts: Required<Pick<TransportContractOptions, 'sharesMemory' | 'timeoutMs' | 'copiesOnSend'>> & TransportContractOptions;
  /** The pair of the running test. */
  pair(): TransportPair;
}

/** UTF-8 bytes of `s`. */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The text of UTF-8 bytes. */
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/**
 * Waits for the next message (with the suite's timeout) and expects it to decode.
 *
 * @param ctx - suite context
 * @param meta - the meta to fill
 */
export async function recvOk<M extends LbmMeta>(ctx: ContractContext, meta: M): Promise<M> {
  const rc = await ctx.pair().server.waitMetadata(meta, { timeoutMs: ctx.opts.timeoutMs });
  expect(rc, 'waitMetadata').to.equal(0);
  return meta;
}

/**
 * Sends and expects `0`; waits for room up to the suite's timeout, since a real transport may
 * still be connecting.
 *
 * @param ctx - suite context
 * @param meta - the message
 */
export async function sendOk(ctx: ContractContext, meta: LbmMeta): Promise<void> {
  expect(await ctx.pair().client.send(meta, { timeoutMs: ctx.opts.timeoutMs }), 'send').to.equal(0);
}

/**
 * Builds a meta whose `send` holds one XFER bulk per string.
 *
 * @param ctx - suite context
 * @param parts - the bulks' contents
 * @param meta - the meta to fill (a plain `LbmMeta` by default)
 */
export function xferMeta<M extends LbmMeta>(ctx: ContractContext, parts: string[], meta: M): M {
  for (const p of parts) {
    const b = utf8(p);
    meta.send.push(ctx.pair().client.expose(b, b.byteLength, BULK_XFER));
  }
  return meta;
}

/**
 * After a received meta, pushes one fresh receive buffer per send bulk (flags copied, as the C++
 * examples do) and receives the data; returns the buffers.
 *
 * @param ctx - suite context
 * @param meta - a meta filled by `recvOk`
 */
export async function recvAll(ctx: ContractContext, meta: LbmMeta): Promise<Uint8Array[]> {
  const server = ctx.pair().server;
  const bufs: Uint8Array[] = [];
  for (const b of meta.send) {
    const buf = new Uint8Array(b.size);
    bufs.push(buf);
    meta.recv.push(server.expose(buf, b.size, b.flags));
  }
  expect(await server.recvBulks(meta), 'recvBulks').to.equal(0);
  return bufs;
}

/**
 * A request meta with id `id`, sent, for order and delivery tests.
 *
 * @param ctx - suite context
 * @param id - the request id
 */
export function numbered(id: number): RequestMeta {
  const m = new RequestMeta();
  m.requestId = id;
  m.operation = `op-${id}`;
  return m;
}
