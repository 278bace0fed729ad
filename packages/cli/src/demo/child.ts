/**
 * The second process of `lightbeam demo` on one machine: `lightbeam demo-remote` started as a
 * child, standing in for a remote host. The child is killed when this process exits for any
 * reason (normal end, error, Ctrl-C), and leaves by itself if this process dies hard (it exits
 * when its stdin closes).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CliError } from '../common/cli-error.js';

/** The launcher of the `lightbeam` command, next to `dist` and `src`. */
export const LIGHTBEAM_BIN = fileURLToPath(new URL('../../bin/lightbeam.js', import.meta.url));

/** A running far side. */
export interface RemoteChild {
  /** Its control port on 127.0.0.1. */
  controlPort: number;
  /** Waits up to `timeoutMs` for the child to exit, then kills it. Idempotent. */
  stop(timeoutMs: number): Promise<void>;
}

const READY = /ready: control port (\d+)/;

/**
 * Starts `lightbeam demo-remote --listen 127.0.0.1:0 --once` and waits for its ready line.
 *
 * @param timeoutMs - how long to wait for it to be ready
 * @param extraArgs - more arguments for the child
 * @throws CliError when the child fails or is not ready in time (it is killed)
 */
export async function startRemoteChild(timeoutMs: number, extraArgs: readonly string[] = []): Promise<RemoteChild> {
  const child = spawn(process.execPath, [LIGHTBEAM_BIN, 'demo-remote', '--listen', '127.0.0.1:0', '--once', '--exit-with-stdin', ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  try {
    const controlPort = await waitReady(child, timeoutMs, () => stderr);
    return {
      controlPort,
      async stop(ms: number): Promise<void> {
        const t = setTimeout(kill, ms);
        child.stdin?.end();
        await exited;
        clearTimeout(t);
        process.removeListener('exit', kill);
      },
    };
  } catch (err) {
    kill();
    process.removeListener('exit', kill);
    throw err;
  }
}

function waitReady(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => done(new CliError(`the demo's remote process was not ready within ${timeoutMs} ms`)), timeoutMs);
    const onData = (s: string): void => {
      out += s;
      const m = READY.exec(out);
      if (m !== null) done(null, Number(m[1]));
    };
    const onExit = (code: number | null, signal: string | null): void => {
      const last = stderr().trim().split('\n').pop() ?? '';
      done(new CliError(`the demo's remote process exited (${signal ?? `code ${code}`}) before it was ready${last === '' ? '' : `: ${last}`}`));
    };
    const done = (err: Error | null, port = 0): void => {
      clearTimeout(timer);
      child.stdout?.removeListener('data', onData);
      child.removeListener('exit', onExit);
      // Keep draining its stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
      if (err === null) resolve(port);
      else reject(err);
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}
