/**
 * Lightbeam over libfabric (Transport.kFabric) against what a user has without it, side by side
 * in one run, two processes each (the other side is `bench/fabric/peer.mjs`):
 *
 * - `tcp;ofi_rxm` 64 B round trip (send, echo back, each side receiving the bulk with
 *   `recvBulks`) against a Node `net` echo round trip of 64 B (goal: at most 1.0x) and against
 *   `fi_pingpong -p "tcp;ofi_rxm"`, the provider's own (goal: at most 1.1x).
 * - `tcp;ofi_rxm` 1 MiB throughput (a stream of messages with one 1 MiB XFER bulk each, read by
 *   the receiver with one-sided reads) against Node `net` writing the same bytes. Goal: at least 2x.
 * - `shm` provider 1 MiB throughput against `fi_pingpong -p shm -e rdm -S 1m` (libfabric-bin),
 *   the provider's own figure. Goal: at least 0.8x.
 * - Idle CPU of an open kFabric server with a connected client and a pending `waitMetadata`,
 *   per provider. Goal: under 2% of a core.
 *
 * Every case runs once per round, round-robin, for `LBM_BENCH_ROUNDS` rounds (default 5); the
 * figures are medians with their min-max. Run: `npx tsx bench/fabric.bench.ts` after
 * `pnpm run build`, with the addon built. `LBM_FABRIC_CASES=rtt,shm` runs only the cases whose names
 * contain one of the parts (and prints the ratios whose two sides ran; no result file).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import { FabricClient, FabricServer, fabricAvailable, fabricUnavailableReason } from '@lightbeam/fabric';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { fiPingpongRow } from './fabric/fi-pingpong.js';
import { roundTrip } from './fabric/round-trip.mjs';
import type { Summary } from './support/rounds.js';
import { fmtRange, interleave, summary } from './support/rounds.js';

const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 5);
const RTT_COUNT = 2000;
const MiB = 1 << 20;
const TPUT_COUNT = 100;
const IDLE_MS = 1000;
const PEER = fileURLToPath(new URL('./fabric/peer.mjs', import.meta.url));

if (!fabricAvailable) {
  console.log(`fabric bench skipped: ${fabricUnavailableReason}`);
  process.exit(0);
}

function start(args: string[]): { proc: ChildProcess; next: <T>() => Promise<T> } {
  const proc = fork(PEER, args, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return { proc, next: async <T>() => ((await once(proc, 'message')) as [T])[0] };
}

function p50(xs: number[]): number {
  return summary(xs).median;
}

/**
 * A round-trip case: 200 untimed round trips now, then `run` times RTT_COUNT more and returns
 * their p50 in microseconds.
 *
 * @param once1 - one timed round trip, returning its microseconds
 * @param close - ends the case
 */
async function roundTrips(once1: () => Promise<number>, close: () => Promise<void>): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  for (let i = 0; i < 200; i++) await once1();
  return {
    run: async () => {
      const xs: number[] = [];
      for (let i = 0; i < RTT_COUNT; i++) xs.push(await once1());
      return p50(xs);
    },
    close,
  };
}

/**
 * Our round trip over kFabric: this process's client sends to the echo child, which sends back to
 * our server. `spinUs` (both processes, both ends) when given; the defaults otherwise.
 */
async function fabricRtt(protocol: string, spinUs?: number): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  const addr = protocol === 'shm' ? `bench-parent-${process.pid}` : '127.0.0.1';
  const tuning = spinUs === undefined ? {} : { spinUs };
  const server = await FabricServer.create(addr, protocol, 0, tuning);
  const child = start(spinUs === undefined ? ['echo', protocol] : ['echo', protocol, String(spinUs)]);
  const peer = await child.next<{ addr: string; port: number }>();
  child.proc.send({ connect: { addr, port: server.port } });
  await child.next();
  const client = await FabricClient.create(peer.addr, protocol, peer.port, tuning);
  return roundTrips(roundTrip(client, server), async () => {
    child.proc.kill();
    await Promise.all([client.close(), server.close()]);
  });
}

