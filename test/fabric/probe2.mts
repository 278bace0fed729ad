import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
import '@lightbeam/fabric';
let t0 = performance.now();
const T = () => (performance.now()-t0).toFixed(0);
const s:any = await TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'tcp', 0);
const child = spawn(process.execPath, ['test/fixtures/fabric/peer.mjs', 'client', 'tcp', '127.0.0.1', String(s.port)], { stdio: ['ignore', 'ignore', 'inherit'] });
const buf = new Uint8Array(1<<20);
for (let i = 0; i < 3; i++) { const m = new LbmMeta(); await s.waitMetadata(m, { timeoutMs: 10000 }); m.recv.push(s.expose(buf, buf.byteLength, BULK_XFER)); await s.recvBulks(m); }
console.log('child up', T());
child.kill('SIGKILL'); await once(child, 'exit');
t0 = performance.now();
const c:any = await TransportFactory.getClient('127.0.0.1', Transport.kFabric, 'tcp', s.port);
console.log('client', T());
for (let i = 0; i < 10; i++) { const m = new LbmMeta(); const rc = await s.waitMetadata(m, { timeoutMs: 300 }); if (rc) { console.log('wait', rc); break; } m.recv.push(s.expose(buf, buf.byteLength, BULK_XFER)); const r = await s.recvBulks(m); console.log(i, r, T()); }
const m = new LbmMeta(); m.send.push(c.expose(buf.subarray(0, 65536), 65536, BULK_XFER)); console.log('send', await c.send(m, {timeoutMs: 10000}), T());
await c.close(); console.log('closed', T());
await s.close();
