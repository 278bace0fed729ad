/**
 * A server that dies mid-call: a child process killed with SIGKILL (kZeroMq) and a worker
 * thread terminated (kShm). Every caller settles with a code by its own deadline; no call hangs.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { LbmMeta, LightbeamError, RpcClient, Transport } from '@lightbeam/core';
import { RPC_POOL_KEY, RPC_POOL_READY, startWorker } from '@lightbeam/shm';
import '@lightbeam/zmq-bridge';
import type { Child } from '../zmq/support/child.js';
import { startNode } from '../zmq/support/child.js';
import { withOwnMemory } from './support/own-memory.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).to.be.instanceOf(LightbeamError);
    return (err as LightbeamError).code;
  }
}

describe('RPC server lost mid-call', function () {
  this.timeout(60_000);
  withOwnMemory();
  let child: Child | null = null;
  let client: RpcClient | null = null;
  afterEach(async () => {
    child?.proc.kill('SIGKILL');
    child = null;
    await client?.close();
    client = null;
  });

  it('kZeroMq: a server process killed mid-call leaves every caller with ERR_LBM_RPC_TIMEOUT', async () => {
    child = startNode([fileURLToPath(new URL('../fixtures/rpc/zmq-server-child.mjs', import.meta.url))]);
    await child.printed('port ', 20_000);
    const port = Number(/port (\d+)/.exec(child.stdout())?.[1]);
    client = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port });
    // One answered call proves the path works before the kill.
    expect(await code(client.call('empty', new LbmMeta(), { timeoutMs: 10_000 }))).to.equal('resolved');
    const calls = Array.from({ length: 20 }, () => code(client!.call('hang', new LbmMeta(), { timeoutMs: 500 })));
    child.proc.kill('SIGKILL');
    expect(await child.exited(10_000)).to.equal('SIGKILL');
    expect(await Promise.all(calls)).to.deep.equal(Array(20).fill('ERR_LBM_RPC_TIMEOUT'));
    expect(client.inFlight).to.equal(0);
  });

  it('kShm: a server worker terminated mid-call leaves every caller with a code; later calls fail fast or time out', async () => {
    const channel = `rpc-lost-${randomUUID()}`;
    const worker = startWorker(new URL('../fixtures/rpc/pool-worker.mjs', import.meta.url), { workerData: { [RPC_POOL_KEY]: { channel } } });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m) => (m === RPC_POOL_READY ? resolve() : reject(new Error(String(m)))));
        worker.once('error', reject);
      });
      client = await RpcClient.connect(Transport.kShm, channel);
      expect(await code(client.call('empty', new LbmMeta(), { timeoutMs: 10_000 }))).to.equal('resolved');
      const calls = Array.from({ length: 20 }, () => code(client!.call('hang', new LbmMeta(), { timeoutMs: 500 })));
      await worker.terminate();
      expect(await Promise.all(calls)).to.deep.equal(Array(20).fill('ERR_LBM_RPC_TIMEOUT'));
      // The channel is dead now: a new call is refused by the transport or times out, never hangs.
      expect(['ERR_LBM_RPC_PEER_LOST', 'ERR_LBM_RPC_TIMEOUT', 'ERR_LBM_RPC_SEND']).to.include(await code(client.call('empty', new LbmMeta(), { timeoutMs: 500 })));
    } finally {
      await worker.terminate();
    }
  });
});
