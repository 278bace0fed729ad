/**
 * The transport registry: transport packages register themselves on import, and
 * `TransportFactory` hands out connected clients and bound servers by `Transport` id.
 */
import type { Client } from './client.js';
import { LightbeamError } from './lightbeam-error.js';
import type { Server } from './server.js';

/** Transport ids, `hshm::lbm::Transport`. */
export const Transport = {
  /** ZeroMQ PUSH/PULL, from `@lightbeam/zmq-bridge`. */
  kZeroMq: 'zeromq',
  /** Shared memory between worker threads, from `@lightbeam/shm`. */
  kShm: 'shm',
  /** libfabric (RDMA fabrics, `tcp;ofi_rxm`, `shm`), from `@lightbeam/fabric`. */
  kFabric: 'fabric',
} as const;

/** One of the {@link Transport} ids. */
export type Transport = (typeof Transport)[keyof typeof Transport];

/** The package that registers each transport, named in the error when it is missing. */
export const TRANSPORT_PACKAGES: Readonly<Record<Transport, string>> = Object.freeze({
  zeromq: '@lightbeam/zmq-bridge',
  shm: '@lightbeam/shm',
  fabric: '@lightbeam/fabric',
});

/** Default protocol when none is given, as the C++ constructors. */
export const DEFAULT_PROTOCOL = 'tcp';
/** Default port when none is given, as the C++ constructors. */
export const DEFAULT_PORT = 8192;

/** Endpoint coordinates as the factory passes them to a provider. */
export interface EndpointSpec {
  /** Host address (ZeroMQ) or channel name (shared memory). */
  addr: string;
  /** `tcp`, `ipc` or `inproc` (ZeroMQ); ignored by shared memory. */
  protocol: string;
  /** TCP port; ignored by other protocols. */
  port: number;
  /** Transport-specific options. */
  options: Record<string, unknown>;
}

/** What a transport package registers. */
export interface TransportProvider {
  /** Resolves to a connected client. */
  createClient(spec: EndpointSpec): Promise<Client>;
  /** Resolves to a bound server; rejects with `ERR_LBM_BIND` naming the URL and reason. */
  createServer(spec: EndpointSpec): Promise<Server>;
  /**
   * Every key a client's options may have: the factory refuses any other at once, naming it, so
   * a typo (`lnger`) cannot pass silently as an option nobody reads.
   */
  readonly clientOptionKeys: readonly string[];
  /** Every key a server's options may have; as {@link TransportProvider.clientOptionKeys}. */
  readonly serverOptionKeys: readonly string[];
}

/**
 * The types each transport hands out, keyed by {@link Transport} id. Empty here: each transport
 * package adds its entry by declaration merging when imported (`declare module '@lightbeam/core'`),
 * so `TransportFactory.getServer(addr, Transport.kZeroMq)` resolves to a `ZeroMqServer` and its
 * options are checked against `ZeroMqServerOptions` without a cast.
 *
 * @example
 * ```ts
 * declare module '@lightbeam/core' {
 *   interface TransportTypeMap {
 *     zeromq: { client: ZeroMqClient; server: ZeroMqServer; clientOptions: ZeroMqClientOptions; serverOptions: ZeroMqServerOptions };
 *   }
 * }
 * ```
 */
export interface TransportTypeMap {}

/** One {@link TransportTypeMap} entry: what a transport's factory calls take and give. */
export interface TransportTypes {
  /** The client `getClient` resolves to. */
  client: Client;
  /** The server `getServer` resolves to. */
  server: Server;
  /** The options `getClient` accepts. */
  clientOptions: object;
  /** The options `getServer` accepts. */
  serverOptions: object;
}

/** The client type of transport `T`: its own class once its package is imported, else `Client`. */
export type ClientOf<T extends Transport> = [T] extends [keyof TransportTypeMap]
  ? TransportTypeMap[T] extends TransportTypes
    ? TransportTypeMap[T]['client']
    : Client
  : Client;
/** The server type of transport `T`: its own class once its package is imported, else `Server`. */
export type ServerOf<T extends Transport> = [T] extends [keyof TransportTypeMap]
  ? TransportTypeMap[T] extends TransportTypes
    ? TransportTypeMap[T]['server']
    : Server
  : Server;
/** The client options of transport `T` once its package is imported. */
export type ClientOptionsOf<T extends Transport> = [T] extends [keyof TransportTypeMap]
  ? TransportTypeMap[T] extends TransportTypes
    ? TransportTypeMap[T]['clientOptions']
    : Record<string, unknown>
  : Record<string, unknown>;
/** The server options of transport `T` once its package is imported. */
export type ServerOptionsOf<T extends Transport> = [T] extends [keyof TransportTypeMap]
  ? TransportTypeMap[T] extends TransportTypes
    ? TransportTypeMap[T]['serverOptions']
    : Record<string, unknown>
  : Record<string, unknown>;

const providers = new Map<string, TransportProvider>();

