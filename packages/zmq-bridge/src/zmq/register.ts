/**
 * Registers the ZeroMQ transport with `TransportFactory` (done on import of the package).
 */
import type { EndpointSpec, TransportProvider } from '@lightbeam/core';
import { Transport, TransportFactory } from '@lightbeam/core';
import { ZeroMqClient } from './client.js';
import { ZeroMqServer } from './server.js';
import type { ZeroMqClientOptions, ZeroMqServerOptions } from './options.js';

/** The provider behind `TransportFactory.getClient/getServer(..., Transport.kZeroMq, ...)`. */
export const zeroMqProvider: TransportProvider = {
  createClient(spec: EndpointSpec): Promise<ZeroMqClient> {
    return ZeroMqClient.create(spec.addr, spec.protocol, spec.port, spec.options as ZeroMqClientOptions);
  },
  createServer(spec: EndpointSpec): Promise<ZeroMqServer> {
    return ZeroMqServer.create(spec.addr, spec.protocol, spec.port, spec.options as ZeroMqServerOptions);
  },
};

/** Registers {@link zeroMqProvider} as `Transport.kZeroMq`; idempotent. */
export function registerZeroMq(): void {
  TransportFactory.register(Transport.kZeroMq, zeroMqProvider);
}

registerZeroMq();
