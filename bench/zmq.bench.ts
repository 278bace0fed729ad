/**
 * Lightbeam over ZeroMQ against raw zeromq.js, side by side in one run: one metadata frame + one
 * bulk per message, tcp loopback, sender and receiver in separate processes (the senders are
 * `bench/zmq/sender.mjs`, this process receives), the same socket options on both sides
 * (HWM 1000, linger 1000). Lightbeam receives three ways: copying each bulk into its own buffer
 * (the C++ two-phase path), in place (a `recv` entry without a buffer: a view of the frame), and
 * batched (TypeScript peers only), once with `batch: true` and once with `batch` left at its default
 * (`'auto'`: the client batches because the server said, when asked, that it reads batches). Every
 * case runs once per round, round-robin, for
 * `LBM_BENCH_ROUNDS` rounds (default 7); figures are medians with their min-max.
 *
 * The `default send` case is what a user gets without options: every XFER bulk copied (the caller
 * may reuse its buffer once `send` resolved), a new meta per message, awaited one by one; beside
 * it the same sender with `LBM_ZMQ_SEND_COPY=fresh` (copies into fresh Buffers, as before the
 * native copy helper). `node bench/zmq/send-breakdown.mjs` splits a default send's time into
 * allocation, copy with first touch, send and collector; `node bench/zmq/default-send-steady.mjs`
 * runs the real client in steady state and counts page faults, reuse, memory lent and
 * collections per message.
 *
 * Run: `npx tsx bench/zmq.bench.ts` (after `pnpm run build`); `LBM_BENCH_SIZES=64KiB,1MiB` runs
 * some sizes, `LBM_BENCH_ONLY=raw,default send` some cases (raw is always run: every ratio is
 * to it); a filtered run prints its tables but writes no result file. Goals: in place >= 1.0x raw
 * and copying >= 0.9x raw at 64 KiB and 1 MiB; batched >= 3x raw at 64 B and >= 1.4x at 4 KiB;
 * batched by default >= 0.9x batched by `batch: true` at 64 B and 4 KiB (the negotiation costs
 * nothing per message); the default send >= 0.9x raw at 64 KiB and >= 0.8x at 1 MiB.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BULK_XFER, EAGAIN, LbmMeta } from '@lightbeam/core';
import type { Bulk } from '@lightbeam/core';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';
import type { ZmqSendCopyStats } from '@lightbeam/zmq-bridge';
import { Pull } from 'zeromq';
import { human } from './support/ratio-table.js';
import type { BenchRowInput } from './support/report-format.js';
import { writeBenchResult } from './support/report-format.js';
import { fmtRange, interleave, ratioOfMedians, summary } from './support/rounds.js';

const HWM = 1000;
const LINGER = 1000;
const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 7);
/** Message sizes and how many messages one timed sample moves. */
const SIZES: Array<[label: string, bytes: number, count: number]> = [
  ['64B', 64, 20_000],
  ['4KiB', 4096, 10_000],
  ['64KiB', 65536, 2_000],
  ['1MiB', 1 << 20, 200],
];
type SenderMode = 'raw' | 'lbm' | 'lbm-batch' | 'lbm-auto' | 'lbm-default' | 'lbm-default-fresh';
const ALL_CASES = ['raw', 'copy', 'in place', 'batched', 'batched by default', 'default send', 'default send (fresh memory)'] as const;
type Case = (typeof ALL_CASES)[number];
const senderOf: Record<Case, SenderMode> = {
  raw: 'raw',
  copy: 'lbm',
  'in place': 'lbm',
  batched: 'lbm-batch',
  'batched by default': 'lbm-auto',
  'default send': 'lbm-default',
  'default send (fresh memory)': 'lbm-default-fresh',
};
const implOf: Record<Case, string> = {
  raw: 'raw zeromq.js',
  copy: 'lightbeam zmq (copy)',
  'in place': 'lightbeam zmq (in place)',
  batched: 'lightbeam zmq (batched, batch: true)',
  'batched by default': 'lightbeam zmq (batched, batch left at its default)',
  'default send': 'lightbeam zmq (default send: XFER copied, a meta per message)',
  'default send (fresh memory)': 'lightbeam zmq (default send copying into fresh memory, LBM_ZMQ_SEND_COPY=fresh)',
};
/** Batched with `batch` at its default against `batch: true`: the negotiation must cost nothing per message. */
const AUTO_VS_TRUE_GOAL = 0.9;
/** The sizes a case is measured at, where not all. */
const SIZES_OF: Partial<Record<Case, readonly string[]>> = { 'default send': ['64KiB', '1MiB'], 'default send (fresh memory)': ['64KiB', '1MiB'] };
const ONLY_SIZES = process.env.LBM_BENCH_SIZES?.split(',');
const ONLY_CASES = process.env.LBM_BENCH_ONLY?.split(',');
for (const [name, known, asked] of [['LBM_BENCH_SIZES', SIZES.map(([l]) => l), ONLY_SIZES], ['LBM_BENCH_ONLY', ALL_CASES, ONLY_CASES]] as const) {
  const unknown = (asked ?? []).filter((a) => !(known as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`${name} names unknown entries ${unknown.join(', ')}; known: ${known.join(', ')}`);
}
const CASES = ALL_CASES.filter((c) => c === 'raw' || ONLY_CASES === undefined || ONLY_CASES.includes(c));
const filtered = ONLY_SIZES !== undefined || ONLY_CASES !== undefined;

/** A sender process connected to one of our receiving sockets. */
class Sender {
  private constructor(private readonly proc: ChildProcess) {}

  static async start(mode: SenderMode, port: number): Promise<Sender> {
    const script = fileURLToPath(new URL('./zmq/sender.mjs', import.meta.url));
    // The fresh-memory peer of the default send: the same code with the native copy helper off.
    const env = mode === 'lbm-default-fresh' ? { ...process.env, LBM_ZMQ_SEND_COPY: 'fresh' } : process.env;
    const proc = fork(script, [mode === 'lbm-default-fresh' ? 'lbm-default' : mode, String(port)], { execArgv: [], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [msg] = (await once(proc, 'message')) as [{ ready?: boolean }];
    if (msg.ready !== true) throw new Error(`sender ${mode} did not start`);
    return new Sender(proc);
  }

  /** The default sender's copy counters after its last request (see `zmqSendCopyStats`). */
  copies: ZmqSendCopyStats | undefined;

  /** Asks for `count` messages of `size` bytes; resolves when the sender has queued them all. */
  request(size: number, count: number): Promise<void> {
    const done = once(this.proc, 'message').then(([m]) => {
      if ((m as { error?: string }).error !== undefined) throw new Error((m as { error: string }).error);
      this.copies = (m as { copies?: ZmqSendCopyStats }).copies;
    });
    this.proc.send({ size, count });
    return done;
  }

  stop(): void {
    this.proc.disconnect();
  }
}

/**
 * Receives `count` messages with Lightbeam into one reused meta: metadata, then the bulk into our
 * own buffer (copy) or as a view of the received frame (in place). Checks one byte of each.
 */
async function receiveLightbeam(server: ZeroMqServer, buf: Uint8Array, count: number, inPlace: boolean): Promise<void> {
  const meta = new LbmMeta();
  const entry: Bulk = { data: null, size: 0, flags: BULK_XFER };
  const copyInto: Bulk = { data: { ptr: buf, shm: { allocId: { major: 0, minor: 0 }, off: 0 } }, size: 0, flags: BULK_XFER };
  for (let i = 0; i < count; i++) {
    let rc = await server.recvMetadata(meta);
    if (rc === EAGAIN) rc = await server.waitMetadata(meta, { timeoutMs: 60_000 });
    if (rc !== 0) throw new Error(`receive failed: ${rc}`);
    const size = meta.send[0].size;
    const b = inPlace ? entry : copyInto;
    b.size = size;
    if (inPlace) b.data = null;
    meta.recv.push(b);
    if (server.recvBulksNow(meta) !== 0) throw new Error('recvBulks failed');
    const got = (b.data as NonNullable<Bulk['data']>).ptr;
    if (got[size - 1] !== 0x5a) throw new Error('wrong payload');
  }
  server.release(meta);
}

/** Receives `count` raw 2-frame messages, checking one byte of each. */
async function receiveRaw(pull: Pull, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const frames = await pull.receive();
    if (frames.length !== 2 || frames[1][frames[1].length - 1] !== 0x5a) throw new Error('raw message without 2 frames');
  }
}

const pull = new Pull({ receiveHighWaterMark: HWM, linger: LINGER });
await pull.bind('tcp://127.0.0.1:*');
const servers = {
  lbm: await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
  'lbm-batch': await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
  'lbm-auto': await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
  'lbm-default': await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
  'lbm-default-fresh': await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
};
const rawPort = Number((pull.lastEndpoint as string).split(':').pop());
const senders: Record<SenderMode, Sender> = {
  raw: await Sender.start('raw', rawPort),
  lbm: await Sender.start('lbm', servers.lbm.port as number),
  'lbm-batch': await Sender.start('lbm-batch', servers['lbm-batch'].port as number),
  'lbm-auto': await Sender.start('lbm-auto', servers['lbm-auto'].port as number),
  'lbm-default': await Sender.start('lbm-default', servers['lbm-default'].port as number),
  'lbm-default-fresh': await Sender.start('lbm-default-fresh', servers['lbm-default-fresh'].port as number),
};
const buf = new Uint8Array(1 << 20);

/** One timed sample: messages per second of `count` messages of `size` bytes. */
async function sample(c: Case, size: number, count: number): Promise<number> {
  const mode = senderOf[c];
  const t0 = performance.now();
  const sent = senders[mode].request(size, count);
  if (mode === 'raw') await receiveRaw(pull, count);
  else await receiveLightbeam(servers[mode], buf, count, c === 'in place');
  await sent;
  return (count / (performance.now() - t0)) * 1000;
}

console.log(`zmq: tcp loopback, separate sender processes, HWM ${HWM}, Node ${process.version}, ${ROUNDS} interleaved rounds, median (min-max)`);
const results: BenchRowInput[] = [];
const goals: Array<{ goal: string; measured: string; result: string }> = [];
const GOALS: Partial<Record<string, Partial<Record<Case, number>>>> = {
  '64B': { batched: 3 },
  '4KiB': { batched: 1.4 },
  '64KiB': { 'in place': 1, copy: 0.9, 'default send': 0.9 },
  '1MiB': { 'in place': 1, copy: 0.9, 'default send': 0.8 },
};
for (const [label, size, count] of SIZES) {
  const copiesBefore = senders['lbm-default'].copies;
  if (ONLY_SIZES !== undefined && !ONLY_SIZES.includes(label)) continue;
  const casesHere = CASES.filter((c) => SIZES_OF[c] === undefined || (SIZES_OF[c] as readonly string[]).includes(label));
  // One warm-up sample per case, not recorded.
  for (const c of casesHere) await sample(c, size, Math.max(1, count >> 2));
  const cases = Object.fromEntries(casesHere.map((c) => [c, () => sample(c, size, count)])) as Record<Case, () => Promise<number>>;
  const rates = await interleave(ROUNDS, cases);
  const raw = summary(rates.raw);
  const measure = 'one-way messages over tcp loopback, process to process';
  const oursTask = (c: Case): string => `recv ${c} transport=zmq size=${label}`;
  const ratioVsRaw = (c: Case): number => ratioOfMedians(rates[c], rates.raw).median;
  const table = casesHere.map((c) => {
    const s = summary(rates[c]);
    // Ours / raw, above 1 = ours faster: the ratio of the two medians beside it, with the per-round
    // ratios' range (same round, same noise).
    const ratio = ratioOfMedians(rates[c], rates.raw);
    if (c !== 'raw') {
      const goal = GOALS[label]?.[c];
      if (goal !== undefined) goals.push({ goal: `${c} vs raw ${label} >= ${goal}x`, measured: fmtRange(ratio, 'x'), result: ratio.median >= goal ? 'met' : 'NOT met' });
      results.push({ task: oursTask(c), side: 'ours', impl: implOf[c], messageBytes: size, opsPerSec: s.median, bytesPerSec: s.median * size, measure, unit: 'messages' });
    }
    return { task: `${implOf[c]} size=${label}`, 'msgs/s': `${human(s.median)} (${human(s.min)}-${human(s.max)})`, 'bytes/s': human(s.median * size, 'B'), 'vs raw': c === 'raw' ? '' : fmtRange(ratio, 'x') };
  });
  // The raw peer against each of our receive modes, each with its own goal where it has one.
  results.push({
    task: `raw zeromq.js 2-frame size=${label}`,
    side: 'peer',
    impl: implOf.raw,
    messageBytes: size,
    opsPerSec: raw.median,
    bytesPerSec: raw.median * size,
    measure,
    unit: 'messages',
    ...(casesHere.includes('in place') ? { ratio: ratioVsRaw('in place'), vs: oursTask('in place'), goal: GOALS[label]?.['in place'] ?? null } : {}),
    also: (['copy', 'batched', 'batched by default', 'default send', 'default send (fresh memory)'] as const)
      .filter((c) => casesHere.includes(c))
      .map((c) => ({ vs: oursTask(c), ratio: ratioVsRaw(c), goal: GOALS[label]?.[c] ?? null })),
  });
  // Default against explicit where batching happens (messages up to 16 KiB): the ratio of the two
  // medians printed beside it, with the per-round ratios' range for the noise.
  if (size <= 16 * 1024 && casesHere.includes('batched') && casesHere.includes('batched by default')) {
    const auto = summary(rates['batched by default']).median;
    const explicit = summary(rates.batched).median;
    const perRound = summary(rates['batched by default'].map((r, i) => r / rates.batched[i]));
    goals.push({
      goal: `batched by default vs batch: true ${label} >= ${AUTO_VS_TRUE_GOAL}x`,
      measured: `${(auto / explicit).toFixed(2)} x = ${human(auto)} / ${human(explicit)} msgs/s (per round ${perRound.min.toFixed(2)}-${perRound.max.toFixed(2)})`,
      result: auto / explicit >= AUTO_VS_TRUE_GOAL ? 'met' : 'NOT met',
    });
  }
  console.log(`\n${label}`);
  console.table(table);
  const copies = senders['lbm-default'].copies;
  if (casesHere.includes('default send') && copies !== undefined) {
    const d = (k: 'reused' | 'fresh'): number => copies[k] - (copiesBefore?.[k] ?? 0);
    console.log(
      copies.reusing
        ? `default send at ${label}: ${d('reused')} copies into reused memory, ${d('fresh')} into new memory (warm-up included); ${human(copies.idleBytes, 'B')} idle after`
        : `default send at ${label}: the native copy helper is not built, every copy went to fresh memory`,
    );
  }
}
console.log('\ngoals (ratio above 1: Lightbeam faster):');
console.table(goals);
if (filtered) console.log('\nfiltered run (LBM_BENCH_SIZES / LBM_BENCH_ONLY): no result file written');
else await writeBenchResult('zmq', results);

for (const s of Object.values(senders)) s.stop();
pull.close();
await Promise.all(Object.values(servers).map((s) => s.close()));
