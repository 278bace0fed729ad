/**
 * The sending side over libfabric: each XFER bulk as a tagged message, then the metadata as an
 * untagged one into a receive the server keeps posted (see wire.ts).
 */
import type { OutgoingMessage, WaitSpec } from '@lightbeam/core';
import { Client, EAGAIN, ECANCELED, EMSGSIZE, ESHUTDOWN, ETIMEDOUT, LightbeamError, remainingMs } from '@lightbeam/core';
import { FabricEndpoint } from './fabric-endpoint.js';
import { fabricNode } from './fabric-address.js';
import type { FabricClientOptions } from './fabric-options.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FABRIC_LINGER_MS,
  DEFAULT_IDLE_MAX_US,
  DEFAULT_META_BYTES,
  DEFAULT_SPIN_US,
  resolveProvider,
} from './fabric-options.js';
import { CLIENT_ID_MASK, SEQ_MASK, WIRE_MAX_FRAMES, encodeHello, encodeWire, tagHi, tagLo } from './wire.js';

/** Once part of a message is posted, the rest is posted even past the caller's deadline, up to this long. */
const FINISH_MESSAGE_MS = 5000;

/** A client over libfabric (`Transport.kFabric`). */
export class FabricClient extends Client {
  /** The libfabric provider in use. */
  readonly provider: string;
  /** This client's own address as libfabric prints it. */
  readonly endpoint: string;
  private readonly ep: FabricEndpoint;
  private readonly clientId = (Math.random() * CLIENT_ID_MASK) >>> 0;
  private readonly metaBytes: number;
  private readonly lingerMs: number;
  private seq = 0;

  private constructor(ep: FabricEndpoint, options: FabricClientOptions) {
    super();
    this.ep = ep;
    this.provider = ep.provider();
    this.endpoint = ep.name();
    this.metaBytes = options.metaBytes ?? DEFAULT_META_BYTES;
    this.lingerMs = options.lingerMs ?? DEFAULT_FABRIC_LINGER_MS;
  }

  /**
   * Opens a client towards a server and waits until the provider accepts messages for it (with
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
        metaBytes: options.metaBytes ?? DEFAULT_META_BYTES,
        metaSlots: 0,
        spinUs: options.spinUs ?? DEFAULT_SPIN_US,
        idleMaxUs: options.idleMaxUs ?? DEFAULT_IDLE_MAX_US,
      });
    } catch (err) {
      if (err instanceof LightbeamError) throw err;
      const e = err as Error & { errno?: number };
      throw new LightbeamError('ERR_LBM_CONNECT', `cannot connect to ${url}: ${e.message}`, { errno: e.errno, cause: err });
    }
    // The provider accepts messages once its connection to the peer is up (tcp;ofi_rxm connects
    // on the first send): post a hello, which the server ignores, until it is taken.
    const until = performance.now() + (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    let rc = ep.send(encodeHello(), false, 0, 0);
    while (rc === EAGAIN && performance.now() < until) {
      await ep.progress(1);
      rc = ep.send(encodeHello(), false, 0, 0);
    }
    if (rc !== 0) {
      ep.close();
      throw new LightbeamError('ERR_LBM_CONNECT', `cannot connect to ${url}: ${rc === EAGAIN ? 'the provider accepted no message in time' : `errno ${rc}`}`, { errno: rc });
    }
    return new FabricClient(ep, options);
  }

  protected transmit(msg: OutgoingMessage, spec: WaitSpec): Promise<number> | number {
    const failed = this.ep.sendError;
    if (failed !== 0) {
      // A send that completed with an error (the peer went away): report it once, on the next send.
      this.ep.sendError = 0;
      return failed;
    }
    if (msg.xfer.length > WIRE_MAX_FRAMES) return EMSGSIZE;
    const seq = this.seq;
    const wire = encodeWire(this.clientId, seq, msg.meta, msg.xfer);
    if (wire.byteLength > this.metaBytes) return EMSGSIZE;
    const hi = tagHi(this.clientId, seq);
    const frames = msg.xfer.length;
    let i = 0;
    for (; i <= frames; i++) {
      const rc = i < frames ? this.ep.send(msg.xfer[i], true, hi, tagLo(seq, i)) : this.ep.send(wire, false, 0, 0);
      if (rc === EAGAIN) break;
      if (rc !== 0) return rc;
    }
    if (i > frames) {
      this.seq = (seq + 1) & SEQ_MASK;
      return 0;
    }
    if (i === 0 && spec.deadline === 0) return EAGAIN;
    this.seq = (seq + 1) & SEQ_MASK;
    return this.finish(msg, wire, hi, seq, i, spec);
  }

  protected async shutdown(): Promise<void> {
    const until = performance.now() + this.lingerMs;
    // Bounded: each turn waits for completions or 5 ms, until the sends are done or linger ends.
    while (this.ep.inFlight > 0 && performance.now() < until) await this.ep.progress(5);
    this.ep.close();
  }

  /** Posts frames `from`.. of a message, retrying on `EAGAIN` after progress until the deadline. */
  private async finish(msg: OutgoingMessage, wire: Uint8Array, hi: number, seq: number, from: number, spec: WaitSpec): Promise<number> {
    const frames = msg.xfer.length;
    const started = from > 0;
    const deadline = started ? Math.max(spec.deadline, performance.now() + FINISH_MESSAGE_MS) : spec.deadline;
    const s: WaitSpec = { deadline, signal: started ? undefined : spec.signal };
    for (let i = from; i <= frames; ) {
      if (this.closed) return ESHUTDOWN;
      const rc = i < frames ? this.ep.send(msg.xfer[i], true, hi, tagLo(seq, i)) : this.ep.send(wire, false, 0, 0);
      if (rc === 0) {
        i++;
        continue;
      }
      if (rc !== EAGAIN) return rc;
      if (s.signal?.aborted === true) return ECANCELED;
      const left = remainingMs(s);
      if (left <= 0) return i === 0 ? (spec.deadline === 0 ? EAGAIN : ETIMEDOUT) : ETIMEDOUT;
      await this.ep.progress(Math.min(1, left));
    }
    return 0;
  }
}
