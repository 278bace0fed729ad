// Raw zeromq.js peer of bench/rpc.bench.ts: a ROUTER on an ephemeral port of 127.0.0.1 that echoes
// every request to the DEALER it came from; reports the port to its parent (fork IPC).
import { Router } from 'zeromq';

const router = new Router({ linger: 0 });
await router.bind('tcp://127.0.0.1:0');
process.send({ port: Number(/:(\d+)$/.exec(router.lastEndpoint)[1]) });
process.on('disconnect', () => {
  router.close();
  process.exit(0);
});
for await (const [id, ...frames] of router) await router.send([id, ...frames]);
