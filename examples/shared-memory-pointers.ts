/**
 * The guide's "Working with Shared Memory Pointers", one to one, then one step beyond it.
 *
 * Part 1 (the guide): allocate 1024 bytes in the slab of a `MemoryManager` (the C++
 * `HSHM_MEMORY_MANAGER`), make a `FullPtr`, write into it, `expose` it by `Pointer` and by
 * `FullPtr` (both name the same bytes) and send it over ZeroMQ as BULK_XFER: the bytes are copied
 * over tcp. A local server receives it so the example can check what arrived. Then free.
 *
 * Part 2 (beyond the guide): the same block over `Transport.kShm` to a worker thread as
 * BULK_EXPOSE. No data travels: the worker's `meta.send[0].data` is a live `FullPtr` to the very
 * same bytes, and what the worker writes there the main thread reads without any copy back.
 *
 * Both parts end with `free` and `stats()`. Part 1 ends at zero blocks in use. In part 2 the kShm
 * channel itself lives in the slab (its directory and ring, two blocks that stay as long as the
 * memory), so after `free` the count returns to those two and no application block is left.
 *
 * Run: `npx tsx examples/shared-memory-pointers.ts [--port N]` (or LBM_PORT; default: an
 * ephemeral port). Exits 0 on success, 1 on any failure.
 */
import { Worker } from 'node:worker_threads';
import type { FullPtr, Pointer } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, Transport, TransportFactory, makePointer, pointerEquals, strerror } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm'; // also registers Transport.kShm
import { ZeroMqServer } from '@lightbeam/zmq-bridge'; // also registers Transport.kZeroMq
import { intArg, run } from './zmq-example-args.js';

const DATA_SIZE = 1024;
const TEXT = 'Shared memory data';
const CHANNEL = `shm-pointers-example-${process.pid}`;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Blocks in use over every region of the manager. */
const blocksInUse = (manager: MemoryManager): number => manager.stats().reduce((n, s) => n + s.blocksInUse, 0);

const describe = (p: Pointer): string => `{major: ${p.allocId.major}, minor: ${p.allocId.minor}, off: ${p.off}}`;

/** Allocates DATA_SIZE bytes in the slab and writes TEXT at the start (the guide's memcpy). */
function allocateAndWrite(manager: MemoryManager): { shmPtr: Pointer; fullPtr: FullPtr } {
  const shmPtr = manager.allocateOrThrow(DATA_SIZE);
  const fullPtr = manager.toFullPtr(shmPtr, DATA_SIZE);
  // Slab blocks are not cleared on allocation (a freed block comes back as it was left).
  fullPtr.ptr.fill(0);
  fullPtr.ptr.set(enc.encode(TEXT));
  return { shmPtr, fullPtr };
}

/** Part 1: the guide's example over ZeroMQ, with a receiver to check the copy. */
async function overZeroMq(manager: MemoryManager): Promise<void> {
  const { shmPtr, fullPtr } = allocateAndWrite(manager);
  console.log(`[zmq] allocated ${DATA_SIZE} bytes at ${describe(shmPtr)}; blocks in use: ${blocksInUse(manager)}`);

  // Port 0 binds an ephemeral port (the factory maps 0 to its default port, so bind directly).
  const server = await ZeroMqServer.create('127.0.0.1', 'tcp', intArg('--port', 'LBM_PORT', 0));
  const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port ?? 0);
  try {
    const meta = new LbmMeta();
    // "Can use either hipc::Pointer or hipc::FullPtr directly": both resolve to the same bytes.
    meta.send.push(client.expose(shmPtr, DATA_SIZE, BULK_XFER));
    meta.send.push(client.expose(fullPtr, DATA_SIZE, BULK_XFER));
    const [byPointer, byFullPtr] = meta.send.map((b) => b.data as FullPtr);
    if (!pointerEquals(byPointer.shm, byFullPtr.shm)) throw new Error('expose by Pointer and by FullPtr named different blocks');
    console.log(`[zmq] exposed by Pointer and by FullPtr: both at ${describe(byPointer.shm)}`);

    let rc = await client.send(meta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);

    // The guide polls RecvMetadata until it stops returning EAGAIN; waitMetadata waits instead.
    const got = new LbmMeta();
    rc = await server.waitMetadata(got, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);
    const buffers = got.send.map((b) => new Uint8Array(b.size));
    got.send.forEach((b, i) => got.recv.push(server.expose(buffers[i], b.size, b.flags)));
    rc = await server.recvBulks(got);
    if (rc !== 0) throw new Error(`recvBulks failed: ${strerror(rc)}`);
    for (const [i, buf] of buffers.entries()) {
      if (!buf.every((v, k) => v === fullPtr.ptr[k])) throw new Error(`bulk ${i} arrived different from the slab bytes`);
      console.log(`[zmq] server received bulk ${i}: ${buf.length} bytes copied over tcp, starting "${dec.decode(buf.subarray(0, TEXT.length))}"`);
    }
  } finally {
    await client.close();
    await server.close();
  }
  // Safe now: the receiver has the data, so ZeroMQ no longer reads the block.
  manager.free(shmPtr);
  const left = blocksInUse(manager);
  console.log(`[zmq] freed; blocks in use: ${left}`);
  if (left !== 0) throw new Error(`expected 0 blocks in use after free, got ${left}`);
}

