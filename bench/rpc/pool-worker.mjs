// Worker of bench/rpc.bench.ts: the empty handler whose call round trip is measured.
import { serveRpcWorker } from '@lightbeam/shm';

await serveRpcWorker((server) => {
  server.handle('empty', () => undefined);
});
