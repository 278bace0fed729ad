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
}

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

function spec(addr: string, protocol: string | undefined, port: number | undefined, options: Record<string, unknown> | undefined): EndpointSpec {
  if (typeof addr !== 'string' || addr.length === 0) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `addr must be a non-empty string, got ${JSON.stringify(addr)}`);
  }
  // Only a missing port takes the default: 0 is passed on, and means an ephemeral port to a server.
  const p = port === undefined ? DEFAULT_PORT : port;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `port must be an integer in [0, 65535], got ${port}`);
  return { addr, protocol: protocol === undefined || protocol === '' ? DEFAULT_PROTOCOL : protocol, port: p, options: options ?? {} };
}

/** `hshm::lbm::TransportFactory`: clients and servers by transport id. */
export const TransportFactory = {
  /**
   * Registers (or replaces) the provider of a transport; called by transport packages on import.
   *
   * @param t - transport id
   * @param p - its provider
   */
  register(t: Transport, p: TransportProvider): void {
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
   * @param options - transport-specific options
   * @throws LightbeamError `ERR_LBM_TRANSPORT_NOT_LOADED` naming the package to import
   */
  async getClient(addr: string, t: Transport, protocol?: string, port?: number, options?: Record<string, unknown>): Promise<Client> {
    return provider(t).createClient(spec(addr, protocol, port, options));
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
   * @param options - transport-specific options
   * @throws LightbeamError `ERR_LBM_TRANSPORT_NOT_LOADED`, or `ERR_LBM_BIND` naming the URL and reason
   */
  async getServer(addr: string, t: Transport, protocol?: string, port?: number, options?: Record<string, unknown>): Promise<Server> {
    return provider(t).createServer(spec(addr, protocol, port, options));
  },
};
