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
  return spawnChild([process.execPath, ...args], env, 'child');
}

/**
 * Starts any command (`argv[0]` with the rest as arguments), collecting its output.
 *
 * @param argv - command and arguments
 * @param env - extra environment
 * @param label - how messages name the process
 */
export function spawnChild(argv: string[], env: Record<string, string>, label: string): Child {
  const proc = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const what = `${label} ${argv.slice(1).join(' ')}`;
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited: (ms) => bounded(exit, ms, () => `${what} still running after ${ms} ms; stdout: ${out}; stderr: ${err}`),
    printed: (text, ms) =>
      bounded(
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (out.includes(text)) resolve();
          };
          proc.stdout?.on('data', check);
          check();
          void exit.then(() => (out.includes(text) ? resolve() : reject(new Error(`${what} exited without printing ${text}; stdout: ${out}; stderr: ${err}`))));
        }),
        ms,
        () => `${what} did not print ${JSON.stringify(text)} within ${ms} ms; stdout: ${out}; stderr: ${err}`,
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
