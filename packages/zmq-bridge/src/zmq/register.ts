/**
 * Registers the ZeroMQ transport with `TransportFactory` (done on import of the package), types
 * the factory's answers for `Transport.kZeroMq` and lists the option keys it accepts.
 */
import type { EndpointSpec, TransportProvider } from '@lightbeam/core';
import { Transport, TransportFactory } from '@lightbeam/core';
import { ZeroMqClient } from './client.js';
import { ZeroMqServer } from './server.js';
import type { ZeroMqClientOptions, ZeroMqServerOptions } from './options.js';

declare module '@lightbeam/core' {
  interface TransportTypeMap {
    /** `Transport.kZeroMq`, typed by `@lightbeam/zmq-bridge`. */
    zeromq: { client: ZeroMqClient; server: ZeroMqServer; clientOptions: ZeroMqClientOptions; serverOptions: ZeroMqServerOptions };
  }
}

// A Record over every key makes the compiler refuse a list that misses an option or names one
// that does not exist, so the run-time check cannot drift from the types.
const SOCKET_KEYS = { context: true, linger: true, highWaterMark: true, maxMessageSize: true, reconnectInterval: true } as const;
const CLIENT_KEYS: Record<keyof ZeroMqClientOptions, true> = { ...SOCKET_KEYS, curve: true, batch: true, copyXfer: true, immediate: true, watchPeer: true, negotiation: true };
const SERVER_KEYS: Record<keyof ZeroMqServerOptions, true> = { ...SOCKET_KEYS, limits: true, curve: true, acceptBatches: true, negotiation: true };

/** The provider behind `TransportFactory.getClient/getServer(..., Transport.kZeroMq, ...)`. */
export const zeroMqProvider: TransportProvider = {
  createClient(spec: EndpointSpec): Promise<ZeroMqClient> {
    return ZeroMqClient.create(spec.addr, spec.protocol, spec.port, spec.options as ZeroMqClientOptions);
  },
  createServer(spec: EndpointSpec): Promise<ZeroMqServer> {
    return ZeroMqServer.create(spec.addr, spec.protocol, spec.port, spec.options as ZeroMqServerOptions);
  },
  clientOptionKeys: Object.freeze(Object.keys(CLIENT_KEYS)),
  serverOptionKeys: Object.freeze(Object.keys(SERVER_KEYS)),
};

/** Registers {@link zeroMqProvider} as `Transport.kZeroMq`; idempotent. */
export function registerZeroMq(): void {
  TransportFactory.register(Transport.kZeroMq, zeroMqProvider);
}

registerZeroMq();
