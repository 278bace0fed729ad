/**
 * Runs the built `lightbeam` command (`node packages/cli/dist/main.js`) as a real child process.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built entry point. */
export const CLI_MAIN = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));

/** A finished run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `lightbeam` process whose output is collected as it comes. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<CliResult>;
  private waiters: Array<() => void> = [];

  /**
   * @param args - arguments of `lightbeam` (or of `command`)
   * @param cwd - working directory
   * @param command - run this instead of `node <built CLI>` (e.g. a shell that sets limits first)
   */
  constructor(args: readonly string[], cwd = REPO_ROOT, command?: string) {
    // No --import tsx here: the built CLI runs on plain Node, as a user runs it.
    const argv = command === undefined ? [process.execPath, CLI_MAIN, ...args] : [command, ...args];
    this.child = spawn(argv[0], argv.slice(1), { cwd, env: { ...process.env, NODE_OPTIONS: '' } });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.poke();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.poke();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code) => {
        this.poke();
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves when stdout holds a line matching `re`; rejects after `timeoutMs` or on exit without it. */
  async waitForStdout(re: RegExp, timeoutMs = 20000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stdout.split('\n').find((l) => re.test(l));
      if (line !== undefined) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`lightbeam exited (${this.child.exitCode}) before printing ${re}; stderr: ${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${re} within ${timeoutMs} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves when the process exits; kills it after `timeoutMs`. */
  async done(timeoutMs = 60000): Promise<CliResult> {
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** Kills the process if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Runs `lightbeam <args>` to completion. */
export function runCli(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new CliProcess(args, opts.cwd).done(opts.timeoutMs);
}

export { freePort } from '../../support/free-port.js';

/** Non-empty lines of a text. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
