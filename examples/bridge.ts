/**
 * The bridge in one process, for a first look: two bridges over tcp loopback, as if on two hosts.
 * A worker-side client sends to channel "frames-out"; bridge A forwards it to bridge B, which
 * delivers it into channel "frames-in", where a server receives it. The XFER bulk arrives staged
 * in shared memory; the EXPOSE bulk arrives as a descriptor only (data null).
 *
 * On two real hosts each side is a process: `lightbeam bridge --listen tcp://0.0.0.0:9000 --worker
 * rx.mjs` on B, `lightbeam bridge --peer tcp://B:9000 --channels frames --worker tx.mjs` on A.
 *
 * Run: `npx tsx examples/bridge.ts`
 */
import { BULK_EXPOSE, BULK_XFER, LbmMeta } from '@lightbeam/core';
import { MemoryManager, ShmClient, ShmServer } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';

const memory = MemoryManager.create({ regionBytes: 16 * 1024 * 1024 });
const hostB = await Bridge.create({ listen: 'tcp://127.0.0.1:0' });
const hostA = await Bridge.create({ peer: `tcp://127.0.0.1:${hostB.port}`, channels: [{ local: 'frames-out', remote: 'frames-in' }] });
const server = await ShmServer.create('frames-in');
const client = new ShmClient('frames-out');

const text = new TextEncoder().encode('Hello across hosts');
const shared = memory.allocateOrThrow(1024);
const meta = new LbmMeta();
meta.send.push(client.expose(text, text.length, BULK_XFER));
meta.send.push(client.expose(memory.toFullPtr(shared, 1024), 1024, BULK_EXPOSE));
console.log('send:', await client.send(meta, { timeoutMs: 5000 }));

const got = new LbmMeta();
console.log('receive:', await server.waitMetadata(got, { timeoutMs: 5000 }));
console.log('XFER bulk:', new TextDecoder().decode(got.send[0].data!.ptr));
console.log('EXPOSE bulk:', { size: got.send[1].size, flags: got.send[1].flags, data: got.send[1].data });
await server.recvBulks(got);
console.log('stats:', JSON.stringify(hostA.stats().egress), JSON.stringify(hostB.stats().ingress));

await client.close();
await server.close();
await hostA.close();
await hostB.close();
memory.free(shared);
