// Bridge worker (process A): sends COUNT messages with one SIZE-byte XFER bulk to channel "tput".
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { ShmClient, attachFromWorkerData } from '@lightbeam/shm';
import { num } from './common.mjs';

attachFromWorkerData();
const count = num('COUNT', 100);
const size = num('SIZE', 1 << 20);
const client = new ShmClient('tput');
const data = new Uint8Array(size).fill(7);
for (let i = 0; i < count; i++) {
  const m = new LbmMeta();
  m.send.push(client.expose(data, size, BULK_XFER));
  const rc = await client.send(m, { timeoutMs: 30000 });
  if (rc !== 0) throw new Error(`send ${i} failed with ${rc}`);
}
await client.close();