/** A Node `net` echo round trip of 64 B to a child process. */
async function netRtt(): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  const child = start(['net-echo']);
  const { port } = await child.next<{ port: number }>();
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await once(sock, 'connect');
  let got = 0;
  let wake: (() => void) | null = null;
  sock.on('data', (d: Buffer) => {
    got += d.byteLength;
    if (got >= 64 && wake !== null) {
      got -= 64;
      const w = wake;
      wake = null;
      w();
    }
  });
  const data = Buffer.alloc(64, 1);
  const once1 = async (): Promise<number> => {
    const t0 = performance.now();
    const back = new Promise<void>((r) => {
      wake = r;
    });
    sock.write(data);
    await back;
    return (performance.now() - t0) * 1000;
  };
  return roundTrips(once1, async () => {
      sock.destroy();
      child.proc.kill();
  });
}

/** Our 1 MiB stream to a sink child: bytes per second. */
async function fabricTput(protocol: string, copyXfer = true): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  const child = start(['sink', protocol]);
  const peer = await child.next<{ addr: string; port: number }>();
  const client = await FabricClient.create(peer.addr, protocol, peer.port, { copyXfer });
  const data = new Uint8Array(MiB).fill(9);
  const m = new LbmMeta();
  m.send.push(client.expose(data, MiB, BULK_XFER));
  const run = async (): Promise<number> => {
    const t0 = performance.now();
    const done = child.next();
    child.proc.send({ count: TPUT_COUNT });
    for (let i = 0; i < TPUT_COUNT; i++) await client.send(m, { timeoutMs: 10_000 });
    await done;
    return (TPUT_COUNT * MiB) / ((performance.now() - t0) / 1000);
  };
  await run();
  return {
    run,
    close: async () => {
      child.proc.kill();
      await client.close();
    },
  };
}

/** Node `net` writing the same bytes to a sink child: bytes per second. */
async function netTput(): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  const child = start(['net-sink']);
  const { port } = await child.next<{ port: number }>();
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const data = Buffer.alloc(MiB, 9);
  const run = async (): Promise<number> => {
    const t0 = performance.now();
    const done = child.next();
    child.proc.send({ bytes: TPUT_COUNT * MiB });
    for (let i = 0; i < TPUT_COUNT; i++) if (!sock.write(data)) await once(sock, 'drain');
    await done;
    return (TPUT_COUNT * MiB) / ((performance.now() - t0) / 1000);
  };
  await run();
  return {
    run,
    close: async () => {
      sock.destroy();
      child.proc.kill();
    },
  };
}

/** fi_pingpong's own 64 B round trip for tcp;ofi_rxm in microseconds (it reports half of it as usec/xfer). */
async function fiPingpongRtt(): Promise<number> {
  const row = await fiPingpongRow(['-p', 'tcp;ofi_rxm', '-e', 'rdm', '-S', '64', '-I', String(RTT_COUNT)], /^64\s/);
  return 2 * Number(row.trim().split(/\s+/)[6]);
}

/** fi_pingpong's own 1 MiB figure for the shm provider (bytes per second, as it reports MB/sec). */
async function fiPingpong(): Promise<number> {
  // bytes #sent #ack total time MB/sec usec/xfer Mxfers/sec
  const row = await fiPingpongRow(['-p', 'shm', '-e', 'rdm', '-S', String(MiB), '-I', String(TPUT_COUNT)], /^1m\s/);
  return Number(row.trim().split(/\s+/)[5]) * 1e6;
}

/** CPU of an idle open server (with a client and a pending wait), in percent of one core. */
async function idleCpu(protocol: string): Promise<number> {
  const child = start(['idle', protocol]);
  await child.next();
  // Let the progress thread reach its longest sleep first.
  await new Promise((r) => setTimeout(r, 200));
  child.proc.send({ measureMs: IDLE_MS });
  const { cpuMs } = await child.next<{ cpuMs: number }>();
  child.proc.kill();
  return (cpuMs / IDLE_MS) * 100;
}

