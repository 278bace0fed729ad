/**
 * Runs libfabric's `fi_pingpong` (libfabric-bin) as a server and a client on this host, for the
 * provider's own figure beside ours in bench/fabric.bench.ts.
 *
 * Its control port is picked free by the kernel for each try (the tool's default, 47592, may be
 * taken, and a port drawn at random may be too); a try that prints no row is tried again on
 * another port; and both processes are killed when a try ends, whether it succeeded, failed or
 * timed out, so none outlives the suite.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

/** Options of {@link fiPingpongRow}. */
export interface FiPingpongOptions {
  /**
   * Longest run of one try before both processes are killed.
   * @defaultValue 60000
   */
  timeoutMs?: number;
  /**
   * Tries, each on a freshly picked port.
   * @defaultValue 3
   */
  attempts?: number;
  /**
   * How long the server gets to listen before the client starts.
   * @defaultValue 300
   */
  serverStartMs?: number;
  /** The command to run (tests point it elsewhere). @defaultValue `fi_pingpong` */
  command?: string;
}

/** A TCP port free a moment ago on every address (the kernel picks it). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('the kernel gave no port'))));
    });
  });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = once(p, 'exit');
  p.kill('SIGKILL');
  await gone;
}

/** One try on `port`: the client's stdout, or `null` when it timed out. */
async function oneTry(command: string, args: readonly string[], port: number, timeoutMs: number, serverStartMs: number): Promise<string | null> {
  const spawned: ChildProcess[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const srv = spawn(command, [...args, '-B', String(port)], { stdio: 'ignore' });
    spawned.push(srv);
    srv.once('error', () => {});
    await new Promise((r) => setTimeout(r, serverStartMs));
    const cli = spawn(command, [...args, '-P', String(port), '127.0.0.1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    spawned.push(cli);
    let out = '';
    cli.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<boolean>((resolve) => {
      cli.once('error', () => resolve(true));
      cli.once('exit', () => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return (await ended) ? out : null;
  } finally {
    clearTimeout(timer);
    await Promise.all(spawned.map(stop));
  }
}

/**
 * Runs a server and a client with `args` and returns the client's row matching `row`.
 *
 * @param args - the options both sides share (`-p`, `-e`, `-S`, `-I`); the ports are added here
 * @param row - the line wanted in the client's output
 * @throws Error naming the ports tried and what the last try printed, when no try printed the row
 */
export async function fiPingpongRow(args: readonly string[], row: RegExp, opts: FiPingpongOptions = {}): Promise<string> {
  const { timeoutMs = 60000, attempts = 3, serverStartMs = 300, command = 'fi_pingpong' } = opts;
  const tried: string[] = [];
  let last = '';
  for (let i = 0; i < attempts; i++) {
    const port = await freeTcpPort();
    const out = await oneTry(command, args, port, timeoutMs, serverStartMs);
    tried.push(out === null ? `${port} (timed out after ${timeoutMs} ms)` : String(port));
    if (out === null) continue;
    last = out;
    const line = out.split('\n').find((l) => row.test(l));
    if (line !== undefined) return line;
  }
  throw new Error(`${command} ${args.join(' ')} printed no row matching ${row} on control port(s) ${tried.join(', ')}: ${JSON.stringify(last.slice(-500))}`);
}
