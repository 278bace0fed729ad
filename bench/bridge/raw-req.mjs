// Raw zeromq.js peer: REQ ROUNDS round trips of a 64-byte message to PORT; prints round trips/s.
import { Request } from 'zeromq';
import { num, out } from './common.mjs';

const req = new Request();
req.connect(`tcp://127.0.0.1:${num('PORT', 0)}`);
const rounds = num('ROUNDS', 1000);
const warmup = num('WARMUP', 100);
const data = new Uint8Array(64).fill(1);
let t0 = 0;
for (let i = 0; i < warmup + rounds; i++) {
  if (i === warmup) t0 = performance.now();
  await req.send(data);
  await req.receive();
}
out({ kind: 'rtt', opsPerSec: rounds / ((performance.now() - t0) / 1000) });
req.close();
