/**
 * The client side of the negotiation (frame layout in negotiate-codec.ts): before its first send
 * a client asks the server's negotiation endpoint what it speaks, on a DEALER of its own, and
 * waits a bounded time. No answer means a plain peer (the C++ server, an older release): the
 * plain two-phase wire, no batching by default. An answer sets the batch framing and the size
 * limits; an answer with no common protocol version fails every send with one clear error.
 *
 * Reusable by anything that sends to a Lightbeam ZeroMQ server (the client, RPC's reply clients
 * through it, the bridge's egress): {@link askPeer} is the whole exchange.
 */
import type { OutgoingMessage } from '@lightbeam/core';
import { EMSGSIZE, LBM_OK, LightbeamError } from '@lightbeam/core';
import type { Context } from 'zeromq';
import { Dealer } from 'zeromq';
import { BATCH_VERSION } from './batch-codec.js';
import type { PeerAgreement, PeerHello } from './negotiate-codec.js';
import { MIN_PROTOCOL_VERSION, NEGOTIATE_ANSWER, NEGOTIATE_MAX_FRAME_BYTES, NEGOTIATE_HELLO, PROTOCOL_VERSION, agree, decodeNegotiation, encodeNegotiation, versionMismatchMessage } from './negotiate-codec.js';

/** How to reach a negotiation endpoint. */
export interface AskPeerOptions {
  /** Longest wait for the answer, in ms. */
  timeoutMs: number;
  /** The zeromq.js context (inproc needs the server's). */
  context?: Context;
  /** Extra socket options (CURVE keys of the data connection). */
  socketOptions?: Record<string, unknown>;
  /** Ends the wait early (the client closed): resolves `null`. */
  signal?: AbortSignal;
}

/**
 * The hello of a client of this release.
 *
 * @param batch - whether it may write batches
 */
export function clientHello(batch: boolean): PeerHello {
  return {
    minProtocol: MIN_PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    batchVersions: batch ? 1 << (BATCH_VERSION - 1) : 0,
    maxMessageBytes: 0,
    maxBulkBytes: 0,
    features: 0n,
  };
}

/**
 * Asks the negotiation endpoint at `url` once.
 *
 * @param url - the negotiation URL (negotiate-codec.ts `negotiationUrl`)
 * @param hello - what this client announces
 * @param opts - timeout, context, socket options, signal
 * @returns the server's answer, or `null` when none came in time (a plain peer)
 */
export async function askPeer(url: string, hello: PeerHello, opts: AskPeerOptions): Promise<PeerHello | null> {
  const options: Record<string, unknown> = {
    ...opts.socketOptions,
    linger: 0,
    receiveTimeout: opts.timeoutMs,
    // The hello waits for a pipe when there is none yet (CURVE makes it only after the handshake).
    sendTimeout: opts.timeoutMs,
    // An answer is 40 bytes: anything much larger is not one, and is not read into memory. The
    // bound also applies to the handshake's commands (CURVE's are up to a few hundred bytes).
    maxMessageSize: NEGOTIATE_MAX_FRAME_BYTES,
  };
  if (opts.context !== undefined) options.context = opts.context;
  let dealer: Dealer;
  try {
    dealer = new Dealer(options);
    dealer.connect(url);
  } catch {
    return null;
  }
  const stop = (): void => dealer.close();
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    // Queued on the connection's pipe (made at connect), delivered once the server is there.
    const deadline = performance.now() + opts.timeoutMs;
    await dealer.send(encodeNegotiation(NEGOTIATE_HELLO, hello));
    dealer.receiveTimeout = Math.max(1, Math.floor(deadline - performance.now()));
    for (;;) {
      const [frame] = await dealer.receive();
      const answer = frame === undefined ? null : decodeNegotiation(frame, NEGOTIATE_ANSWER);
      if (answer !== null) return answer;
      // Not an answer (a stray frame): keep waiting for the rest of the time only.
      const left = Math.floor(deadline - performance.now());
      if (left <= 0) return null;
      dealer.receiveTimeout = left;
    }
  } catch {
    // Timed out, closed, or refused by the socket: a plain peer.
    return null;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    if (!dealer.closed) dealer.close();
  }
}

/** Whether and how a client negotiates. */
export interface NegotiatorConfig {
  /** The data URL, for messages. */
  where: string;
  /** The negotiation URL. */
  url: string;
  /** What the client announces. */
  hello: PeerHello;
  /** As for {@link askPeer}. */
  ask: AskPeerOptions;
}

/**
 * One client's negotiation: asked once, on the first send (or `negotiate()`), then read on every
 * send to refuse what the server could not take.
 */
export class Negotiator {
  private settling: Promise<PeerAgreement | null> | null = null;
  /** The agreement, `null` for a plain peer; `undefined` until settled. */
  agreement: PeerAgreement | null | undefined = undefined;
  private failure: LightbeamError | null = null;

  /** @param config - where to ask and what to announce */
  constructor(private readonly config: NegotiatorConfig) {}

  /** True once the answer (or its absence) is known. */
  get settled(): boolean {
    return this.agreement !== undefined || this.failure !== null;
  }

  /**
   * Asks once; later calls share the first answer.
   *
   * @throws LightbeamError `ERR_LBM_PROTOCOL_VERSION` when the server speaks no common version
   */
  settle(): Promise<PeerAgreement | null> {
    if (this.settling === null) {
      this.settling = askPeer(this.config.url, this.config.hello, this.config.ask).then((answer) => {
        if (answer === null) return (this.agreement = null);
        const a = agree(this.config.hello, answer);
        if (a === null) {
          this.failure = new LightbeamError('ERR_LBM_PROTOCOL_VERSION', versionMismatchMessage(this.config.where, this.config.hello, answer, 'server'));
          throw this.failure;
        }
        return (this.agreement = a);
      });
    }
    return this.settling;
  }

  /**
   * Checks one message against the agreement.
   *
   * @param msg - the encoded message
   * @returns `0`, or `EMSGSIZE` when a frame or a bulk is larger than the server takes
   * @throws LightbeamError `ERR_LBM_PROTOCOL_VERSION` after a failed negotiation
   */
  admit(msg: OutgoingMessage): number {
    if (this.failure !== null) throw this.failure;
    const a = this.agreement;
    if (a === null || a === undefined) return LBM_OK;
    const maxFrame = a.maxMessageBytes;
    if (maxFrame !== null && (msg.meta.byteLength > maxFrame || !framesFit(maxFrame, msg.xfer))) return EMSGSIZE;
    const maxBulk = a.maxBulkBytes;
    if (maxBulk !== null) for (const b of msg.bulks) if (b.size > maxBulk) return EMSGSIZE;
    return LBM_OK;
  }
}

/**
 * Whether every frame is within a peer's largest message (`PeerAgreement.maxMessageBytes`).
 *
 * @param maxFrame - the peer's limit in bytes, or null for none
 * @param frames - the frames of one message
 */
export function framesFit(maxFrame: number | null, frames: readonly Uint8Array[]): boolean {
  if (maxFrame === null) return true;
  for (let i = 0; i < frames.length; i++) if (frames[i].byteLength > maxFrame) return false;
  return true;
}
