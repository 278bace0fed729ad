/**
 * The worker side of an {@link RpcWorkerPool}: serve RPC handlers on the channel the pool chose
 * for this worker, and tell the pool when the handlers are registered (calls are routed to a
 * worker only after that, so none meets an unregistered name).
 */
import { parentPort, workerData as threadWorkerData } from 'node:worker_threads';
import { LightbeamError, RpcReplyBell, RpcServer, Transport } from '@lightbeam/core';
import type { RpcListenOptions } from '@lightbeam/core';
import '../transport/register.js';

/** The `workerData` key under which the pool passes a worker its channel. */
export const RPC_POOL_KEY = 'lightbeamRpcPool';
/** What a pool worker posts to its parent once its handlers are registered. */
export const RPC_POOL_READY = 'lightbeam-rpc-pool-ready';

/** What the pool puts under {@link RPC_POOL_KEY}. */
export interface RpcPoolWorkerData {
  /** The shared-memory channel this worker serves. */
  channel: string;
  /** `spinUs` of the worker's RPC server (the pool's option). */
  spinUs?: number;
  /** `blockWhenIdleMs` of the worker's RPC server (the pool's option). */
  blockWhenIdleMs?: number;
  /** The memory of the pool's reply bell for this worker (`RpcServerOptions.replyBell`). */
  replyBell?: SharedArrayBuffer;
}

/**
 * In a worker started by an {@link RpcWorkerPool}: binds the worker's channel, lets `setup`
 * register handlers, then reports ready to the pool. The server runs until the worker exits
 * (or the returned server is closed).
 *
 * @example
 * ```ts
 * // worker.mjs
 * import { serveRpcWorker } from '@lightbeam/shm';
 * await serveRpcWorker((server) => server.handle('sum', (req) => ...));
 * ```
 *
 * @param setup - registers the handlers
 * @param options - limits of the worker's server (`maxConcurrent`, `maxQueued`, ...) and its
 *   `serverOptions` (`spinUs` defaults to the pool's)
 * @param data - the worker's `workerData` (the thread's by default)
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` in a thread the pool did not start
 */
export async function serveRpcWorker(setup: (server: RpcServer) => void | Promise<void>, options: RpcListenOptions = {}, data: unknown = threadWorkerData): Promise<RpcServer> {
  const pool = (data as Record<string, unknown> | null | undefined)?.[RPC_POOL_KEY] as RpcPoolWorkerData | undefined;
  if (pool === undefined || typeof pool.channel !== 'string' || parentPort === null) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `serveRpcWorker: workerData has no ${RPC_POOL_KEY} channel (start this script with createRpcPool)`);
  }
  const replyBell = pool.replyBell instanceof SharedArrayBuffer ? new RpcReplyBell(pool.replyBell) : undefined;
  const server = await RpcServer.listen(Transport.kShm, pool.channel, { spinUs: pool.spinUs, blockWhenIdleMs: pool.blockWhenIdleMs ?? 0, replyBell, ...options, serverOptions: { spinUs: 0, ...options.serverOptions } });
  await setup(server);
  parentPort.postMessage(RPC_POOL_READY);
  return server;
}
