// The other process of bench/fabric.bench.ts. Modes (argv[2]), driven over IPC:
//   echo <protocol> [spinUs]  kFabric server; on {connect} opens a client to the parent's server and
//                    echoes every message back (metadata + its one XFER bulk); spinUs for both ends
//   sink <protocol>  kFabric server; on {count} receives that many messages, then replies {done}
//   net-echo         net server echoing every byte
//   net-sink         net server; on {bytes} replies {done} once that many bytes arrived
//   idle <protocol>  kFabric server with a client connected and a waitMetadata pending; on {measureMs}
//                    replies {cpuMs} used by this process over that time
import net from 'node:net';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import '@lightbeam/fabric';

const [mode, protocol, spinArg] = process.argv.slice(2);
const tuning = spinArg === undefined ? {} : { spinUs: Number(spinArg) };
const send = (m) => process.send(m);
const addr = () => (protocol === 'shm' ? `bench-${process.pid}` : '127.0.0.1');

async function fabricServer() {
  const a = addr();
  const server = await TransportFactory.getServer(a, Transport.kFabric, protocol, 0, tuning);
  return { server, a };
}

if (mode === 'echo') {
  const { server, a } = await fabricServer();
  process.once('message', async ({ connect }) => {
    const client = await TransportFactory.getClient(connect.addr, Transport.kFabric, protocol, connect.port, tuning);
    send({ connected: true });
    const buf = new Uint8Array(1 << 20);
    const m = new LbmMeta();
    const out = new LbmMeta();
    for (;;) {
      const rc = await server.waitMetadata(m);
      if (rc !== 0) break;
      const size = m.send[0].size;
      m.recv.push(server.expose(buf, size, BULK_XFER));
      await server.recvBulks(m);
      out.send.length = 0;
      out.send.push(client.expose(buf, size, BULK_XFER));
      await client.send(out, { timeoutMs: 10_000 });
    }
  });
  send({ addr: a, port: server.port });
} else if (mode === 'sink') {
  const { server, a } = await fabricServer();
  const buf = new Uint8Array(1 << 20);
  process.on('message', async ({ count }) => {
    const m = new LbmMeta();
    for (let i = 0; i < count; i++) {
      await server.waitMetadata(m);
      m.recv.push(server.expose(buf, buf.byteLength, BULK_XFER));
      await server.recvBulks(m);
    }
    send({ done: true });
  });
  send({ addr: a, port: server.port });
} else if (mode === 'net-echo') {
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  srv.listen(0, '127.0.0.1', () => send({ port: srv.address().port }));
} else if (mode === 'net-sink') {
  let want = 0;
  let got = 0;
  const srv = net.createServer((s) => {
    s.on('data', (d) => {
      got += d.byteLength;
      if (want > 0 && got >= want) {
        got -= want;
        want = 0;
        send({ done: true });
      }
    });
  });
  process.on('message', ({ bytes }) => {
    want = bytes;
    if (got >= want) {
      got -= want;
      want = 0;
      send({ done: true });
    }
  });
  srv.listen(0, '127.0.0.1', () => send({ port: srv.address().port }));
} else if (mode === 'idle') {
  const { server, a } = await fabricServer();
  const client = await TransportFactory.getClient(a, Transport.kFabric, protocol, server.port);
  void server.waitMetadata(new LbmMeta());
  process.on('message', ({ measureMs }) => {
    const t0 = process.cpuUsage();
    setTimeout(() => {
      const d = process.cpuUsage(t0);
      send({ cpuMs: (d.user + d.system) / 1000, client: client.closed });
    }, measureMs);
  });
  send({ ready: true });
}
