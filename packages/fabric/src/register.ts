/**
 * Registers the libfabric transport with `TransportFactory` (done on import of the package), types
 * the factory's answers for `Transport.kFabric` and lists the option keys it accepts.
 */
import type { EndpointSpec, TransportProvider } from '@lightbeam/core';
import { Transport, TransportFactory } from '@lightbeam/core';
import { FabricClient } from './fabric-client.js';
import type { FabricClientOptions, FabricServerOptions } from './fabric-options.js';
import { FabricServer } from './fabric-server.js';

declare module '@lightbeam/core' {
  interface TransportTypeMap {
    /** `Transport.kFabric`, typed by `@lightbeam/fabric`. */
    fabric: { client: FabricClient; server: FabricServer; clientOptions: FabricClientOptions; serverOptions: FabricServerOptions };
  }
}

// A Record over every key makes the compiler refuse a list that misses an option or names one
// that does not exist, so the run-time check cannot drift from the types.
const ENDPOINT_KEYS = { provider: true, metaBytes: true, spinUs: true, idleMaxUs: true } as const;
const CLIENT_KEYS: Record<keyof FabricClientOptions, true> = { ...ENDPOINT_KEYS, lingerMs: true, copyXfer: true, inlineBytes: true, connectTimeoutMs: true, stageKeepBytes: true };
const SERVER_KEYS: Record<keyof FabricServerOptions, true> = { ...ENDPOINT_KEYS, metaSlots: true, bulkTimeoutMs: true, limits: true };

/** The provider behind `TransportFactory.getClient/getServer(..., Transport.kFabric, ...)`. */
export const fabricProvider: TransportProvider = {
  createClient(spec: EndpointSpec): Promise<FabricClient> {
    return FabricClient.create(spec.addr, spec.protocol, spec.port, spec.options as FabricClientOptions);
  },
  createServer(spec: EndpointSpec): Promise<FabricServer> {
    return FabricServer.create(spec.addr, spec.protocol, spec.port, spec.options as FabricServerOptions);
  },
  clientOptionKeys: Object.freeze(Object.keys(CLIENT_KEYS)),
  serverOptionKeys: Object.freeze(Object.keys(SERVER_KEYS)),
};

/**
 * Registers {@link fabricProvider} as `Transport.kFabric`; idempotent. Registered even without
 * the addon, so the factory's error names the missing native part instead of the package.
 */
export function registerFabric(): void {
  TransportFactory.register(Transport.kFabric, fabricProvider);
}

registerFabric();
