// Raw zeromq.js floor, round trip, requesting process (main thread): REQ to PORT, ROUNDS + WARMUP
// round trips of one RTT_SIZE-byte message; prints the p50 of the timed ones in microseconds.
import { Request } from 'zeromq';
import { HOST_B, ROUNDS, RTT_SIZE, WAIT_MS, WARMUP, check, num, out, p50, stamp } from './common.mjs';

const req = new Request({ receiveTimeout: WAIT_MS, linger: 0 });
req.connect(`tcp://${HOST_B}:${num('PORT', 0)}`);
// Up to 128 bytes zeromq.js copies at send, so one buffer serves every request.
const data = Buffer.alloc(RTT_SIZE);
const samples = new Float64Array(ROUNDS);
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  stamp(data, RTT_SIZE, i);
  const t0 = performance.now();
  await req.send(data);
  const [echo] = await req.receive();
  const dt = performance.now() - t0;
  check(echo, RTT_SIZE, i, 'raw echo');
  if (i >= WARMUP) samples[i - WARMUP] = dt * 1000;
}
out({ kind: 'rtt', p50Us: p50(samples) });
req.close();
