/**
 * An RPC server and client over one transport, for the tests looped over kShm (both in this
 * thread), kZeroMq tcp on 127.0.0.1 and kZeroMq ipc.
 */
import { Transport } from '@lightbeam/core';
import type { RpcClientOptions, RpcServerOptions } from '@lightbeam/core';
import { RpcClient, RpcServer } from '@lightbeam/core';
import '@lightbeam/shm';
import '@lightbeam/zmq-bridge';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One transport the RPC tests run over. */
export interface RpcTransportCase {
  /** Shown in the test titles. */
  name: string;
  /** Binds a server and connects a client to it. */
  make(serverOptions?: RpcServerOptions, clientOptions?: RpcClientOptions): Promise<RpcPair>;
}

/** A connected server and client. */
export interface RpcPair {
  server: RpcServer;
  client: RpcClient;
  /** Closes both (idempotent). */
  close(): Promise<void>;
}

function pair(server: RpcServer, client: RpcClient): RpcPair {
  return { server, client, close: async () => void (await Promise.all([client.close(), server.close()])) };
}

/** The transports every RPC behaviour is checked over. */
export const RPC_TRANSPORTS: RpcTransportCase[] = [
  {
    name: 'kShm',
    async make(so, co) {
      const channel = `rpc-test-${randomUUID()}`;
      const server = await RpcServer.listen(Transport.kShm, channel, so);
      const client = await RpcClient.connect(Transport.kShm, channel, co);
      return pair(server, client);
    },
  },
  {
    name: 'kZeroMq tcp',
    async make(so, co) {
      const server = await RpcServer.listen(Transport.kZeroMq, '127.0.0.1', { ...so, protocol: 'tcp', port: 0 });
      const port = (server.server as unknown as { port: number }).port;
      const client = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { ...co, protocol: 'tcp', port });
      return pair(server, client);
    },
  },
  {
    name: 'kZeroMq ipc',
    async make(so, co) {
      const path = join(tmpdir(), `rpc-test-${randomUUID()}.sock`);
      const server = await RpcServer.listen(Transport.kZeroMq, path, { ...so, protocol: 'ipc' });
      const client = await RpcClient.connect(Transport.kZeroMq, path, { ...co, protocol: 'ipc' });
      return pair(server, client);
    },
  },
];
