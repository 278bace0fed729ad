/**
 * One busy-looping process beside a measurement (`lightbeam demo --hog`, `LBM_BENCH_HOG=1`):
 * users' machines are busy, and a wake-up design that only wins on idle cores is not one. The hog
 * is a separate process (not a thread of ours) so it competes for the cores the way another
 * program does, and it exits by itself when its parent dies, so a crashed run leaves no spinner.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** A running hog; see {@link startCpuHog}. */
export interface CpuHog {
  /** The hog's process id. */
  readonly pid: number;
  /** Kills the hog and resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

// The loop looks at its parent only every 2^24 iterations (a few ms): often enough to exit soon
// after an orphaning, rare enough that the check costs nothing.
const HOG_SOURCE = 'const p = process.ppid; process.send("spinning"); for (let i = 1; ; i++) if ((i & 0xffffff) === 0 && process.ppid !== p) process.exit(0);';

/**
 * Starts one process that busy-loops on one core until {@link CpuHog.stop} (or until this
 * process exits or dies). Resolves once it is spinning.
 *
 * @throws Error when the process cannot be started
 */
export async function startCpuHog(): Promise<CpuHog> {
  const child = spawn(process.execPath, ['-e', HOG_SOURCE], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  // A normal exit of ours kills the hog at once; a crash leaves it to notice the new parent.
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  try {
    await Promise.race([
      once(child, 'message'),
      exited.then(([code]) => {
        throw new Error(`the CPU hog exited before it started spinning (code ${String(code)})`);
      }),
    ]);
  } catch (err) {
    process.removeListener('exit', kill);
    kill();
    throw err;
  }
  // The hog never reads its channel: let it not hold this process's event loop open.
  child.disconnect();
  let stopping: Promise<void> | null = null;
  return {
    pid: child.pid as number,
    stop(): Promise<void> {
      if (stopping === null) {
        process.removeListener('exit', kill);
        if (child.exitCode === null && child.signalCode === null) kill();
        stopping = exited.then(() => undefined);
      }
      return stopping;
    },
  };
}
