/**
 * The guide's "Custom Metadata with Multiple Bulks", one to one: a RequestMeta carrying a request
 * id, an operation and a client name, declared once in `serialize` (as cereal's `serialize`),
 * with two bulks.
 *
 * Run: `npx tsx examples/custom-metadata.ts [--port 8889]` (or LBM_PORT).
 */
import type { Archive } from '@lightbeam/core';
import { BULK_XFER, LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { intArg, run } from './zmq-example-args.js';

/** Custom metadata: fields follow `send` and `recv` in the order declared here. */
class RequestMeta extends LbmMeta {
  requestId = 0;
  operation = '';
  clientName = '';
  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.requestId = ar.i32(this.requestId);
    this.operation = ar.string(this.operation);
    this.clientName = ar.string(this.clientName);
  }
}

run(async () => {
  const port = intArg('--port', 'LBM_PORT', 8889);
  const server = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', port);
  const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
  try {
    // CLIENT: two data chunks and the custom fields.
    const enc = new TextEncoder();
    const data1 = enc.encode('First chunk');
    const data2 = enc.encode('Second chunk');
    const sendMeta = new RequestMeta();
    sendMeta.requestId = 42;
    sendMeta.operation = 'write';
    sendMeta.clientName = 'client_01';
    sendMeta.send.push(client.expose(data1, data1.length, BULK_XFER));
    sendMeta.send.push(client.expose(data2, data2.length, BULK_XFER));
    let rc = await client.send(sendMeta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);

    // SERVER: the metadata, decoded into our own RequestMeta.
    const recvMeta = new RequestMeta();
    rc = await server.waitMetadata(recvMeta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);
    console.log(`Request ID: ${recvMeta.requestId}`);
    console.log(`Operation: ${recvMeta.operation}`);
    console.log(`Client: ${recvMeta.clientName}`);
    console.log(`Number of bulks: ${recvMeta.send.length}`);

    // SERVER: one buffer per bulk, sized from the sender's descriptors, flags copied.
    const buffers = recvMeta.send.map((b) => new Uint8Array(b.size));
    recvMeta.send.forEach((b, i) => recvMeta.recv.push(server.expose(buffers[i], b.size, b.flags)));
    rc = await server.recvBulks(recvMeta);
    if (rc !== 0) throw new Error(`recvBulks failed: ${strerror(rc)}`);
    const dec = new TextDecoder();
    buffers.forEach((b, i) => console.log(`Chunk ${i}: ${dec.decode(b)}`));
    if (recvMeta.requestId !== 42 || dec.decode(buffers[1]) !== 'Second chunk') throw new Error('received data differs from what was sent');
  } finally {
    await client.close();
    await server.close();
  }
});
