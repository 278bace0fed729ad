/**
 * Several bulks in one message, as in the guide's send/recv vector section: XFER bulks travel,
 * an EXPOSE bulk travels as its descriptor only (size and flags; no data over the network), and
 * the receiver chooses its own buffers, here deliberately one byte short for the last chunk to
 * show truncation.
 *
 * Run: `npx tsx examples/multiple-bulks.ts [--port 8890]` (or LBM_PORT).
 */
import { BULK_EXPOSE, BULK_XFER, LbmMeta, Transport, TransportFactory, isXfer, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { intArg, run } from './zmq-example-args.js';

run(async () => {
  const port = intArg('--port', 'LBM_PORT', 8890);
  const server = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', port);
  const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
  try {
    const enc = new TextEncoder();
    const chunks = ['Chunk 1', 'Chunk 2 is longer', 'Chunk 3', 'Final chunk 4'];
    const meta = new LbmMeta();
    for (const c of chunks) meta.send.push(client.expose(enc.encode(c), c.length, BULK_XFER));
    const local = enc.encode('stays on the sender');
    meta.send.push(client.expose(local, local.length, BULK_EXPOSE));
    let rc = await client.send(meta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);
    console.log(`sent ${chunks.length} XFER bulks and 1 EXPOSE bulk`);

    const got = new LbmMeta();
    rc = await server.waitMetadata(got, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);
    const buffers = got.send.map((b, i) => new Uint8Array(i === chunks.length - 1 ? b.size - 1 : b.size));
    got.send.forEach((b, i) => got.recv.push(server.expose(buffers[i], buffers[i].length, b.flags)));
    rc = await server.recvBulks(got);
    if (rc !== 0) throw new Error(`recvBulks failed: ${strerror(rc)}`);

    const dec = new TextDecoder();
    got.send.forEach((b, i) => {
      const what = isXfer(b.flags) ? `"${dec.decode(buffers[i])}"` : '(EXPOSE: descriptor only, data stayed on the sender)';
      console.log(`bulk ${i}: size ${b.size}, flags ${b.flags} -> ${what}`);
    });
    if (dec.decode(buffers[3]) !== 'Final chunk ') throw new Error('truncation did not keep the first bytes');
  } finally {
    await client.close();
    await server.close();
  }
});