/** Part 2: the same block shared with a worker thread over kShm as BULK_EXPOSE (zero copy). */
async function overShm(manager: MemoryManager): Promise<void> {
  // A plain .mjs worker (a .ts worker fails under tsx on Node 20); execArgv: [] keeps a test
  // runner's loader flags out of it.
  const worker = new Worker(new URL('./shared-memory-pointers-worker.mjs', import.meta.url), {
    workerData: { shm: manager.handle(), channel: CHANNEL },
    execArgv: [],
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  try {
    const replies = replyQueue(worker);
    const ready = await replies.next();
    if (ready.kind !== 'ready') throw new Error(`worker failed to start: ${ready.text}`);
    const channelBlocks = blocksInUse(manager); // the channel directory and the ring, now in the slab

    const { shmPtr, fullPtr } = allocateAndWrite(manager);
    console.log(`[shm] allocated ${DATA_SIZE} bytes at ${describe(shmPtr)}; blocks in use: ${blocksInUse(manager)} (${channelBlocks} held by the channel)`);
    const client = await TransportFactory.getClient(CHANNEL, Transport.kShm);
    try {
      const meta = new LbmMeta();
      meta.send.push(client.expose(fullPtr, DATA_SIZE, BULK_EXPOSE));
      const rc = await client.send(meta, { timeoutMs: 5000 });
      if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);
      console.log('[shm] sent the block as BULK_EXPOSE: only its pointer travels');

      const seen = await replies.next();
      if (seen.kind !== 'seen') throw new Error(`worker: ${seen.kind === 'error' ? seen.text : 'replied out of order'}`);
      const at = makePointer(seen.pointer.allocId.major, seen.pointer.allocId.minor, seen.pointer.off);
      if (!pointerEquals(at, shmPtr)) throw new Error(`worker saw ${describe(at)}, not ${describe(shmPtr)}`);
      console.log(`[shm] worker read "${seen.text}" in place at ${describe(at)} (a view over the region: ${seen.inRegion})`);
      // The worker wrote at offset 512 of the same block; nothing was sent back.
      const note = dec.decode(fullPtr.ptr.subarray(512, 512 + seen.wrote));
      console.log(`[shm] main thread reads what the worker wrote into the block: "${note}"`);
      if (seen.text !== TEXT || !seen.inRegion || note !== 'written by the worker') throw new Error('the worker did not share the very same bytes');
    } finally {
      await client.close();
    }
    // The worker is done with the block (it said so): ownership was always ours, so we free it.
    manager.free(shmPtr);
    const left = blocksInUse(manager);
    console.log(`[shm] freed; blocks in use: ${left} (the channel's ${channelBlocks}; application blocks: ${left - channelBlocks})`);
    if (left !== channelBlocks) throw new Error(`expected ${channelBlocks} blocks in use after free, got ${left}`);
    worker.postMessage('stop');
    await exited;
  } finally {
    await worker.terminate(); // no-op once it exited; ends it on a failure path
  }
}

/** What the worker posts back. */
type Reply =
  | { kind: 'ready' }
  | { kind: 'seen'; text: string; pointer: Pointer; inRegion: boolean; wrote: number }
  | { kind: 'error'; text: string };

/** Worker messages in arrival order, each awaited with a 10 s bound; the worker's death ends the wait. */
function replyQueue(worker: Worker): { next(): Promise<Reply> } {
  const queued: Reply[] = [];
  const waiting: ((r: Reply) => void)[] = [];
  const push = (r: Reply): void => {
    const w = waiting.shift();
    if (w !== undefined) w(r);
    else queued.push(r);
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ kind: 'error', text: err.message }));
  worker.on('exit', (code) => push({ kind: 'error', text: `worker exited with code ${code}` }));
  return {
    next: () => {
      const r = queued.shift();
      if (r !== undefined) return Promise.resolve(r);
      return new Promise<Reply>((resolve) => {
        const timer = setTimeout(() => resolve({ kind: 'error', text: 'no reply from the worker within 10 s' }), 10_000);
        waiting.push((v) => {
          clearTimeout(timer);
          resolve(v);
        });
      });
    },
  };
}

run(async () => {
  // 4 MiB is plenty here; the default region is 64 MiB.
  const manager = MemoryManager.create({ regionBytes: 4 * 1024 * 1024 });
  try {
    await overZeroMq(manager);
    await overShm(manager);
    console.log('OK: the slab block went over ZeroMQ as a copy and over kShm by pointer, and was freed');
  } finally {
    manager.detach();
  }
});
