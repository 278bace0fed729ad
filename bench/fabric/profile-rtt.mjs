// Where a kFabric 64 B round trip's time goes: `node bench/fabric/profile-rtt.mjs [count] [spinUs]`
// runs the bench's round trip (this process's client -> echo child (bench/fabric/peer.mjs) -> this
// process's server) and prints its p50, how completions came (polled on the JavaScript thread or
// handed over by the progress thread) per round trip, native poll calls per round trip, and this
// process's CPU per thread (from /proc/self/task). Run it under `strace -f -c` for syscalls.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FabricClient, FabricServer } from '@lightbeam/fabric';
import { roundTrip } from './round-trip.mjs';

const COUNT = Number(process.argv[2] ?? 3000);
const spinArg = process.argv[3];
const tuning = spinArg === undefined ? {} : { spinUs: Number(spinArg) };
const PEER = fileURLToPath(new URL('./peer.mjs', import.meta.url));

function threads() {
  const out = {};
  for (const t of readdirSync('/proc/self/task')) {
    const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    out[`${t} ${name}`] = (Number(f[11]) + Number(f[12])) * 10; // ms (100 Hz ticks)
  }
  return out;
}

const server = await FabricServer.create('127.0.0.1', 'tcp', 0, tuning);
const child = fork(PEER, spinArg === undefined ? ['echo', 'tcp'] : ['echo', 'tcp', spinArg], { execArgv: [] });
const [peer] = await once(child, 'message');
child.send({ connect: { addr: '127.0.0.1', port: server.port } });
await once(child, 'message');
const client = await FabricClient.create(peer.addr, 'tcp', peer.port, tuning);
let polls = 0;
for (const ep of [server['ep'], client['ep']]) {
  const poll = ep.native.poll.bind(ep.native);
  Object.defineProperty(ep.native, 'poll', { configurable: true, value: (us) => (polls++, poll(us)) });
}
const once1 = roundTrip(client, server);
for (let i = 0; i < 300; i++) await once1();
const s0 = { ...server.stats() };
const c0 = { ...client.stats() };
const p0 = polls;
const th0 = threads();
const cpu0 = process.cpuUsage();
const xs = [];
const w0 = performance.now();
for (let i = 0; i < COUNT; i++) xs.push(await once1());
const wall = performance.now() - w0;
const cpu = process.cpuUsage(cpu0);
const th1 = threads();
xs.sort((a, b) => a - b);
const s1 = server.stats();
const c1 = client.stats();
const per = (x) => (x / COUNT).toFixed(2);
console.log(`tcp;ofi_rxm 64 B round trip, ${COUNT} x, spinUs ${spinArg ?? 'default'}: p50 ${xs[COUNT >> 1].toFixed(1)} us, p10 ${xs[(COUNT / 10) | 0].toFixed(1)}, p90 ${xs[((COUNT * 9) / 10) | 0].toFixed(1)}, mean ${(wall * 1000 / COUNT).toFixed(1)}`);
console.log(`per round trip: server events polled ${per(s1.polledEvents - s0.polledEvents)} / by thread ${per(s1.threadEvents - s0.threadEvents)}; client polled ${per(c1.polledEvents - c0.polledEvents)} / by thread ${per(c1.threadEvents - c0.threadEvents)}; native polls ${per(polls - p0)}`);
console.log(`this process: cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms over ${wall.toFixed(0)} ms; per thread (ms):`);
for (const [k, v] of Object.entries(th1)) if (v - (th0[k] ?? 0) > 0) console.log(`  ${k}: ${v - (th0[k] ?? 0)}`);
child.kill();
await Promise.all([client.close(), server.close()]);
