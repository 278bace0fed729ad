/**
 * The guide's best practice 5, "Send and Recv Vector Usage", one to one: the client fills
 * `meta.send` with several BULK_XFER bulks; the server inspects every entry of `meta.send` for
 * its size and flags, builds `meta.recv` with its own buffers copying the flags, and `recvBulks`
 * fills the XFER entries in order.
 *
 * One more entry shows the other flag: a BULK_EXPOSE bulk in `send` is described (its size and
 * flags reach the server) but its bytes are not transferred, so the server's mirrored EXPOSE
 * entry is skipped and its buffer stays as it was.
 *
 * Last, what happens when `recv` does not mirror `send`: one XFER entry short gives `-1`, and the
 * message is dropped so the next one still arrives intact.
 *
 * Run: `npx tsx examples/send-recv-vectors.ts [--port N]` (or LBM_PORT; default: an ephemeral
 * port). Exits 0 on success, 1 on any failure.
 */
import type { Client } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, Transport, TransportFactory, isXfer, strerror } from '@lightbeam/core';
import { ZeroMqServer } from '@lightbeam/zmq-bridge'; // also registers Transport.kZeroMq
import { intArg, run } from './zmq-example-args.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const flagName = (flags: number): string => (isXfer(flags) ? 'BULK_XFER' : 'BULK_EXPOSE');

/** The client's message: three XFER bulks of different sizes and one EXPOSE bulk. */
function buildSendMeta(client: Client): { meta: LbmMeta; sent: string[] } {
  const sent = ['data1: small', 'data2: a somewhat longer second bulk', 'data3: and a third', 'local only: never leaves the client'];
  const meta = new LbmMeta();
  for (const [i, s] of sent.entries()) {
    const bytes = enc.encode(s);
    meta.send.push(client.expose(bytes, bytes.length, i < 3 ? BULK_XFER : BULK_EXPOSE));
  }
  return { meta, sent };
}

run(async () => {
  // Port 0 binds an ephemeral port (the factory maps 0 to its default port, so bind directly).
  const server = await ZeroMqServer.create('127.0.0.1', 'tcp', intArg('--port', 'LBM_PORT', 0));
  const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port ?? 0);
  try {
    // CLIENT: populate the send vector; send transmits the data of its XFER bulks only.
    const { meta: sendMeta, sent } = buildSendMeta(client);
    let rc = await client.send(sendMeta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);
    console.log(`client sent ${sendMeta.send.length} bulks: 3 BULK_XFER, 1 BULK_EXPOSE`);

    // SERVER: receive the metadata. The guide polls RecvMetadata while it returns EAGAIN;
    // waitMetadata waits (up to the timeout) instead.
    const recvMeta = new LbmMeta();
    rc = await server.waitMetadata(recvMeta, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);

    // Inspect every send entry, whatever its flag, and mirror it in recv with our own buffer.
    const buffers: Uint8Array[] = [];
    for (const [i, b] of recvMeta.send.entries()) {
      console.log(`send[${i}]: size ${b.size}, ${flagName(b.flags)}`);
      const buffer = new Uint8Array(b.size).fill(0x2e); // '.', to show what is left untouched
      buffers.push(buffer);
      recvMeta.recv.push(server.expose(buffer, buffer.length, b.flags));
    }

    // RecvBulks receives into the recv vector only, and only into its XFER entries.
    rc = await server.recvBulks(recvMeta);
    if (rc !== 0) throw new Error(`recvBulks failed: ${strerror(rc)}`);
    for (const [i, buf] of buffers.entries()) {
      const text = dec.decode(buf);
      console.log(`recv[${i}]: "${text}"${isXfer(recvMeta.recv[i].flags) ? '' : ' (EXPOSE: described, not transferred)'}`);
      const expected = i < 3 ? sent[i] : '.'.repeat(sent[i].length);
      if (text !== expected) throw new Error(`recv[${i}] holds "${text}", expected "${expected}"`);
    }

    // A recv vector that does not mirror send: one XFER entry short. The counts must match, so
    // recvBulks refuses with -1 and drops that message; the one after it is unaffected.
    const again = buildSendMeta(client).meta;
    const after = new LbmMeta();
    after.send.push(client.expose(enc.encode('next message'), 12, BULK_XFER));
    for (const m of [again, after]) {
      rc = await client.send(m, { timeoutMs: 5000 });
      if (rc !== 0) throw new Error(`send failed: ${strerror(rc)}`);
    }
    const short = new LbmMeta();
    rc = await server.waitMetadata(short, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);
    short.recv.push(server.expose(new Uint8Array(short.send[0].size), short.send[0].size, short.send[0].flags));
    rc = await server.recvBulks(short);
    console.log(`recv with 1 of 3 XFER entries: recvBulks returned ${rc}`);
    if (rc !== -1) throw new Error(`a recv vector one XFER entry short should give -1, got ${rc}`);

    const next = new LbmMeta();
    rc = await server.waitMetadata(next, { timeoutMs: 5000 });
    if (rc !== 0) throw new Error(`waitMetadata failed: ${strerror(rc)}`);
    const buf = new Uint8Array(next.send[0].size);
    next.recv.push(server.expose(buf, buf.length, next.send[0].flags));
    rc = await server.recvBulks(next);
    if (rc !== 0 || dec.decode(buf) !== 'next message') throw new Error(`the following message did not arrive intact (rc ${rc})`);
    console.log(`following message intact: "${dec.decode(buf)}"`);
    console.log('OK: recv mirrored send; only XFER bulks were transferred');
  } finally {
    await client.close();
    await server.close();
  }
});
