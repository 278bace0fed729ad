/**
 * The guide's "Multi-Threading" practice: a dedicated server thread receives while a flag says
 * `running` (the C++ `std::atomic<bool>` becomes an `Int32Array` over a SharedArrayBuffer read
 * with `Atomics`); the main thread sends. The server thread lives in
 * `multi-threaded-server-worker.mjs` and reports each message back to the main thread.
 *
 * Run: `npx tsx examples/multi-threaded-server.ts [--port 8891]` (or LBM_PORT).
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { BULK_XFER, LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { intArg, run } from './zmq-example-args.js';

const MESSAGES = 5;

run(async () => {
  const port = intArg('--port', 'LBM_PORT', 8891);
  const running = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(running, 0, 1); // publish "running" before the thread starts reading it
  // execArgv: [] so a test runner's loader flags do not leak into the worker (it is plain .mjs).
  const worker = new Worker(new URL('./multi-threaded-server-worker.mjs', import.meta.url), { workerData: { port, running }, execArgv: [] });
  const received: string[] = [];
  let failure: string | null = null;
  const allReceived = new Promise<void>((resolve) => {
    worker.on('message', (m: { kind: string; text?: string }) => {
      if (m.kind === 'received') received.push(m.text as string);
      if (m.kind === 'error') failure = m.text as string;
      if (received.length === MESSAGES || failure !== null) resolve();
    });
    worker.on('exit', () => resolve());
  });
  const [ready] = (await once(worker, 'message')) as [{ kind: string; text?: string }];
  if (ready.kind !== 'ready') throw new Error(`server thread failed to start: ${ready.text}`);

  const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
  try {
    for (let i = 0; i < MESSAGES; i++) {
      const text = `message ${i} from the main thread`;
      const meta = new LbmMeta();
      meta.send.push(client.expose(new TextEncoder().encode(text), text.length, BULK_XFER));
      const rc = await client.send(meta, { timeoutMs: 5000 });
      if (rc !== 0) throw new Error(`send ${i} failed: ${strerror(rc)}`);
    }
    await allReceived;
  } finally {
    await client.close();
    Atomics.store(running, 0, 0); // tell the server thread to stop after its current wait
    await once(worker, 'exit');
  }
  if (failure !== null) throw new Error(`server thread: ${failure}`);
  for (const r of received) console.log(`server thread received: ${r}`);
  if (received.length !== MESSAGES) throw new Error(`server thread received ${received.length} of ${MESSAGES} messages`);
  console.log(`OK: ${MESSAGES} messages received by the server thread`);
});
