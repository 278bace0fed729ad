/**
 * The bridge against raw zeromq.js between the same two kinds of processes, in one run, rounds
 * alternating so both sides see the same machine state:
 * - throughput of 1 MiB XFER messages: a worker in process A -> A's bridge -> B's bridge -> a
 *   worker in process B, against a raw zeromq.js PUSH process -> PULL process (goal >= 0.9x);
 * - round trip of a 64 B message: worker A -> bridge A -> bridge B -> worker B -> bridge B ->
 *   bridge A -> worker A, against a raw zeromq.js REQ/REP pair of processes (goal: not slower).
 *
 * Run: `npx tsx bench/bridge.bench.ts` (after `pnpm run build`). Each side is timed inside its
 * receiving process (first to last arrival, or the requester's loop), and the median of the rounds
 * is reported. Not a tinybench suite: a task here is a whole pair of processes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeBenchResult } from './support/report-format.js';

const BIN = fileURLToPath(new URL('../packages/cli/bin/lightbeam.js', import.meta.url));
const dir = (f: string): string => fileURLToPath(new URL(`./bridge/${f}`, import.meta.url));
const ROUNDS = Number(process.env.BRIDGE_BENCH_ROUNDS ?? 3);
const COUNT = Number(process.env.BRIDGE_BENCH_COUNT ?? 200);
const RTT_ROUNDS = Number(process.env.BRIDGE_BENCH_RTT ?? 2000);
const MIB = 1 << 20;

interface Proc {
  done: Promise<void>;
  out: () => string;
  line: (kind: string) => Record<string, number> | undefined;
}

function run(args: string[], env: Record<string, string>): Proc {
  const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} timed out; ${err}`));
    }, 120000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
    });
  });
  const line = (kind: string): Record<string, number> | undefined =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, number>)
      .find((o) => (o as unknown as { kind: string }).kind === kind);
  return { done, out: () => out, line };
}

async function waitFor(p: Proc, text: string): Promise<void> {
  for (let i = 0; i < 2000 && !p.out().includes(text); i++) await new Promise((r) => setTimeout(r, 10));
  if (!p.out().includes(text)) throw new Error(`never printed ${text}`);
}

const port = (): number => 20000 + Math.floor(Math.random() * 40000);

async function bridgeThroughput(): Promise<number> {
  const env = { COUNT: String(COUNT), SIZE: String(MIB) };
  const b = run([BIN, 'bridge', '--listen', 'tcp://127.0.0.1:0', '--worker', dir('tput-receiver.mjs'), '--exit-with-workers'], env);
  await waitFor(b, 'bridge ready');
  const p = /port=(\d+)/.exec(b.out())![1];
  const a = run([BIN, 'bridge', '--peer', `tcp://127.0.0.1:${p}`, '--channels', 'tput', '--worker', dir('tput-sender.mjs'), '--exit-with-workers'], env);
  await Promise.all([a.done, b.done]);
  const r = b.line('tput')!;
  if (!r.bytesOk) throw new Error('bridge throughput run delivered wrong bytes');
  return r.opsPerSec;
}

async function rawThroughput(): Promise<number> {
  const env = { COUNT: String(COUNT), SIZE: String(MIB), PORT: String(port()) };
  const pull = run([dir('raw-pull.mjs')], env);
  await waitFor(pull, 'ready');
  const push = run([dir('raw-push.mjs')], env);
  await Promise.all([push.done, pull.done]);
  return pull.line('tput')!.opsPerSec;
}

async function bridgeRoundTrip(): Promise<number> {
  const env = { ROUNDS: String(RTT_ROUNDS), WARMUP: '200' };
  const [pa, pb] = [port(), port()];
  const b = run([BIN, 'bridge', '--listen', `tcp://127.0.0.1:${pb}`, '--peer', `tcp://127.0.0.1:${pa}`, '--channels', 'pong', '--worker', dir('echo.mjs'), '--exit-with-workers'], env);
  const a = run([BIN, 'bridge', '--listen', `tcp://127.0.0.1:${pa}`, '--peer', `tcp://127.0.0.1:${pb}`, '--channels', 'ping', '--worker', dir('ping.mjs'), '--exit-with-workers'], env);
  await Promise.all([a.done, b.done]);
  return a.line('rtt')!.opsPerSec;
}

async function rawRoundTrip(): Promise<number> {
  const env = { ROUNDS: String(RTT_ROUNDS), WARMUP: '200', PORT: String(port()) };
  const rep = run([dir('raw-rep.mjs')], env);
  await waitFor(rep, 'ready');
  const req = run([dir('raw-req.mjs')], env);
  await Promise.all([req.done, rep.done]);
  return req.line('rtt')!.opsPerSec;
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const t = { bridge: [] as number[], raw: [] as number[], bridgeRtt: [] as number[], rawRtt: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    t.bridge.push(await bridgeThroughput());
    t.raw.push(await rawThroughput());
    t.bridgeRtt.push(await bridgeRoundTrip());
    t.rawRtt.push(await rawRoundTrip());
  }
  const tput = { ours: median(t.bridge), peer: median(t.raw) };
  const rtt = { ours: median(t.bridgeRtt), peer: median(t.rawRtt) };
  const us = (opsPerSec: number): string => (1e6 / opsPerSec).toFixed(1);
  console.table([
    { task: 'bridge 1MiB XFER worker A -> worker B (tcp loopback)', 'msg/s': tput.ours.toFixed(0), 'MiB/s': tput.ours.toFixed(0), ratio: (tput.ours / tput.peer).toFixed(2), goal: '>= 0.9' },
    { task: 'raw zeromq.js PUSH/PULL 1MiB (process -> process)', 'msg/s': tput.peer.toFixed(0), 'MiB/s': tput.peer.toFixed(0), ratio: '1.00', goal: '' },
    { task: 'bridge 64B round trip worker A -> B -> A (two bridges)', 'msg/s': rtt.ours.toFixed(0), 'us/rt': us(rtt.ours), ratio: (rtt.peer / rtt.ours).toFixed(2) + ' (time)', goal: '<= 1.0' },
    { task: 'raw zeromq.js REQ/REP 64B round trip', 'msg/s': rtt.peer.toFixed(0), 'us/rt': us(rtt.peer), ratio: '1.00', goal: '' },
  ]);
  console.log(`rounds=${ROUNDS} (median), throughput rounds: bridge ${t.bridge.map((x) => x.toFixed(0)).join('/')} raw ${t.raw.map((x) => x.toFixed(0)).join('/')} msg/s; round trips/s: bridge ${t.bridgeRtt.map((x) => x.toFixed(0)).join('/')} raw ${t.rawRtt.map((x) => x.toFixed(0)).join('/')}`);
  await writeBenchResult('bridge', [
    { task: 'bridge xfer size=1MiB A->B', side: 'ours', impl: 'lightbeam bridge', messageBytes: MIB, opsPerSec: tput.ours, bytesPerSec: tput.ours * MIB },
    { task: 'raw zeromq.js push/pull size=1MiB', side: 'peer', impl: 'zeromq.js raw', messageBytes: MIB, opsPerSec: tput.peer, bytesPerSec: tput.peer * MIB, ratio: tput.ours / tput.peer },
    { task: 'bridge round trip size=64B A->B->A', side: 'ours', impl: 'lightbeam bridge', messageBytes: 64, opsPerSec: rtt.ours, bytesPerSec: rtt.ours * 64 },
    { task: 'raw zeromq.js req/rep size=64B', side: 'peer', impl: 'zeromq.js raw', messageBytes: 64, opsPerSec: rtt.peer, bytesPerSec: rtt.peer * 64, ratio: rtt.ours / rtt.peer },
  ]);
}

await main();