type Case = { run: () => Promise<number>; close: () => Promise<void> };
const bare = (run: () => Promise<number>): Promise<Case> => Promise.resolve({ run, close: async () => {} });
// Every case by name, built only when selected (LBM_FABRIC_CASES: comma-separated parts of names,
// e.g. `rtt,shm`; all by default). Only a full run writes the result file and the goal table.
const CASES = {
  'rtt fabric tcp;ofi_rxm 64B': () => fabricRtt('tcp'),
  // The same with a hot spell that outlasts a round trip under load (see the README's progress notes).
  'rtt fabric tcp;ofi_rxm 64B spinUs=1000': () => fabricRtt('tcp', 1000),
  'rtt net 64B': () => netRtt(),
  'rtt fi_pingpong tcp;ofi_rxm 64B': () => bare(fiPingpongRtt),
  'tput fabric tcp;ofi_rxm 1MiB': () => fabricTput('tcp'),
  'tput fabric tcp;ofi_rxm 1MiB copyXfer=false': () => fabricTput('tcp', false),
  'tput net 1MiB': () => netTput(),
  'tput fabric shm 1MiB': () => fabricTput('shm'),
  'tput fabric shm 1MiB copyXfer=false': () => fabricTput('shm', false),
  'tput fi_pingpong shm 1MiB': () => bare(fiPingpong),
  'idle fabric tcp;ofi_rxm': () => bare(() => idleCpu('tcp')),
  'idle fabric shm': () => bare(() => idleCpu('shm')),
} satisfies Record<string, () => Promise<Case>>;
type CaseName = keyof typeof CASES;
const filter = (process.env.LBM_FABRIC_CASES ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
const chosen = (Object.keys(CASES) as CaseName[]).filter((k) => filter.length === 0 || filter.some((f) => k.includes(f)));
const built = {} as Record<CaseName, Case>;
for (const k of chosen) built[k] = await CASES[k]();
const results = await interleave(ROUNDS, Object.fromEntries(chosen.map((k) => [k, built[k].run])) as Record<CaseName, () => Promise<number>>);
await Promise.all(chosen.map((k) => built[k].close()));

if (chosen.length < Object.keys(CASES).length) {
  // A partial run: each chosen case's figure, and the ratios whose two sides both ran.
  const part = Object.fromEntries(chosen.map((k) => [k, summary(results[k])])) as Partial<Record<CaseName, Summary>>;
  console.log(`\nfabric bench (LBM_FABRIC_CASES=${filter.join(',')}): ${ROUNDS} rounds, medians (min-max)\n`);
  console.table(chosen.map((k) => ({ case: k, figure: fmtRange(part[k] as Summary, k.startsWith('rtt') ? 'us' : k.startsWith('idle') ? '%' : 'B/s', k.startsWith('tput') ? 0 : 2) })));
  const pairs: Array<[CaseName, CaseName]> = [
    ['rtt fabric tcp;ofi_rxm 64B', 'rtt fi_pingpong tcp;ofi_rxm 64B'],
    ['rtt fabric tcp;ofi_rxm 64B', 'rtt net 64B'],
    ['rtt fabric tcp;ofi_rxm 64B spinUs=1000', 'rtt fi_pingpong tcp;ofi_rxm 64B'],
    ['rtt fabric tcp;ofi_rxm 64B spinUs=1000', 'rtt net 64B'],
    ['tput fabric shm 1MiB', 'tput fi_pingpong shm 1MiB'],
    ['tput fabric shm 1MiB copyXfer=false', 'tput fi_pingpong shm 1MiB'],
    ['tput fabric tcp;ofi_rxm 1MiB', 'tput net 1MiB'],
  ];
  for (const [a, b] of pairs) {
    const x = part[a];
    const y = part[b];
    if (x !== undefined && y !== undefined) console.log(`${a} / ${b}: ${(x.median / y.median).toFixed(2)}x (${x.median.toFixed(2)} / ${y.median.toFixed(2)})`);
  }
  process.exit(0);
}
const s = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(v as number[])])) as Record<keyof typeof results, Summary>;
const gbs = (x: Summary): string => fmtRange({ median: x.median / 1e9, min: x.min / 1e9, max: x.max / 1e9 }, 'GB/s');
const rttRatio = s['rtt fabric tcp;ofi_rxm 64B'].median / s['rtt net 64B'].median;
const tcpRatio = s['tput fabric tcp;ofi_rxm 1MiB'].median / s['tput net 1MiB'].median;
const zcRatio = s['tput fabric tcp;ofi_rxm 1MiB copyXfer=false'].median / s['tput net 1MiB'].median;
const floorRatio = s['rtt fi_pingpong tcp;ofi_rxm 64B'].median / s['rtt net 64B'].median;
const provRatio = s['rtt fabric tcp;ofi_rxm 64B'].median / s['rtt fi_pingpong tcp;ofi_rxm 64B'].median;
const tuned = s['rtt fabric tcp;ofi_rxm 64B spinUs=1000'];
const tunedRatio = tuned.median / s['rtt net 64B'].median;
const tunedProvRatio = tuned.median / s['rtt fi_pingpong tcp;ofi_rxm 64B'].median;
const shmRatio = s['tput fabric shm 1MiB'].median / s['tput fi_pingpong shm 1MiB'].median;
const shmZcRatio = s['tput fabric shm 1MiB copyXfer=false'].median / s['tput fi_pingpong shm 1MiB'].median;
const idleTcp = s['idle fabric tcp;ofi_rxm'];
const idleShm = s['idle fabric shm'];

