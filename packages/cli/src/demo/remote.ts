/**
 * The far side of `lightbeam demo` (`lightbeam demo-remote`): a process standing in for another
 * host. It owns its own shared memory and runs three endpoints:
 *
 * - the bridge ingress (port + 1), which delivers the kShm path's messages into this process's
 *   shm channel `results`; the main thread serves that channel and verifies each payload in place
 *   (the staged bytes in the slab, no further copy);
 * - a raw zeromq.js PULL (port + 2) for the postMessage baseline's messages;
 * - the control REP (port), on which the local side announces runs and asks for verdicts.
 *
 * With port 0 every endpoint takes an ephemeral port; `hello` tells the local side which.
 */
import type { Server } from '@lightbeam/core';
import { ECANCELED, ESHUTDOWN, LBM_OK, Transport, TransportFactory } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';
import { Bridge } from '@lightbeam/zmq-bridge';
import { Pull, Reply } from 'zeromq';
import { CliError } from '../common/cli-error.js';
import { CONTROL_MAX_MESSAGE_BYTES } from './control.js';
import type { ControlReply, ControlRequest, RunName } from './control.js';
import { DemoMeta, MAX_DEMO_SIZE, decodeBaselineHeader, sharedNowMs } from './payload.js';
import { Verifier } from './verifier.js';

/** The shm channel the bridge delivers into on this side. */
export const RESULTS_CHANNEL = 'results';

/** Options of {@link runDemoRemote}. */
export interface DemoRemoteOptions {
  /** Address to bind (`0.0.0.0` for every interface). */
  host: string;
  /** Control port; the bridge takes port + 1, the baseline port + 2. 0: ephemeral ports. */
  port: number;
  /** Leave after the first demo says `bye` (otherwise serve demos until stopped). */
  once: boolean;
  /** Shared memory region bytes. */
  regionBytes: number;
  /** Ring slots of the `results` channel. */
  capacity: number;
  /** Prints one line. */
  log: (line: string) => void;
  /** Resolves the run early (Ctrl-C, parent gone). */
  signal?: AbortSignal;
}

const tcp = (host: string, port: number): string => `tcp://${host.includes(':') ? `[${host}]` : host}:${port === 0 ? '*' : port}`;

/**
 * Runs the far side until `bye` (with `once`) or until `signal` aborts.
 *
 * @throws CliError when a port cannot be bound
 */
export async function runDemoRemote(opts: DemoRemoteOptions): Promise<void> {
  const manager = MemoryManager.current() ?? MemoryManager.create({ regionBytes: opts.regionBytes });
  const runs: Partial<Record<RunName, Verifier>> = {};
  // Every receiving socket bounds its frames: ZeroMQ drops a larger one before reading it.
  const control = new Reply({ linger: 0, maxMessageSize: CONTROL_MAX_MESSAGE_BYTES });
  const pull = new Pull({ linger: 0, maxMessageSize: MAX_DEMO_SIZE });
  let bridge: Bridge | null = null;
  let results: Server | null = null;
  try {
    await bindOrThrow(control, tcp(opts.host, opts.port), 'control');
    const controlPort = portOf(control.lastEndpoint);
    await bindOrThrow(pull, tcp(opts.host, opts.port === 0 ? 0 : opts.port + 2), 'baseline');
    results = await TransportFactory.getServer(RESULTS_CHANNEL, Transport.kShm, undefined, undefined, { capacity: opts.capacity });
    const bridgeUrl = tcp(opts.host, opts.port === 0 ? 0 : opts.port + 1);
    try {
      bridge = await Bridge.create({
        listen: bridgeUrl,
        acceptChannels: [RESULTS_CHANNEL],
        maxMessageBytes: MAX_DEMO_SIZE,
        onUndelivered: (r) => opts.log(`bridge could not deliver a message: ${r.reason}`),
      });
    } catch (err) {
      // The bridge's message names the URL too ("cannot bind tcp://...: why"): keep only the why.
      throw new CliError(`cannot bind the bridge port ${bridgeUrl}: ${(err as Error).message.replace(/^cannot bind \S+: /, '')}`);
    }
    const hello = { bridgePort: bridge.port as number, baselinePort: portOf(pull.lastEndpoint), pid: process.pid };
    opts.log(
      `lightbeam demo-remote ready: control port ${controlPort}, bridge port ${hello.bridgePort}, baseline port ${hello.baselinePort} ` +
        `(bound ${control.lastEndpoint}, ${bridge.endpoint}, ${pull.lastEndpoint})`,
    );
    if (!isLoopback(opts.host)) {
      opts.log(`warning: listening beyond loopback on ${opts.host} without authentication: any host that reaches these ports can send to them`);
    }
    const stop = new AbortController();
    opts.signal?.addEventListener('abort', () => stop.abort(), { once: true });
    const loops = [shmLoop(results, runs, stop.signal), baselineLoop(pull, runs, stop.signal)];
    const answer = async (req: ControlRequest): Promise<ControlReply> => {
      switch (req.op) {
        case 'hello':
          return { ok: true, hello };
        case 'expect':
          runs[req.run] = new Verifier(req.expect);
          return { ok: true };
        case 'result': {
          const v = runs[req.run];
          if (v === undefined) return { ok: false, error: `no run ${req.run} was announced` };
          await v.done(req.idleMs);
          return { ok: true, verdict: v.verdict() };
        }
        case 'memory': {
          const m = process.memoryUsage();
          const slabBytesInUse = manager.stats().reduce((n, s) => n + s.bytesInUse, 0);
          return { ok: true, memory: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, slabBytesInUse } };
        }
        case 'bye':
          return { ok: true };
        default:
          return { ok: false, error: `unknown request ${JSON.stringify((req as { op?: unknown }).op)}` };
      }
    };
    // With --once, the first bye (answered first) ends the process.
    await controlLoop(control, answer, stop.signal, opts.once);
    stop.abort();
    pull.close();
    await Promise.all(loops);
  } finally {
    control.close();
    pull.close();
    await bridge?.close();
    await results?.close();
    manager.detach();
  }
}

