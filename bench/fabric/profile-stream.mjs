// Where the time of a kFabric stream's message goes, per side:
//   node bench/fabric/profile-stream.mjs stream <shm|tcp> [count] [size]
// streams `count` messages of one `size`-byte XFER bulk (default 300 of 1 MiB) from this process
// to a sink child (the same file with `sink`), PROFILE_ROUNDS times (default 3, the last printed),
// and prints per side the medians (and means) of each step, the native calls inside them, the
// minor page faults per message (process.resourceUsage deltas) and how the read's completion came
// back. PROFILE_COPY=0 sends with copyXfer false; PROFILE_AHEAD=n keeps at most n messages
// unreleased before the next send (a window). The native calls are timed by wrapping the
// endpoint's addon object: a profile, not an API.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { FabricClient, FabricServer } from '@lightbeam/fabric';

const [role, protocol = 'shm', countArg = '300', sizeArg = String(1 << 20)] = process.argv.slice(2);
const COUNT = Number(countArg);
const SIZE = Number(sizeArg);
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[s.length >> 1];
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const AHEAD = Number(process.env.PROFILE_AHEAD ?? Infinity);
const faults = () => process.resourceUsage().minorPageFault;

/** Wraps method `name` of `obj`, adding each call's microseconds to `into`. */
function timeCalls(obj, name, into) {
  const f = obj[name].bind(obj);
  // Addon methods are read-only on the prototype: shadow them on the instance.
  Object.defineProperty(obj, name, {
    configurable: true,
    value: (...a) => {
      const t0 = performance.now();
      const r = f(...a);
      into.push((performance.now() - t0) * 1000);
      return r;
    },
  });
}

