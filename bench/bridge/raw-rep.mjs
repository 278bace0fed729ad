// Raw zeromq.js peer: REP on PORT, echoes ROUNDS + WARMUP messages.
import { Reply } from 'zeromq';
import { num, out } from './common.mjs';

const rep = new Reply();
await rep.bind(`tcp://127.0.0.1:${num('PORT', 0)}`);
out({ kind: 'ready' });
const n = num('ROUNDS', 1000) + num('WARMUP', 100);
for (let i = 0; i < n; i++) {
  const [msg] = await rep.receive();
  await rep.send(msg);
}
rep.close();