console.log(`\nfabric bench: ${ROUNDS} rounds, medians (min-max)\n`);
console.table([
  { case: 'tcp;ofi_rxm 64 B round trip', ours: fmtRange(s['rtt fabric tcp;ofi_rxm 64B'], 'us'), peer: `net echo ${fmtRange(s['rtt net 64B'], 'us')}`, ratio: `${rttRatio.toFixed(2)}x`, goal: '<= 1.0x', met: rttRatio <= 1 },
  { case: 'tcp;ofi_rxm 64 B round trip vs the provider', ours: fmtRange(s['rtt fabric tcp;ofi_rxm 64B'], 'us'), peer: `fi_pingpong ${fmtRange(s['rtt fi_pingpong tcp;ofi_rxm 64B'], 'us')}`, ratio: `${provRatio.toFixed(2)}x`, goal: '<= 1.1x', met: provRatio <= 1.1 },
  { case: 'tcp;ofi_rxm 64 B round trip, spinUs=1000', ours: fmtRange(tuned, 'us'), peer: `net echo ${fmtRange(s['rtt net 64B'], 'us')}`, ratio: `${tunedRatio.toFixed(2)}x`, goal: '<= 1.0x', met: tunedRatio <= 1 },
  { case: 'tcp;ofi_rxm 64 B round trip, spinUs=1000, vs the provider', ours: fmtRange(tuned, 'us'), peer: `fi_pingpong ${fmtRange(s['rtt fi_pingpong tcp;ofi_rxm 64B'], 'us')}`, ratio: `${tunedProvRatio.toFixed(2)}x`, goal: '<= 1.1x', met: tunedProvRatio <= 1.1 },
  { case: "tcp;ofi_rxm 64 B round trip: the provider's own (fi_pingpong)", ours: fmtRange(s['rtt fi_pingpong tcp;ofi_rxm 64B'], 'us'), peer: `net echo ${fmtRange(s['rtt net 64B'], 'us')}`, ratio: `${floorRatio.toFixed(2)}x`, goal: '(reference)', met: '-' },
  { case: 'tcp;ofi_rxm 1 MiB throughput', ours: gbs(s['tput fabric tcp;ofi_rxm 1MiB']), peer: `net ${gbs(s['tput net 1MiB'])}`, ratio: `${tcpRatio.toFixed(2)}x`, goal: '>= 2x', met: tcpRatio >= 2 },
  { case: 'tcp;ofi_rxm 1 MiB throughput, copyXfer=false', ours: gbs(s['tput fabric tcp;ofi_rxm 1MiB copyXfer=false']), peer: `net ${gbs(s['tput net 1MiB'])}`, ratio: `${zcRatio.toFixed(2)}x`, goal: '>= 2x', met: zcRatio >= 2 },
  { case: 'shm 1 MiB throughput', ours: gbs(s['tput fabric shm 1MiB']), peer: `fi_pingpong ${gbs(s['tput fi_pingpong shm 1MiB'])}`, ratio: `${shmRatio.toFixed(2)}x`, goal: '>= 0.8x', met: shmRatio >= 0.8 },
  { case: 'shm 1 MiB throughput, copyXfer=false', ours: gbs(s['tput fabric shm 1MiB copyXfer=false']), peer: `fi_pingpong ${gbs(s['tput fi_pingpong shm 1MiB'])}`, ratio: `${shmZcRatio.toFixed(2)}x`, goal: '>= 0.8x', met: shmZcRatio >= 0.8 },
  { case: 'idle server tcp;ofi_rxm', ours: fmtRange(idleTcp, '% of a core'), peer: '-', ratio: '-', goal: '< 2%', met: idleTcp.median < 2 },
  { case: 'idle server shm', ours: fmtRange(idleShm, '% of a core'), peer: '-', ratio: '-', goal: '< 2%', met: idleShm.median < 2 },
]);

