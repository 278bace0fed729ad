// Bridge worker (process B): receives COUNT messages on "tput" (reading each XFER bulk in place)
// and prints messages/s between the first and the last arrival.
import { ShmServer, attachFromWorkerData } from '@lightbeam/shm';
import { LbmMeta } from '@lightbeam/core';
import { num, out } from './common.mjs';

attachFromWorkerData();
const count = num('COUNT', 100);
const server = await ShmServer.create('tput');
let first = 0;
let bytes = 0;
for (let i = 0; i < count; i++) {
  const m = new LbmMeta();
  const rc = await server.waitMetadata(m, { timeoutMs: 30000 });
  if (rc !== 0) throw new Error(`receive ${i} failed with ${rc}`);
  if (i === 0) first = performance.now();
  bytes += m.send[0].data.ptr[m.send[0].size - 1] === 7 ? m.send[0].size : 0;
  await server.recvBulks(m);
}
const s = (performance.now() - first) / 1000;
out({ kind: 'tput', opsPerSec: (count - 1) / s, bytesOk: bytes === count * num('SIZE', 1 << 20) });
await server.close();
