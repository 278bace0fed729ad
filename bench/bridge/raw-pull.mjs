// Raw zeromq.js peer: PULL COUNT messages on PORT and print messages/s between first and last.
import { Pull } from 'zeromq';
import { num, out } from './common.mjs';

const pull = new Pull();
await pull.bind(`tcp://127.0.0.1:${num('PORT', 0)}`);
out({ kind: 'ready' });
const count = num('COUNT', 100);
let first = 0;
for (let i = 0; i < count; i++) {
  const [, data] = await pull.receive();
  if (i === 0) first = performance.now();
  if (data[data.length - 1] !== 7) throw new Error('bad data');
}
out({ kind: 'tput', opsPerSec: (count - 1) / ((performance.now() - first) / 1000) });
pull.close();
