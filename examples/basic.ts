/**
 * The guide's "Basic Client-Server Communication", one to one: a server and a client over tcp,
 * one bulk of "Hello, Lightbeam!". Instead of polling with sleeps, the server waits with a timeout.
 *
 * Run: `npx tsx examples/basic.ts [--port 8888]` (or LBM_PORT). Exits 0 on success, 1 on failure.
 */
import { BULK_XFER, LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import '@lightbeam/zmq-bridge'; // registers Transport.kZeroMq with the factory
import { intArg, run } from './zmq-example-args.js';

run(async () => {
  const addr = '127.0.0.1';
  const protocol = 'tcp';
  const port = intArg('--port', 'LBM_PORT', 8888);

  const server = await TransportFactory.getServer(addr, Transport.kZeroMq, protocol, port);
  const client = await TransportFactory.getClient(addr, Transport.kZeroMq, protocol, port);
  console.log(`Lightbeam over ZeroMQ: server bound at ${protocol}://${server.getAddress()}:${port}`);
  try {
    // CLIENT: expose the message as one XFER bulk and send it (metadata frame, then the data).
    const message = new TextEncoder().encode('Hello, Lightbeam!');
    const sendMeta = new LbmMeta();
    sendMeta.send.push(client.expose(message, message.length, BULK_XFER));
    // The connection may still be in progress: wait up to 5 s for room instead of EAGAIN.
    let rc = await client.send(sendMeta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`send failed: ${rc} (${strerror(rc)})`);
    console.log(`  client  -> sent ${message.length} bytes in 1 bulk`);

    // SERVER: phase 1, the metadata (bulk sizes and flags).
    const recvMeta = new LbmMeta();
    rc = await server.waitMetadata(recvMeta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${rc} (${strerror(rc)})`);
    console.log(`  server  <- metadata with ${recvMeta.send.length} bulk(s) of ${recvMeta.send[0].size} bytes`);

    // SERVER: phase 2, allocate from the sender's sizes, copy its flags, pull the data.
    const buffer = new Uint8Array(recvMeta.send[0].size);
    recvMeta.recv.push(server.expose(buffer, buffer.length, recvMeta.send[0].flags));
    rc = await server.recvBulks(recvMeta);
    if (rc !== 0) throw new Error(`recvBulks failed: ${rc} (${strerror(rc)})`);
    const received = new TextDecoder().decode(buffer);
    console.log(`  server  <- "${received}"`);
    if (received !== 'Hello, Lightbeam!') throw new Error(`received ${JSON.stringify(received)}, expected "Hello, Lightbeam!"`);
    console.log('OK: two-phase send and receive round trip succeeded');
  } finally {
    await client.close();
    await server.close();
  }
});
