/**
 * `pnpm fuzz -- --messages N`: seeded random and mutated messages (raw frames, the C++ wire,
 * batches, routed bridge messages) against a kZeroMq server and a bridge ingress in a second
 * process (tools/fuzz/target.ts), in batches; after each batch a valid message goes to each, and
 * both must arrive intact. Prints the messages sent, the API's throws, the target's crashes and
 * hangs (a sentinel not back within --hang-ms: the target is restarted), and its RSS at start and
 * end. Not part of CI. Exits 1 on any throw, crash or hang.
 *
 * Options: `--messages N` (default 100000), `--batch N` (default 1000), `--seed N`,
 * `--hang-ms MS` (default 20000).
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Push } from 'zeromq';
import { Prng } from '../test/support/prng.js';
import { hostile, sentinelFrames } from './fuzz/hostile-frames.js';
import type { TargetReport } from './fuzz/target.js';

// `pnpm soak -- --minutes 5` may hand the script the `--` itself.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    messages: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    seed: { type: 'string', default: String((Math.random() * 2 ** 32) >>> 0) },
    'hang-ms': { type: 'string', default: '20000' },
  },
});
const total = Number(values.messages);
const batch = Number(values.batch);
const seed = Number(values.seed);
const hangMs = Number(values['hang-ms']);
const MiB = 1024 * 1024;

/** A running target and what it reported. */
class Target {
  readonly child: ChildProcess;
  readonly ready: Promise<Extract<TargetReport, { kind: 'ready' }>>;
  readonly sentinels = { zmq: -1, bridge: -1 };
  readonly exited: Promise<number | string>;
  private waiters: Array<() => void> = [];
  private rssWaiter: ((rss: number) => void) | null = null;

  constructor(readonly throws: Map<string, number>) {
    this.child = fork(fileURLToPath(new URL('./fuzz/target.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (r: TargetReport) => {
        if (r.kind === 'ready') resolve(r);
        else if (r.kind === 'sentinel') this.sentinels[r.target] = Math.max(this.sentinels[r.target], r.seq);
        else if (r.kind === 'throw') this.throws.set(`${r.target} ${r.message}`, (this.throws.get(`${r.target} ${r.message}`) ?? 0) + 1);
        else if (r.kind === 'rss') this.rssWaiter?.(r.rss);
        for (const w of this.waiters.splice(0)) w();
      });
      void this.exited.then((c) => reject(new Error(`the target exited (${c}) before it was ready`)));
    });
  }

  /** Resolves true once both sentinels `seq` arrived, false after `ms` or when the target died. */
  async sentinel(seq: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.sentinels.zmq < seq || this.sentinels.bridge < seq) {
      if (Date.now() > deadline || this.child.exitCode !== null || this.child.signalCode !== null) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  rss(): Promise<number> {
    return new Promise((resolve) => {
      this.rssWaiter = resolve;
      this.child.send({ kind: 'rss' });
      setTimeout(() => resolve(NaN), 5000);
    });
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ kind: 'stop' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

async function main(): Promise<number> {
  const rng = new Prng(seed);
  const throws = new Map<string, number>();
  let crashes = 0;
  let hangs = 0;
  let target = new Target(throws);
  let ready = await target.ready;
  const connect = (port: number): Push => {
    const p = new Push({ linger: 0, sendHighWaterMark: 10_000 });
    p.connect(`tcp://127.0.0.1:${port}`);
    return p;
  };
  let toZmq = connect(ready.zmqPort);
  let toBridge = connect(ready.bridgePort);
  const rssStart = await target.rss();
  console.log(`fuzz: ${total} messages in batches of ${batch}, seed ${seed}, target pid ${target.child.pid}, RSS ${(rssStart / MiB).toFixed(1)} MiB`);
  const channels = [ready.channel, 'other', 'x'.repeat(96), 'results'];
  let sent = 0;
  let seq = 0;
  let lastLine = performance.now();
  while (sent < total) {
    const n = Math.min(batch, total - sent);
    for (let i = 0; i < n; i++) {
      const frames = hostile(rng, channels);
      // Each message goes to one of the two, so both see every kind.
      await (rng.bool() ? toZmq : toBridge).send(frames);
    }
    sent += n;
    await toZmq.send(sentinelFrames(seq, null));
    await toBridge.send(sentinelFrames(seq, ready.channel));
    const ok = await target.sentinel(seq, hangMs);
    seq++;
    if (!ok) {
      const died = target.child.exitCode !== null || target.child.signalCode !== null;
      if (died) crashes++;
      else hangs++;
      console.log(`fuzz: ${died ? 'crash' : 'hang'} after ${sent} messages (seed ${seed}); restarting the target`);
      toZmq.close();
      toBridge.close();
      target.child.kill('SIGKILL');
      await target.exited;
      target = new Target(throws);
      ready = await target.ready;
      toZmq = connect(ready.zmqPort);
      toBridge = connect(ready.bridgePort);
      seq = 0;
    }
    if (performance.now() - lastLine > 10_000) {
      lastLine = performance.now();
      const t = [...throws.values()].reduce((a, b) => a + b, 0);
      console.log(`fuzz: ${sent} sent, ${t} throws, ${crashes} crashes, ${hangs} hangs, target RSS ${((await target.rss()) / MiB).toFixed(1)} MiB`);
    }
  }
  const rssEnd = await target.rss();
  toZmq.close();
  toBridge.close();
  await target.stop();
  const throwCount = [...throws.values()].reduce((a, b) => a + b, 0);
  console.log(
    `fuzz done: ${sent} messages, seed ${seed}: ${throwCount} throws, ${crashes} crashes, ${hangs} hangs; ` +
      `target RSS ${(rssStart / MiB).toFixed(1)} -> ${(rssEnd / MiB).toFixed(1)} MiB`,
  );
  for (const [what, n] of throws) console.log(`  throw x${n}: ${what}`);
  return throwCount + crashes + hangs === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fuzz: ${(err as Error).message}`);
    process.exit(1);
  },
);
