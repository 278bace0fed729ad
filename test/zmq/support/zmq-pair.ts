/**
 * Unique endpoints per protocol for the ZeroMQ tests, so parallel runs never collide: tcp binds an
 * ephemeral port on 127.0.0.1, ipc a fresh path under the OS temp dir, inproc a fresh name.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZeroMqClientOptions, ZeroMqServerOptions } from '@lightbeam/zmq-bridge';
import { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';

/** The protocols every looped test runs over. */
export const PROTOCOLS = ['tcp', 'ipc', 'inproc'] as const;

/** One protocol. */
export type Protocol = (typeof PROTOCOLS)[number];

let counter = 0;

/** A fresh bind address for `protocol` (tcp: the host; bind with port 0). */
export function uniqueAddress(protocol: Protocol): string {
  counter++;
  if (protocol === 'tcp') return '127.0.0.1';
  if (protocol === 'ipc') return join(tmpdir(), `lbm-zmq-${process.pid}-${counter}.sock`);
  return `lbm-zmq-${process.pid}-${counter}`;
}

/** A bound server on a unique endpoint. */
export async function makeServer(protocol: Protocol, options: ZeroMqServerOptions = {}): Promise<ZeroMqServer> {
  return ZeroMqServer.create(uniqueAddress(protocol), protocol, 0, options);
}

/** A client connected to `server`. */
export async function clientFor(server: ZeroMqServer, protocol: Protocol, options: ZeroMqClientOptions = {}): Promise<ZeroMqClient> {
  return ZeroMqClient.create(server.getAddress(), protocol, protocol === 'tcp' ? (server.port as number) : 1, options);
}

/** Closes endpoints that exist, ignoring those already closed. */
export async function closeAll(...endpoints: Array<{ close(): Promise<void> } | undefined | null>): Promise<void> {
  await Promise.all(endpoints.map((e) => e?.close()));
}
