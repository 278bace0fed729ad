// Raw zeromq.js peer: PUSH COUNT 2-frame messages (16-byte header + SIZE bytes) to PORT.
import { Push } from 'zeromq';
import { num } from './common.mjs';

const push = new Push({ sendHighWaterMark: 1000 });
push.connect(`tcp://127.0.0.1:${num('PORT', 0)}`);
const count = num('COUNT', 100);
const size = num('SIZE', 1 << 20);
for (let i = 0; i < count; i++) {
  // A fresh buffer per message, as a sender that cannot reuse its buffer must do with zeromq.js.
  await push.send([new Uint8Array(16), Buffer.alloc(size, 7)]);
}
