// Raw zeromq.js floor, round trip, echoing process (main thread): REP on PORT, checks and echoes
// ROUNDS + WARMUP requests.
import { Reply } from 'zeromq';
import { HOST_B, ROUNDS, RTT_SIZE, WAIT_MS, WARMUP, check, num } from './common.mjs';

const rep = new Reply({ receiveTimeout: WAIT_MS, linger: 1000 });
await rep.bind(`tcp://${HOST_B}:${num('PORT', 0)}`);
for (let i = 0; i < WARMUP + ROUNDS; i++) {
  const [msg] = await rep.receive();
  check(msg, RTT_SIZE, i, 'raw request');
  await rep.send(msg);
}
rep.close();
