/**
 * Request and reply over Lightbeam: an `RpcServer` with two handlers and an `RpcClient` calling
 * them, over ZeroMQ tcp (an ephemeral port of 127.0.0.1) and then over shared memory. The request
 * carries custom fields (a `Checksum` meta) and an XFER bulk; the reply carries a field back; a
 * failing handler reaches the caller as a `LightbeamError` with a code; a call that outlives its
 * timeout is rejected with ERR_LBM_RPC_TIMEOUT.
 *
 * Run: `npx tsx examples/rpc.ts` (after `npx pnpm@10.34.9 run build`).
 */
import type { Archive } from '@lightbeam/core';
import { BULK_XFER, LbmMeta, LightbeamError, RpcClient, RpcServer, Transport } from '@lightbeam/core';
import '@lightbeam/shm'; // registers Transport.kShm
import '@lightbeam/zmq-bridge'; // registers Transport.kZeroMq
import { run } from './zmq-example-args.js';

/** Request: which algorithm, then (as a bulk) the bytes to check. Reply: the sum. */
class Checksum extends LbmMeta {
  algorithm = '';
  sum = 0;
  override serialize(ar: Archive): void {
    this.algorithm = ar.string(this.algorithm);
    this.sum = ar.u32(this.sum);
  }
}

function serve(server: RpcServer): void {
  server.handle<Checksum>(
    'checksum',
    (req) => {
      const bulk = req.send[0];
      if (bulk?.data == null) throw new Error('checksum needs one bulk of data');
      if (req.algorithm !== 'sum8') throw new Error(`unknown algorithm ${req.algorithm}`);
      let sum = 0;
      for (const b of bulk.data.ptr.subarray(0, bulk.size)) sum = (sum + b) >>> 0;
      return Object.assign(new Checksum(), { algorithm: req.algorithm, sum });
    },
    { create: () => new Checksum() },
  );
  // Never answers: the caller's timeout ends the call, and the server drops it at the deadline.
  server.handle('sleep', (_req, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())));
}

async function demo(label: string, server: RpcServer, client: RpcClient): Promise<void> {
  serve(server);
  const data = new TextEncoder().encode('Lightbeam RPC');
  const req = Object.assign(new Checksum(), { algorithm: 'sum8' });
  req.send.push(client.requests.expose(data, data.byteLength, BULK_XFER));
  const reply = await client.call('checksum', req, { reply: () => new Checksum(), timeoutMs: 5000 });
  console.log(`[${label}] checksum of ${data.byteLength} bytes: ${reply.sum}`);
  for (const [method, meta] of [['checksum', Object.assign(new Checksum(), { algorithm: 'crc99' })], ['sleep', new LbmMeta()]] as const) {
    try {
      await client.call(method, meta, { timeoutMs: method === 'sleep' ? 100 : 5000 });
      throw new Error(`${method} should have failed`);
    } catch (err) {
      if (!(err instanceof LightbeamError)) throw err;
      console.log(`[${label}] ${method} failed with ${err.code}`);
    }
  }
  await Promise.all([client.close(), server.close()]);
}

run(async () => {
  const zmqServer = await RpcServer.listen(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: 0 });
  const port = (zmqServer.server as unknown as { port: number }).port;
  await demo('zmq', zmqServer, await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port }));
  const shmServer = await RpcServer.listen(Transport.kShm, 'rpc-example');
  await demo('shm', shmServer, await RpcClient.connect(Transport.kShm, 'rpc-example'));
  console.log('OK: replies matched their calls over ZeroMQ and shared memory');
});
