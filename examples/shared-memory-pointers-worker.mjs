// The receiving thread of examples/shared-memory-pointers.ts. Plain .mjs so it loads in a worker
// without a TypeScript loader. workerData: { shm: MemoryManager handle, channel: kShm channel name }.
import { parentPort, workerData } from 'node:worker_threads';
import { LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';

const fail = (text) => parentPort.postMessage({ kind: 'error', text });

// Attaching makes the main thread's regions (and so its Pointers) resolvable in this thread.
const manager = MemoryManager.attach(workerData.shm);
let server;
try {
  server = await TransportFactory.getServer(workerData.channel, Transport.kShm);
} catch (err) {
  fail(err.message);
  process.exit(1);
}
parentPort.postMessage({ kind: 'ready' });

const meta = new LbmMeta();
const rc = await server.waitMetadata(meta, { timeoutMs: 10000 });
if (rc !== 0) {
  fail(`waitMetadata: ${strerror(rc)}`);
} else {
  // An EXPOSE bulk in the slab arrives as a live FullPtr over the sender's very bytes.
  const bulk = meta.send[0];
  const data = bulk.data;
  if (data === null) {
    fail('the EXPOSE bulk arrived without data');
  } else {
    const text = new TextDecoder().decode(data.ptr.subarray(0, data.ptr.indexOf(0)));
    // Same SharedArrayBuffer as this thread's region: a view, not a copy.
    const inRegion = data.ptr.buffer === manager.regionBuffer(data.shm.allocId);
    const note = new TextEncoder().encode('written by the worker');
    data.ptr.set(note, 512);
    // recv mirrors send with the flags copied; its EXPOSE entry is skipped by recvBulks, which
    // here only releases the message.
    meta.recv.push(server.expose(data, bulk.size, bulk.flags));
    const brc = await server.recvBulks(meta);
    if (brc !== 0) fail(`recvBulks: ${strerror(brc)}`);
    else parentPort.postMessage({ kind: 'seen', text, pointer: data.shm, inRegion, wrote: note.length });
  }
}

// Wait for the main thread to free the block before leaving (bounded, in case it never says so).
await new Promise((resolve) => {
  const timer = setTimeout(resolve, 10000);
  parentPort.once('message', () => {
    clearTimeout(timer);
    resolve();
  });
});
await server.close();
manager.detach();
parentPort.close();