if (role === 'sink') {
  const addr = protocol === 'shm' ? `profile-${process.pid}` : '127.0.0.1';
  const server = await FabricServer.create(addr, protocol, 0);
  const native = server['ep']['native'];
  const postRead = [];
  timeCalls(native, 'postRead', postRead);
  // When the read's completion came back to JavaScript, and by which path.
  let readEnd = 0;
  let compAt = 0;
  let compBy = '';
  const pr = native.postRead;
  Object.defineProperty(native, 'postRead', { value: (...a) => { const r = pr(...a); readEnd = performance.now(); compAt = 0; return r; } });
  const poll = native.poll.bind(native);
  let polls = 0;
  Object.defineProperty(native, 'poll', { value: (us) => { polls++; const ev = poll(us); if (ev !== undefined && compAt === 0 && ev.some((x, i) => i % 5 === 0 && x === 2)) { compAt = performance.now(); compBy = 'poll'; } return ev; } });
  const ep = server['ep'];
  const disp = ep.dispatch.bind(ep);
  ep.dispatch = (ev) => { if (compAt === 0 && ev.some((x, i) => i % 5 === 0 && x === 2)) { compAt = performance.now(); compBy = 'thread'; } return disp(ev); };
  const toComp = [];
  const afterComp = [];
  const by = { poll: 0, thread: 0 };
  const pollsPer = [];
  const buf = new Uint8Array(SIZE);
  process.send({ addr, port: server.port });
  for (;;) {
  const [{ count }] = await once(process, 'message');
  if (count === 0) break;
  const wait = [];
  const read = [];
  const flt = [];
  const m = new LbmMeta();
  const c0 = process.cpuUsage();
  const t00 = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await server.waitMetadata(m);
    // resourceUsage costs ~90 us here: kept outside the timed part.
    const f0 = faults();
    const t1 = performance.now();
    m.recv.push(server.expose(buf, buf.byteLength, BULK_XFER));
    const p0 = polls;
    const rc = await server.recvBulks(m);
    const t2 = performance.now();
    if (rc !== 0) throw new Error(`recvBulks ${rc}`);
    toComp.push((compAt - readEnd) * 1000);
    afterComp.push((t2 - compAt) * 1000);
    by[compBy]++;
    pollsPer.push(polls - p0);
    flt.push(faults() - f0);
    wait.push((t1 - t0) * 1000);
    read.push((t2 - t1) * 1000);
  }
  const wall = performance.now() - t00;
  const cpu = process.cpuUsage(c0);
  process.send({ waitMean: sum(wait) / count, readMean: sum(read) / count, wait: med(wait), read: med(read), postRead: med(postRead.slice(-count)), faults: sum(flt) / count, wallMs: wall, cpuMs: (cpu.user + cpu.system) / 1000, threadEvents: server.stats().threadEvents, polledEvents: server.stats().polledEvents, toComp: med(toComp), afterComp: med(afterComp), by, polls: med(pollsPer) });
  toComp.length = 0; afterComp.length = 0; pollsPer.length = 0; by.poll = 0; by.thread = 0;
  }
  await server.close();
  process.exit(0);
} else {
  const child = fork(new URL(import.meta.url), ['sink', protocol, countArg, sizeArg], { execArgv: process.env.PROFILE_CPUPROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_CPUPROF}`] : [] });
  const [peer] = await once(child, 'message');
  const client = await FabricClient.create(peer.addr, protocol, peer.port, { copyXfer: process.env.PROFILE_COPY !== '0' });
  const native = client['ep']['native'];
  const expose = [];
  const postSend = [];
  timeCalls(native, 'expose', expose);
  timeCalls(native, 'postSend', postSend);
  const data = new Uint8Array(SIZE).fill(9);
  const m = new LbmMeta();
  m.send.push(client.expose(data, SIZE, BULK_XFER));
  const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 3);
  for (let round = 0; round < ROUNDS; round++) {
  const send = [];
  const flt = [];
  const done = once(child, 'message');
  child.send({ count: COUNT });
  const t00 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < COUNT; i++) {
    const f0 = faults();
    const t0 = performance.now();
    // PROFILE_AHEAD: at most this many messages unreleased before the next send (a window).
    while (client.unreleasedMessages >= AHEAD) await new Promise((r) => setImmediate(r));
    const rc = await client.send(m, { timeoutMs: 10_000 });
    if (rc !== 0) throw new Error(`send ${rc}`);
    send.push((performance.now() - t0) * 1000);
    flt.push(faults() - f0);
  }
  const [sink] = await done;
  const wall = performance.now() - t00;
  const cpu = process.cpuUsage(c0);
  const st = client.stats();
  if (round < ROUNDS - 1) continue;
  console.log(`${protocol} ${COUNT} x ${SIZE} B: ${((COUNT * SIZE) / (wall / 1000) / 1e9).toFixed(2)} GB/s, ${((wall * 1000) / COUNT).toFixed(0)} us per message`);
  console.log(`client: send ${med(send).toFixed(0)} us (mean ${(sum(send) / COUNT).toFixed(0)}) (expose ${med(expose).toFixed(0)}, postSend ${med(postSend).toFixed(0)}), ${(sum(flt) / COUNT).toFixed(1)} minflt/msg, cpu ${cpu.user / 1000 | 0}+${cpu.system / 1000 | 0} ms, registrations ${st.registrations}, staged ${st.stagedBytes}`);
  console.log(`sink:   waitMetadata ${sink.wait.toFixed(0)} us (mean ${sink.waitMean.toFixed(0)}), recvBulks ${sink.read.toFixed(0)} us (mean ${sink.readMean.toFixed(0)}) (postRead ${sink.postRead.toFixed(0)}), ${sink.faults.toFixed(1)} minflt/msg, cpu ${sink.cpuMs.toFixed(0)} ms over ${sink.wallMs.toFixed(0)} ms, events thread ${sink.threadEvents} polled ${sink.polledEvents}`);
  console.log(`sink:   read posted -> completion in JS ${sink.toComp.toFixed(0)} us (by poll ${sink.by.poll}, by thread ${sink.by.thread}; ${sink.polls} polls per recvBulks), completion -> recvBulks resolved ${sink.afterComp.toFixed(0)} us`);
  }
  child.send({ count: 0 });
  await client.close();
  child.kill();
}
