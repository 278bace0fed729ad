/**
 * Lightbeam over ZeroMQ against raw zeromq.js, side by side in one run: one metadata frame + one
 * bulk per message, tcp loopback, sender and receiver in separate processes (the sender is
 * `bench/zmq/sender.mjs`, this process receives), the same socket options on both sides
 * (HWM 1000, linger 1000). Lightbeam runs plain (wire-compatible with C++) and batched.
 *
 * Run: `npx tsx bench/zmq.bench.ts` (after `pnpm run build`). Goals: plain >= 1.0x raw at 64 KiB
 * and 1 MiB; batched >= 3x raw at 64 B and >= 1.4x at 4 KiB.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { EAGAIN, LbmMeta } from '@lightbeam/core';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { Pull } from 'zeromq';
import { printRatioTable } from './support/ratio-table.js';
import type { RatioRow, TaskShape } from './support/ratio-table.js';

const HWM = 1000;
const LINGER = 1000;
/** Message sizes and how many messages one timed sample moves. */
const SIZES: Array<[label: string, bytes: number, count: number]> = [
  ['64B', 64, 20_000],
  ['4KiB', 4096, 10_000],
  ['64KiB', 65536, 2_000],
  ['1MiB', 1 << 20, 200],
];
const MODES = ['raw', 'lbm', 'lbm-batch'] as const;
type Mode = (typeof MODES)[number];

/** A sender process connected to one of our receiving sockets. */
class Sender {
  private constructor(private readonly proc: ChildProcess) {}

  static async start(mode: Mode, port: number): Promise<Sender> {
    const script = fileURLToPath(new URL('./zmq/sender.mjs', import.meta.url));
    const proc = fork(script, [mode, String(port)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [msg] = (await once(proc, 'message')) as [{ ready?: boolean }];
    if (msg.ready !== true) throw new Error(`sender ${mode} did not start`);
    return new Sender(proc);
  }

  /** Asks for `count` messages of `size` bytes; resolves when the sender has queued them all. */
  request(size: number, count: number): Promise<void> {
    const done = once(this.proc, 'message').then(([m]) => {
      if ((m as { error?: string }).error !== undefined) throw new Error((m as { error: string }).error);
    });
    this.proc.send({ size, count });
    return done;
  }

  stop(): void {
    this.proc.disconnect();
  }
}

/** Receives `count` messages with Lightbeam: metadata, then the bulk into our own buffer. */
async function receiveLightbeam(server: ZeroMqServer, buf: Uint8Array, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const meta = new LbmMeta();
    let rc = await server.recvMetadata(meta);
    if (rc === EAGAIN) rc = await server.waitMetadata(meta, { timeoutMs: 60_000 });
    if (rc !== 0) throw new Error(`receive failed: ${rc}`);
    meta.recv.push(server.expose(buf, meta.send[0].size, meta.send[0].flags));
    if (server.recvBulksNow(meta) !== 0) throw new Error('recvBulks failed');
  }
}

/** Receives `count` raw 2-frame messages. */
async function receiveRaw(pull: Pull, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const frames = await pull.receive();
    if (frames.length !== 2) throw new Error('raw message without 2 frames');
  }
}

const pull = new Pull({ receiveHighWaterMark: HWM, linger: LINGER });
await pull.bind('tcp://127.0.0.1:*');
const servers = {
  lbm: await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
  'lbm-batch': await ZeroMqServer.create('127.0.0.1', 'tcp', 0, { highWaterMark: HWM, linger: LINGER }),
};
const rawPort = Number((pull.lastEndpoint as string).split(':').pop());
const senders: Record<Mode, Sender> = {
  raw: await Sender.start('raw', rawPort),
  lbm: await Sender.start('lbm', servers.lbm.port as number),
  'lbm-batch': await Sender.start('lbm-batch', servers['lbm-batch'].port as number),
};
const buf = new Uint8Array(1 << 20);

const bench = new Bench({ name: 'zmq', time: 300, iterations: 6, warmupIterations: 1, warmupTime: 0 });
const shapes: Record<string, TaskShape> = {};
const rows: RatioRow[] = [];
const taskName = (mode: Mode, label: string): string => `${mode === 'raw' ? 'raw zeromq.js 2-frame' : mode === 'lbm' ? 'lightbeam send/recv' : 'lightbeam batched'} size=${label}`;
for (const [label, size, count] of SIZES) {
  for (const mode of MODES) {
    const name = taskName(mode, label);
    shapes[name] = { batch: count, bytesPerOp: size };
    bench.add(name, async () => {
      const sent = senders[mode].request(size, count);
      if (mode === 'raw') await receiveRaw(pull, count);
      else await receiveLightbeam(servers[mode], buf, count);
      await sent;
    });
  }
  rows.push({ label: `plain vs raw ${label}`, subject: taskName('lbm', label), peer: taskName('raw', label) });
  rows.push({ label: `batched vs raw ${label}`, subject: taskName('lbm-batch', label), peer: taskName('raw', label) });
}

await bench.run();
console.log(`${bench.name}: tcp loopback, separate sender process, HWM ${HWM}, Node ${process.version}`);
const ratios = printRatioTable(bench, rows, shapes);
const goals: Array<[string, number]> = [
  ['plain vs raw 64KiB', 1.0],
  ['plain vs raw 1MiB', 1.0],
  ['batched vs raw 64B', 3.0],
  ['batched vs raw 4KiB', 1.4],
];
for (const [label, goal] of goals) console.log(`${label}: ${ratios[label].toFixed(2)}x (goal >= ${goal}x: ${ratios[label] >= goal ? 'met' : 'NOT met'})`);

for (const s of Object.values(senders)) s.stop();
pull.close();
await Promise.all(Object.values(servers).map((s) => s.close()));
