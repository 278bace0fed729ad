// The server thread of examples/multi-threaded-server.ts: receives while `running` is 1.
// Plain .mjs so it loads in a worker without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import { ETIMEDOUT, LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';

const { port, running } = workerData;
let server;
try {
  server = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', port);
} catch (err) {
  parentPort.postMessage({ kind: 'error', text: err.message });
  process.exit(1);
}
parentPort.postMessage({ kind: 'ready' });

// Atomics.load acquires the main thread's store of 0; the short timeout bounds how long a stop takes.
while (Atomics.load(running, 0) === 1) {
  const meta = new LbmMeta();
  const rc = await server.waitMetadata(meta, { timeoutMs: 100 });
  if (rc === ETIMEDOUT) continue;
  if (rc !== 0) {
    parentPort.postMessage({ kind: 'error', text: `waitMetadata: ${strerror(rc)}` });
    break;
  }
  const buffer = new Uint8Array(meta.send[0].size);
  meta.recv.push(server.expose(buffer, buffer.length, meta.send[0].flags));
  const brc = await server.recvBulks(meta);
  if (brc !== 0) {
    parentPort.postMessage({ kind: 'error', text: `recvBulks: ${strerror(brc)}` });
    break;
  }
  parentPort.postMessage({ kind: 'received', text: new TextDecoder().decode(buffer) });
}
await server.close();