const rtt = (us: number): number => 1e6 / us;
const RTT = 'round trip transport=fabric provider=tcp;ofi_rxm size=64B';
const TCP = 'stream transport=fabric provider=tcp;ofi_rxm size=1MiB';
const SHM = 'stream transport=fabric provider=shm size=1MiB';
const rttFamily = { measure: '64 B round trip between two processes', unit: 'round trips' };
const tcpFamily = { measure: '1 MiB stream over tcp loopback', unit: 'messages' };
const shmFamily = { measure: '1 MiB stream between two processes on one host', unit: 'messages' };
// Peer rows: ours/peer in operations per second (above 1: ours better); a round trip at most 1.0x
// the peer's time is at least 1x its round trips per second.
const rows: BenchRowInput[] = [
  { task: RTT, side: 'ours', impl: 'lightbeam fabric tcp;ofi_rxm', messageBytes: 64, opsPerSec: rtt(s['rtt fabric tcp;ofi_rxm 64B'].median), bytesPerSec: 64 * rtt(s['rtt fabric tcp;ofi_rxm 64B'].median), ...rttFamily },
  { task: 'round trip node net echo size=64B', side: 'peer', impl: 'node net', messageBytes: 64, opsPerSec: rtt(s['rtt net 64B'].median), bytesPerSec: 64 * rtt(s['rtt net 64B'].median), ratio: 1 / rttRatio, vs: RTT, goal: 1, ...rttFamily },
  { task: TCP, side: 'ours', impl: 'lightbeam fabric tcp;ofi_rxm', messageBytes: MiB, opsPerSec: s['tput fabric tcp;ofi_rxm 1MiB'].median / MiB, bytesPerSec: s['tput fabric tcp;ofi_rxm 1MiB'].median, ...tcpFamily },
  { task: 'stream node net size=1MiB', side: 'peer', impl: 'node net', messageBytes: MiB, opsPerSec: s['tput net 1MiB'].median / MiB, bytesPerSec: s['tput net 1MiB'].median, ratio: tcpRatio, vs: TCP, goal: 2, ...tcpFamily },
  { task: 'stream transport=fabric provider=tcp;ofi_rxm size=1MiB copyXfer=false', side: 'ours', impl: 'lightbeam fabric tcp;ofi_rxm (no copy)', messageBytes: MiB, opsPerSec: s['tput fabric tcp;ofi_rxm 1MiB copyXfer=false'].median / MiB, bytesPerSec: s['tput fabric tcp;ofi_rxm 1MiB copyXfer=false'].median, ...tcpFamily },
  { task: SHM, side: 'ours', impl: 'lightbeam fabric shm', messageBytes: MiB, opsPerSec: s['tput fabric shm 1MiB'].median / MiB, bytesPerSec: s['tput fabric shm 1MiB'].median, ...shmFamily },
  { task: 'stream transport=fabric provider=shm size=1MiB copyXfer=false', side: 'ours', impl: 'lightbeam fabric shm (no copy)', messageBytes: MiB, opsPerSec: s['tput fabric shm 1MiB copyXfer=false'].median / MiB, bytesPerSec: s['tput fabric shm 1MiB copyXfer=false'].median, ...shmFamily },
  { task: 'fi_pingpong provider=shm size=1MiB', side: 'peer', impl: 'fi_pingpong shm', messageBytes: MiB, opsPerSec: s['tput fi_pingpong shm 1MiB'].median / MiB, bytesPerSec: s['tput fi_pingpong shm 1MiB'].median, ratio: shmRatio, vs: SHM, goal: 0.8, ...shmFamily },
];
console.log(`result file: ${await writeBenchResult('fabric', rows)}`);
process.exit(0);