async function controlLoop(control: Reply, answer: (req: ControlRequest) => Promise<ControlReply>, signal: AbortSignal, once: boolean): Promise<void> {
  // Reply.receive cannot be cancelled: closing the socket on abort ends the pending receive.
  signal.addEventListener('abort', () => control.close(), { once: true });
  while (!signal.aborted) {
    let raw: Buffer;
    try {
      [raw] = await control.receive();
    } catch {
      return;
    }
    let reply: ControlReply;
    let op: unknown;
    try {
      const req = JSON.parse(raw.toString('utf8')) as ControlRequest;
      op = req.op;
      reply = await answer(req);
    } catch (err) {
      reply = { ok: false, error: (err as Error).message };
    }
    if (control.closed) return;
    await control.send(JSON.stringify(reply));
    if (once && op === 'bye') return;
  }
}

async function shmLoop(server: Server, runs: Partial<Record<RunName, Verifier>>, signal: AbortSignal): Promise<void> {
  const meta = new DemoMeta();
  for (;;) {
    const rc = await server.waitMetadata(meta, { signal });
    if (rc === ECANCELED || rc === ESHUTDOWN) return;
    if (rc !== LBM_OK) continue;
    const now = sharedNowMs();
    // The staged XFER bytes, read in place in this process's slab; recvBulks then releases them.
    runs.shm?.check(meta.seq, meta.key, meta.checksum, meta.send[0]?.data?.ptr ?? null, now - meta.sentAt);
    // Nothing is copied out (the check read the staged bytes in place): drop the recv entries the
    // sender put on the wire, which may claim BULK_XFER with no buffer here, and release the message.
    meta.recv.length = 0;
    await server.recvBulks(meta);
  }
}

async function baselineLoop(pull: Pull, runs: Partial<Record<RunName, Verifier>>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    let frames: Buffer[];
    try {
      frames = await pull.receive();
    } catch {
      return;
    }
    const now = sharedNowMs();
    const h = frames.length === 2 ? decodeBaselineHeader(frames[0]) : null;
    if (h === null) continue;
    runs.baseline?.check(h.seq, h.key, h.checksum, frames[1], now - h.sentAt);
  }
}

/** True for addresses only this host can reach (127.0.0.0/8, ::1, localhost). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

async function bindOrThrow(socket: Reply | Pull, url: string, what: string): Promise<void> {
  // No "demo-remote:" in these messages: main() already prints "lightbeam demo-remote: " before them.
  try {
    await socket.bind(url);
  } catch (err) {
    throw new CliError(`cannot bind the ${what} port ${url}: ${(err as Error).message}`);
  }
}

function portOf(endpoint: string | null): number {
  const m = /:(\d+)$/.exec(endpoint ?? '');
  if (m === null) throw new CliError(`cannot read the bound port from ${String(endpoint)}`);
  return Number(m[1]);
}
