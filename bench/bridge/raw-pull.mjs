// Raw zeromq.js floor, throughput, receiving process (main thread): PULL on PORT_B, check every
// message where zeromq.js put it (no copy), grant credits back on a PUSH to PORT_A.
import { Pull, Push } from 'zeromq';
import { COUNT, CREDIT_EVERY, HOST_A, HOST_B, SIZE, WAIT_MS, WINDOW, check, creditFrame, num, out, rateClock } from './common.mjs';

const pull = new Pull({ receiveTimeout: WAIT_MS });
await pull.bind(`tcp://${HOST_B}:${num('PORT_B', 0)}`);
const credits = new Push({ linger: 2000 });
credits.connect(`tcp://${HOST_A}:${num('PORT_A', 0)}`);
const clock = rateClock();
await credits.send(creditFrame(WINDOW)); // ready: the first window may come
for (let i = 0; i < COUNT; i++) {
  const [data] = await pull.receive();
  check(data, SIZE, i, 'raw');
  clock.consumed(i);
  if ((i + 1) % CREDIT_EVERY === 0) await credits.send(creditFrame(CREDIT_EVERY));
}
out({ kind: 'tput', opsPerSec: clock.rate() });
pull.close();
credits.close();
