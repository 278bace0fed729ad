/**
 * Registers `Transport.kShm` with the core `TransportFactory` on import: `addr` is the channel
 * name; protocol and port are ignored.
 */
import { Transport, TransportFactory } from '@lightbeam/core';
import type { ShmClientOptions } from './client.js';
import { ShmClient } from './client.js';
import type { ShmServerOptions } from './server.js';
import { ShmServer } from './server.js';

TransportFactory.register(Transport.kShm, {
  async createClient(spec) {
    return new ShmClient(spec.addr, spec.options as ShmClientOptions);
  },
  async createServer(spec) {
    return ShmServer.create(spec.addr, spec.options as ShmServerOptions);
  },
});
