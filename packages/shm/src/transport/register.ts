/**
 * Registers `Transport.kShm` with the core `TransportFactory` on import: `addr` is the channel
 * name; protocol and port are ignored. Also types the factory's answers for `Transport.kShm`
 * (`ShmClient`, `ShmServer` and their options) and lists the option keys it accepts.
 */
import { Transport, TransportFactory } from '@lightbeam/core';
import type { ShmClientOptions } from './client.js';
import { ShmClient } from './client.js';
import type { ShmServerOptions } from './server.js';
import { ShmServer } from './server.js';

declare module '@lightbeam/core' {
  interface TransportTypeMap {
    /** `Transport.kShm`, typed by `@lightbeam/shm`. */
    shm: { client: ShmClient; server: ShmServer; clientOptions: ShmClientOptions; serverOptions: ShmServerOptions };
  }
}

// A Record over every key makes the compiler refuse a list that misses an option or names one
// that does not exist, so the run-time check cannot drift from the types.
const CLIENT_KEYS: Record<keyof ShmClientOptions, true> = { peerTimeoutMs: true, spinUs: true };
const SERVER_KEYS: Record<keyof ShmServerOptions, true> = {
  limits: true,
  capacity: true,
  maxBytes: true,
  slotBytes: true,
  spinUs: true,
  heartbeatMs: true,
  stuckSlotMs: true,
  maxUnreleased: true,
};

TransportFactory.register(Transport.kShm, {
  async createClient(spec) {
    return new ShmClient(spec.addr, spec.options as ShmClientOptions);
  },
  async createServer(spec) {
    return ShmServer.create(spec.addr, spec.options as ShmServerOptions);
  },
  clientOptionKeys: Object.freeze(Object.keys(CLIENT_KEYS)),
  serverOptionKeys: Object.freeze(Object.keys(SERVER_KEYS)),
});