function provider(t: Transport): TransportProvider {
  const p = providers.get(t);
  if (p !== undefined) return p;
  const pkg = (TRANSPORT_PACKAGES as Record<string, string>)[t];
  throw new LightbeamError(
    'ERR_LBM_TRANSPORT_NOT_LOADED',
    pkg === undefined ? `unknown transport ${JSON.stringify(t)}` : `transport ${JSON.stringify(t)} is not loaded: import '${pkg}' first`,
  );
}

/** Refuses options that are not an object, and any key the transport did not register. */
function checkOptions(t: Transport, side: 'client' | 'server', options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `${side} options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = nearest(key, known);
    throw new LightbeamError(
      'ERR_LBM_INVALID_ARGUMENT',
      `unknown ${side} option ${JSON.stringify(key)} for transport ${JSON.stringify(t)}` +
        (near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`) +
        `; known: ${known.join(', ')}`,
    );
  }
}

/** The known key closest to a typo, if within two edits (a dropped or swapped letter or two). */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase(), bestD);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** Levenshtein distance, giving up (returning `cap`) once it cannot be below `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]!);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}

function spec(addr: string, protocol: string | undefined, port: number | undefined, options: object | undefined): EndpointSpec {
  if (typeof addr !== 'string' || addr.length === 0) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `addr must be a non-empty string, got ${JSON.stringify(addr)}`);
  }
  // Only a missing port takes the default: 0 is passed on, and means an ephemeral port to a server.
  const p = port === undefined ? DEFAULT_PORT : port;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `port must be an integer in [0, 65535], got ${port}`);
  return { addr, protocol: protocol === undefined || protocol === '' ? DEFAULT_PROTOCOL : protocol, port: p, options: (options ?? {}) as Record<string, unknown> };
}

/** `hshm::lbm::TransportFactory`: clients and servers by transport id. */
export const TransportFactory = {
  /**
   * Registers (or replaces) the provider of a transport; called by transport packages on import.
   *
   * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` when the provider does not list its option keys
   *
   * @param t - transport id
   * @param p - its provider
   */
  register(t: Transport, p: TransportProvider): void {
    // Checked here, once, so a provider written before option keys existed fails at import with
    // a message, not at its first getClient with a TypeError.
    for (const side of ['clientOptionKeys', 'serverOptionKeys'] as const) {
      const keys: unknown = p?.[side];
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
        throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `the provider of transport ${JSON.stringify(t)} must list ${side} (an array of option names), got ${keys === undefined ? 'none' : typeof keys}`);
      }
    }
    providers.set(t, p);
  },

  /** True when the transport's package has been imported. */
  isLoaded(t: Transport): boolean {
    return providers.has(t);
  },

  /**
   * A connected client.
   *
   * @param addr - host (ZeroMQ) or channel name (shared memory)
   * @param t - transport id
   * @param protocol - default `tcp`
   * @param port - default `8192`
   * @param options - transport-specific options (typed per transport once its package is
   *   imported); a key the transport does not know is refused
   * @returns the transport's own client class (`ZeroMqClient`, `ShmClient`, ...)
   * @throws LightbeamError `ERR_LBM_TRANSPORT_NOT_LOADED` naming the package to import, or
   *   `ERR_LBM_INVALID_ARGUMENT` naming an unknown option key
   */
  async getClient<T extends Transport>(addr: string, t: T, protocol?: string, port?: number, options?: ClientOptionsOf<T>): Promise<ClientOf<T>> {
    const p = provider(t);
    checkOptions(t, 'client', options, p.clientOptionKeys);
    return (await p.createClient(spec(addr, protocol, port, options as object | undefined))) as ClientOf<T>;
  },

  /**
   * A bound server. With `port` 0 a tcp server binds an ephemeral port; `getAddress()` still
   * returns `addr`, and the bound endpoint is the transport's to tell (ZeroMQ: `getEndpoint()`,
   * e.g. `tcp://127.0.0.1:41234`, and `port`).
   *
   * @param addr - host (ZeroMQ) or channel name (shared memory)
   * @param t - transport id
   * @param protocol - default `tcp`
   * @param port - default `8192`; 0 for an ephemeral port
   * @param options - transport-specific options (typed per transport once its package is
   *   imported); a key the transport does not know is refused
   * @returns the transport's own server class (`ZeroMqServer` with `port` and `getEndpoint()`, ...)
   * @throws LightbeamError `ERR_LBM_TRANSPORT_NOT_LOADED`, `ERR_LBM_INVALID_ARGUMENT` naming an
   *   unknown option key, or `ERR_LBM_BIND` naming the URL and reason
   */
  async getServer<T extends Transport>(addr: string, t: T, protocol?: string, port?: number, options?: ServerOptionsOf<T>): Promise<ServerOf<T>> {
    const p = provider(t);
    checkOptions(t, 'server', options, p.serverOptionKeys);
    return (await p.createServer(spec(addr, protocol, port, options as object | undefined))) as ServerOf<T>;
  },
};
