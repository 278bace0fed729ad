/**
 * Registers the libfabric transport with `TransportFactory` (done on import of the package).
 */
import type { EndpointSpec, TransportProvider } from '@lightbeam/core';
import { Transport, TransportFactory } from '@lightbeam/core';
import { FabricClient } from './fabric-client.js';
import type { FabricClientOptions, FabricServerOptions } from './fabric-options.js';
import { FabricServer } from './fabric-server.js';

/** The provider behind `TransportFactory.getClient/getServer(..., Transport.kFabric, ...)`. */
export const fabricProvider: TransportProvider = {
  createClient(spec: EndpointSpec): Promise<FabricClient> {
    return FabricClient.create(spec.addr, spec.protocol, spec.port, spec.options as FabricClientOptions);
  },
  createServer(spec: EndpointSpec): Promise<FabricServer> {
    return FabricServer.create(spec.addr, spec.protocol, spec.port, spec.options as FabricServerOptions);
  },
};

/**
 * Registers {@link fabricProvider} as `Transport.kFabric`; idempotent. Registered even without
 * the addon, so the factory's error names the missing native part instead of the package.
 */
export function registerFabric(): void {
  TransportFactory.register(Transport.kFabric, fabricProvider);
}

registerFabric();
