/**
 * Child processes for the ZeroMQ tests: started with plain `node` (fixtures are `.mjs` importing
 * the built packages by name), output collected, exit awaited with a bound.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A running child with its collected output. */
export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name), rejects after `ms`. */
  exited(ms: number): Promise<number | string>;
  /** Resolves once stdout contains `text`, rejects after `ms` or on exit. */
  printed(text: string, ms: number): Promise<void>;
}

/** Absolute path of a fixture under test/fixtures/zmq. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/zmq/${name}`, import.meta.url));
}

/**
 * Starts `node <args>`.
 *
 * @param args - script and arguments
 * @param env - extra environment
 */
export function startNode(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited: (ms) => bounded(exit, ms, () => `child ${args.join(' ')} still running after ${ms} ms; stderr: ${err}`),
    printed: (text, ms) =>
      bounded(
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (out.includes(text)) resolve();
          };
          proc.stdout?.on('data', check);
          check();
          void exit.then(() => (out.includes(text) ? resolve() : reject(new Error(`child exited without printing ${text}; stderr: ${err}`))));
        }),
        ms,
        () => `child did not print ${JSON.stringify(text)} within ${ms} ms; stdout: ${out}; stderr: ${err}`,
      ),
  };
}

/** Rejects with `message()` when `p` has not settled within `ms`. */
export function bounded<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
