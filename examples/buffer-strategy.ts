/**
 * The guide's best practice 7, "Buffer Allocation Strategy", one to one: receive the metadata,
 * read each bulk's size from `meta.send`, allocate exactly that much, and expose the buffers in
 * `meta.recv` with the flags copied from `send`.
 *
 * Then two things the guide only mentions: its performance note 3, "reuse allocated buffers
 * across multiple receives" (one buffer, grown only when a message needs more), and what a buffer
 * of the wrong size gets: a smaller one receives the first bytes (truncation), a larger one
 * receives the data at its start and keeps the rest of its bytes as they were.
 *
 * Run: `npx tsx examples/buffer-strategy.ts [--port N]` (or LBM_PORT; default: an ephemeral
 * port). Exits 0 on success, 1 on any failure.
 */
import type { Client, Server } from '@lightbeam/core';
import { BULK_XFER, LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import { ZeroMqServer } from '@lightbeam/zmq-bridge'; // also registers Transport.kZeroMq
import { intArg, run } from './zmq-example-args.js';

const dec = new TextDecoder();

/** `n` bytes of a pattern that differs per seed, so a misplaced byte shows. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Sends one message of XFER bulks. Each send gets fresh bytes: ZeroMQ may still hold them after `send` resolves. */
async function sendBulks(client: Client, bulks: Uint8Array[]): Promise<void> {
  const meta = new LbmMeta();
  for (const b of bulks) meta.send.push(client.expose(b, b.length, BULK_XFER));
  const rc = await client.send(meta, { timeoutMs: 5000 });
  if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);
}

/**
 * Receives one message: waits for its metadata (the guide polls RecvMetadata while it returns
 * EAGAIN; waitMetadata waits up to the timeout instead), lets `choose` pick a buffer per send
 * entry, exposes them in recv with the flags copied, and receives the data into them.
 */
async function receive(server: Server, choose: (sizes: number[]) => Uint8Array[]): Promise<Uint8Array[]> {
  const meta = new LbmMeta();
  let rc = await server.waitMetadata(meta, { timeoutMs: 5000 });
  if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);
  const buffers = choose(meta.send.map((b) => b.size));
  buffers.forEach((buf, i) => meta.recv.push(server.expose(buf, buf.length, meta.send[i].flags)));
  rc = await server.recvBulks(meta);
  if (rc !== 0) throw new Error(`recvBulks failed: ${strerror(rc)}`);
  return buffers;
}

/** The guide's strategy: one buffer per bulk, of exactly the sender's size. */
async function exactSizes(client: Client, server: Server): Promise<void> {
  const sent = [pattern(5, 1), pattern(300, 2), pattern(4000, 3)];
  await sendBulks(client, sent);
  const got = await receive(server, (sizes) => sizes.map((size) => new Uint8Array(size)));
  got.forEach((buf, i) => {
    if (!equal(buf, sent[i])) throw new Error(`exact: bulk ${i} differs from what was sent`);
  });
  console.log(`exact: allocated ${got.map((b) => b.length).join(' + ')} bytes from meta.send sizes, all bytes match`);
}

/** Performance note 3: one receive buffer reused by every message, grown only when too small. */
async function reuse(client: Client, server: Server): Promise<void> {
  let buffer = new Uint8Array(1024);
  let allocations = 1;
  const sizes = [100, 1000, 3000, 50, 2500];
  for (const [k, size] of sizes.entries()) {
    const sent = pattern(size, 10 + k);
    await sendBulks(client, [sent]);
    const [view] = await receive(server, ([need]) => {
      if (need > buffer.length) {
        buffer = new Uint8Array(2 ** Math.ceil(Math.log2(need)));
        allocations++;
      }
      // A view of exactly the bulk's size over the reused buffer: no allocation of bytes.
      return [buffer.subarray(0, need)];
    });
    if (!equal(view, sent)) throw new Error(`reuse: message ${k} differs from what was sent`);
  }
  console.log(`reuse: ${sizes.length} messages of ${sizes.join(', ')} bytes received with ${allocations} allocations (final buffer ${buffer.length} bytes)`);
  if (allocations !== 2) throw new Error(`reuse: expected 2 allocations, made ${allocations}`);
}

/** A buffer of the wrong size: smaller keeps the first bytes, larger keeps its own tail. */
async function wrongSizes(client: Client, server: Server): Promise<void> {
  const text = '0123456789ABCDEF';
  await sendBulks(client, [new TextEncoder().encode(text)]);
  const [small] = await receive(server, () => [new Uint8Array(10)]);
  await sendBulks(client, [new TextEncoder().encode(text)]);
  const [large] = await receive(server, () => [new Uint8Array(24).fill(0x2e)]); // '.'
  console.log(`too small (10 of ${text.length} bytes): "${dec.decode(small)}"`);
  console.log(`larger (24 bytes, filled with '.'): "${dec.decode(large)}"`);
  if (dec.decode(small) !== '0123456789') throw new Error('truncation did not keep the first bytes');
  if (dec.decode(large) !== `${text}........`) throw new Error('the larger buffer did not keep its tail');
}

run(async () => {
  // Port 0 binds an ephemeral port (the factory maps 0 to its default port, so bind directly).
  const server = await ZeroMqServer.create('127.0.0.1', 'tcp', intArg('--port', 'LBM_PORT', 0));
  const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port ?? 0);
  try {
    await exactSizes(client, server);
    await reuse(client, server);
    await wrongSizes(client, server);
    console.log('OK: exact, reused and wrong-sized buffers behaved as documented');
  } finally {
    await client.close();
    await server.close();
  }
});
