// Raw zeromq.js floor, throughput, sending process (main thread): PUSH COUNT SIZE-byte messages
// to PORT_B, at most WINDOW not yet consumed, credits arriving on a PULL bound to PORT_A.
//
// No allocation per message: zeromq.js sends frames over 128 bytes by reference and gives no
// signal when libzmq is done with them, but the window gives one: message `seq` may be sent only
// after message `seq - WINDOW` was consumed by the receiver, so libzmq has long written its bytes
// and buffer `seq % WINDOW` can be rewritten. (Neither Lightbeam's sender nor the DIY one can know
// that without such a protocol; this is the floor, not a user's pipeline.)
import { Pull, Push } from 'zeromq';
import { COUNT, HOST_A, HOST_B, SIZE, WAIT_MS, WINDOW, creditOf, num, stamp } from './common.mjs';

const credits = new Pull({ receiveTimeout: WAIT_MS });
await credits.bind(`tcp://${HOST_A}:${num('PORT_A', 0)}`);
const push = new Push({ linger: 2000 });
push.connect(`tcp://${HOST_B}:${num('PORT_B', 0)}`);
const pool = Array.from({ length: WINDOW }, () => Buffer.alloc(SIZE));
let granted = 0;
for (let seq = 0; seq < COUNT; seq++) {
  while (seq >= granted) granted += creditOf((await credits.receive())[0]);
  const buf = pool[seq % WINDOW];
  stamp(buf, SIZE, seq);
  await push.send(buf);
}
while (granted < COUNT + WINDOW) granted += creditOf((await credits.receive())[0]);
credits.close();
push.close();
