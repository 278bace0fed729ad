/**
 * A bridge process: it owns its host's shared-memory domain (a SharedArrayBuffer cannot be shared
 * between processes, so the process that runs the bridge is the one whose memory the bridge
 * reads and writes) and runs worker threads attached to it.
 *
 * Each worker script is started with `workerData = { lightbeamShm: <memory handle>, bridge:
 * { index, channels, defaultChannel } }`; in it, `attachFromWorkerData()` from `@lightbeam/shm`
 * attaches, after which `new ShmClient('<served channel>')` sends through the bridge and
 * `ShmServer.create('<channel>')` receives what the peer's bridge delivers.
 */
import { Worker } from 'node:worker_threads';
import type { MemoryManagerOptions } from '@lightbeam/shm';
import { MemoryManager, WORKER_DATA_KEY, watchWorker } from '@lightbeam/shm';
import { Bridge } from './bridge.js';
import type { BridgeOptions } from './options.js';

/** Options of {@link BridgeHost.start}. */
export interface BridgeHostOptions extends BridgeOptions {
  /** Worker scripts (`.mjs`/`.js` paths or `file:` URLs) to run attached to the host's memory. */
  workers?: readonly string[];
  /** Options of the host's memory (region size, growth). */
  memory?: MemoryManagerOptions;
}

/** What a worker started by {@link BridgeHost} finds under `workerData.bridge`. */
export interface BridgeWorkerInfo {
  /** Position of the script in `workers`. */
  index: number;
  /** Channels the bridge forwards to the peer (send to these). */
  channels: string[];
  /** Channel plain messages are delivered to, if any. */
  defaultChannel: string | null;
}

/** Exit of one worker. */
export interface WorkerExit {
  /** The script. */
  file: string;
  /** Its exit code (1 when it threw). */
  code: number;
  /** The uncaught error's message, if it threw. */
  error?: string;
}

/** A bridge plus the shared memory and workers of its host. */
export class BridgeHost {
  /** Resolves once every worker exited (at once without workers). */
  readonly workersDone: Promise<WorkerExit[]>;

  private constructor(
    /** The host's shared memory. */
    readonly memory: MemoryManager,
    /** The bridge. */
    readonly bridge: Bridge,
    /** The running workers. */
    readonly workers: readonly Worker[],
    files: readonly string[],
  ) {
    this.workersDone = Promise.all(
      workers.map(
        (w, i) =>
          new Promise<WorkerExit>((resolve) => {
            let error: string | undefined;
            w.once('error', (err) => {
              error = err instanceof Error ? err.message : String(err);
            });
            w.once('exit', (code) => resolve({ file: files[i], code: error !== undefined && code === 0 ? 1 : code, error }));
          }),
      ),
    );
  }

  /**
   * Creates the host's shared memory (in this thread), the bridge, then starts the workers.
   *
   * @param options - bridge options, worker scripts, memory options
   * @throws LightbeamError as {@link Bridge.create}; the memory is left to the GC
   */
  static async start(options: BridgeHostOptions): Promise<BridgeHost> {
    const memory = MemoryManager.current() ?? MemoryManager.create(options.memory);
    const bridge = await Bridge.create(options);
    const files = [...(options.workers ?? [])];
    const info = (index: number): BridgeWorkerInfo => ({ index, channels: bridge.channels, defaultChannel: options.defaultChannel ?? null });
    const workers = files.map((file, index) =>
      // execArgv: [] keeps loader flags of the parent (tsx) out of plain .mjs workers.
      watchWorker(new Worker(file.startsWith('file:') ? new URL(file) : file, { workerData: { [WORKER_DATA_KEY]: memory.handle(), bridge: info(index) }, execArgv: [] })),
    );
    return new BridgeHost(memory, bridge, workers, files);
  }

  /** Terminates the workers still running, then closes the bridge. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    await this.bridge.close();
  }
}
