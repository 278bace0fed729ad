import { LbmMeta, BULK_XFER } from '@lightbeam/core';
import { FabricClient, FabricServer } from '@lightbeam/fabric';
const s = await FabricServer.create('127.0.0.1', 'tcp', 0);
const c = await FabricClient.create('127.0.0.1', 'tcp', s.port);
const d = new Uint8Array(64); const m = new LbmMeta(); m.send.push(c.expose(d, 64, BULK_XFER));
const r = new LbmMeta(); const buf = new Uint8Array(64);
const xs: number[] = [];
for (let i = 0; i < 3000; i++) {
  const t0 = performance.now();
  await c.send(m);
  await s.waitMetadata(r);
  r.recv.push(s.expose(buf, 64, BULK_XFER)); await s.recvBulks(r);
  xs.push((performance.now() - t0) * 1000);
}
xs.sort((a, b) => a - b); console.log('one-way in-process p50 us', xs[1500].toFixed(1), 'p10', xs[300].toFixed(1));
await c.close(); await s.close();
