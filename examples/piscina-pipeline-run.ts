/**
 * The pipeline of `examples/piscina-pipeline.ts`, as functions the example, its test and
 * `bench/shm.bench.ts` share: the same jobs through the same piscina workers, over `kShm` with
 * EXPOSE bulks in the slab (zero copy both ways), or over plain piscina (structured clone, or
 * transfer lists). Every result is verified against a checksum computed from scratch.
 *
 * Ownership over kShm: the main thread allocates each job's block and owns it throughout; a
 * worker only borrows it between receiving the job and sending its result, and never frees it.
 * The main thread frees (or reuses) a block once its result arrived.
 */
import type { Piscina } from 'piscina';
import type { FullPtr, Pointer } from '@lightbeam/core';
import { BULK_EXPOSE, ETIMEDOUT, LightbeamError, Transport, TransportFactory, pointerEquals, strerror } from '@lightbeam/core';
import type { Client, Server } from '@lightbeam/core';
import type { MemoryManager, RpcWorkerPool } from '@lightbeam/shm';
import '@lightbeam/shm';
import { JobMeta, READY, RESULT, ResultMeta, checksum, expectedChecksum, fillJob, transformInPlace } from './piscina-pipeline-shared.mjs';

/** The piscina task file every pipeline runs (pass it as `filename` to `createPool`). */
export const PIPELINE_WORKER = new URL('./piscina-pipeline-worker.mjs', import.meta.url).href;
/** The worker script of the `createRpcPool` pipeline ({@link processRpc}). */
export const PIPELINE_RPC_WORKER = new URL('./piscina-pipeline-rpc-worker.mjs', import.meta.url);

/** One job over shared memory: its block, owned by the main thread. */
export interface ShmJob {
  /** Job id (also seeds its input). */
  readonly jobId: number;
  /** Transform key. */
  readonly key: number;
  /** The main thread's view of the block and its Pointer. */
  readonly block: FullPtr;
  /** The checksum the result must have. */
  readonly expected: number;
}

/** What one pass of a pipeline did. */
export interface PipelineRound {
  /** Jobs whose result matched the expected checksum byte for byte. */
  verified: number;
  /** Results whose EXPOSE bulk (and the Pointer the worker reported) was the job's own Pointer. */
  samePointer: number;
  /** Wall time of the pass in milliseconds (feeding, transforming, collecting, verifying). */
  ms: number;
  /** CPU time of the whole process (every thread) during the pass, in ms: above the work, it is waiting that burned a core. */
  cpuMs: number;
  /** Jobs served per worker thread id. */
  perWorker: Map<number, number>;
}

/** Shape of a pipeline run. */
export interface PipelineOptions {
  /** Jobs per pass. */
  jobs: number;
  /** Bytes per job, a multiple of 4. */
  size: number;
  /** Transform key. @defaultValue 0x5eed */
  key?: number;
}

const WAIT = { timeoutMs: 30_000 };

function check(rc: number, what: string): void {
  if (rc !== 0) throw new Error(`${what} failed: ${strerror(rc)} (${rc})`);
}

/**
 * The pipeline over `kShm`: one long-running `serve` task per pool worker, each bound to its own
 * job channel; results come back on one channel the main thread serves.
 */
export class ShmPipeline {
  private constructor(
    private readonly results: Server,
    private readonly clients: Client[],
    /** Settles when every serve task ended: jobs served by each, or the first task's error. */
    readonly done: Promise<{ served: number; threadId: number }[]>,
  ) {}

  /**
   * Starts `workers` serve tasks on `pool` (made with `createPool`, so its workers share this
   * thread's memory) and waits until each has bound its job channel. Each serve task holds its
   * worker until {@link ShmPipeline.stop}; the same channel names can be bound again afterwards.
   *
   * @param pool - the pool; it must have at least `workers` threads
   * @param workers - serve tasks (job channels)
   * @param prefix - channel name prefix, unique per pipeline alive at once
   * @param spinUs - workers' receive spin before parking
   */
  static async start(pool: Piscina, workers: number, prefix: string, spinUs = 20): Promise<ShmPipeline> {
    const resultsName = `${prefix}-results`;
    const results = await TransportFactory.getServer(resultsName, Transport.kShm, undefined, undefined, { capacity: 4096, spinUs });
    const tasks: Promise<{ served: number; threadId: number }>[] = [];
    for (let k = 0; k < workers; k++) {
      tasks.push(pool.run({ op: 'serve', channel: `${prefix}-in-${k}`, results: resultsName, spinUs, idleTimeoutMs: 120_000 }));
    }
    const serving = Promise.all(tasks);
    // A serve task that fails before it is ready must not leave us waiting for its hello.
    let failed: unknown = null;
    serving.catch((err: unknown) => {
      failed = err;
    });
    const ready = new Set<number>();
    const deadline = performance.now() + WAIT.timeoutMs;
    while (ready.size < workers) {
      const hello = new ResultMeta();
      const rc = await results.waitMetadata(hello, { timeoutMs: 250 });
      if (failed !== null) throw failed;
      if (rc === 0 && hello.kind === READY) ready.add(hello.workerThreadId);
      else if (rc !== 0 && rc !== ETIMEDOUT) check(rc, 'waiting for workers');
      if (performance.now() > deadline) throw new Error(`only ${ready.size} of ${workers} pipeline workers became ready`);
    }
    const clients: Client[] = [];
    for (let k = 0; k < workers; k++) clients.push(await TransportFactory.getClient(`${prefix}-in-${k}`, Transport.kShm));
    return new ShmPipeline(results, clients, serving);
  }

  /**
   * One pass: sends every job (round robin over the workers), then collects and verifies every
   * result. The blocks must hold fresh input ({@link refillShmJobs}).
   *
   * @throws Error on a send or receive failure, or a result for an unknown job
   */
  async process(jobs: readonly ShmJob[]): Promise<PipelineRound> {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const sends: Promise<number>[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i];
      const client = this.clients[i % this.clients.length];
      const m = new JobMeta();
      m.jobId = j.jobId;
      m.key = j.key;
      m.send.push(client.expose(j.block, j.block.ptr.byteLength, BULK_EXPOSE));
      sends.push(client.send(m, WAIT));
    }
    const byId = new Map(jobs.map((j) => [j.jobId, j]));
    const round: PipelineRound = { verified: 0, samePointer: 0, ms: 0, cpuMs: 0, perWorker: new Map() };
    for (let got = 0; got < jobs.length; got++) {
      const res = new ResultMeta();
      check(await this.results.waitMetadata(res, WAIT), `result ${got} of ${jobs.length}`);
      const job = byId.get(res.jobId);
      if (res.kind !== RESULT || job === undefined) throw new Error(`unexpected result kind ${res.kind} for job ${res.jobId}`);
      byId.delete(res.jobId);
      const back = res.send[0]?.data ?? null;
      const seen: Pointer = { allocId: { major: res.seenMajor, minor: res.seenMinor }, off: res.seenOff };
      if (back !== null && pointerEquals(back.shm, job.block.shm) && pointerEquals(seen, job.block.shm)) round.samePointer++;
      // Verify through the main thread's own view: the worker's in-place writes must be there.
      const sum = checksum(job.block.ptr);
      if (sum === job.expected && res.checksum === job.expected) round.verified++;
      round.perWorker.set(res.workerThreadId, (round.perWorker.get(res.workerThreadId) ?? 0) + 1);
    }
    for (const rc of await Promise.all(sends)) check(rc, 'job send');
    round.ms = performance.now() - t0;
  round.cpuMs = cpuMsSince(c0);
    round.cpuMs = cpuMsSince(c0);
    return round;
  }

  /**
   * Stops the serve tasks and closes the channels.
   *
   * @returns jobs served by each serve task
   */
  async stop(): Promise<{ served: number; threadId: number }[]> {
    for (const c of this.clients) {
      const m = new JobMeta();
      m.stop = true;
      check(await c.send(m, WAIT), 'stop send');
    }
    try {
      return await this.done;
    } finally {
      await this.close();
    }
  }

  /** Closes this side's channels without asking the workers to stop (after a serve task failed). */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    await this.results.close();
  }
}

/**
 * Allocates and fills `opts.jobs` blocks in the slab of `manager` (free them with {@link freeShmJobs}).
 *
 * @throws LightbeamError `ERR_LBM_NOMEM` when the slab cannot hold them
 */
export function makeShmJobs(manager: MemoryManager, opts: PipelineOptions): ShmJob[] {
  const key = opts.key ?? 0x5eed;
  const jobs: ShmJob[] = [];
  for (let jobId = 0; jobId < opts.jobs; jobId++) {
    const block = manager.toFullPtr(manager.allocateOrThrow(opts.size), opts.size);
    jobs.push({ jobId, key, block, expected: expectedChecksum(opts.size, jobId, key) });
  }
  refillShmJobs(jobs);
  return jobs;
}

/** Writes every job's input again (a pass transforms the blocks in place). */
export function refillShmJobs(jobs: readonly ShmJob[]): void {
  for (const j of jobs) fillJob(j.block.ptr, j.jobId);
}

/** Frees the jobs' blocks. */
export function freeShmJobs(manager: MemoryManager, jobs: readonly ShmJob[]): void {
  for (const j of jobs) manager.free(j.block.shm);
}

/** One job over plain piscina: its bytes in private memory. */
export interface PlainJob {
  /** Job id. */
  readonly jobId: number;
  /** Transform key. */
  readonly key: number;
  /** The checksum the result must have. */
  readonly expected: number;
  /** Input bytes (moved away by a transfer pass; refill before the next). */
  data: Uint8Array;
}

/** Makes plain jobs with the same inputs and expected checksums as {@link makeShmJobs}. */
export function makePlainJobs(opts: PipelineOptions): PlainJob[] {
  const key = opts.key ?? 0x5eed;
  return Array.from({ length: opts.jobs }, (_, jobId) => {
    const data = new Uint8Array(opts.size);
    fillJob(data, jobId);
    return { jobId, key, expected: expectedChecksum(opts.size, jobId, key), data };
  });
}

/** Writes every plain job's input again (a transfer pass hands back transformed buffers). */
export function refillPlain(jobs: readonly PlainJob[]): void {
  for (const j of jobs) fillJob(j.data, j.jobId);
}

/**
 * One pass over plain piscina: `clone` copies each job in and its result out (structured clone);
 * `transfer` moves the ArrayBuffer in and back (transfer lists).
 */
export async function processPlain(pool: Piscina, jobs: PlainJob[], mode: 'clone' | 'transfer'): Promise<PipelineRound> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const round: PipelineRound = { verified: 0, samePointer: 0, ms: 0, cpuMs: 0, perWorker: new Map() };
  await Promise.all(
    jobs.map(async (j) => {
      let out: Uint8Array;
      if (mode === 'clone') {
        const r = (await pool.run({ op: 'clone', jobId: j.jobId, key: j.key, data: j.data })) as { checksum: number; data: Uint8Array };
        if (r.checksum !== j.expected) return;
        out = r.data;
      } else {
        const buf = j.data.buffer as ArrayBuffer;
        out = (await pool.run({ op: 'transfer', jobId: j.jobId, key: j.key, data: buf }, { transferList: [buf] })) as Uint8Array;
        j.data = out;
      }
      if (checksum(out) === j.expected) round.verified++;
    }),
  );
  round.ms = performance.now() - t0;
  round.cpuMs = cpuMsSince(c0);
  return round;
}

/**
 * One pass over a `createRpcPool` pool: every job is a call whose EXPOSE bulk is the job's slab
 * block, transformed in place by the worker; the reply carries the checksum and the Pointer the
 * worker saw, and the main thread checks both against its own block and its own bytes.
 */
export async function processRpc(pool: RpcWorkerPool, jobs: readonly ShmJob[]): Promise<PipelineRound> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const round: PipelineRound = { verified: 0, samePointer: 0, ms: 0, cpuMs: 0, perWorker: new Map() };
  const reply = { reply: () => new ResultMeta(), timeoutMs: 30_000 };
  await Promise.all(
    jobs.map(async (j) => {
      const req = new JobMeta();
      req.jobId = j.jobId;
      req.key = j.key;
      req.send.push({ data: j.block, size: j.block.ptr.byteLength, flags: BULK_EXPOSE });
      const res = await pool.run('transform', req, reply);
      round.perWorker.set(res.workerThreadId, (round.perWorker.get(res.workerThreadId) ?? 0) + 1);
      const shm = j.block.shm;
      if (res.seenMajor === shm.allocId.major && res.seenMinor === shm.allocId.minor && res.seenOff === shm.off) round.samePointer++;
      // The worker's checksum and the main thread's own bytes must both match.
      if (res.checksum === j.expected && checksum(j.block.ptr) === j.expected) round.verified++;
    }),
  );
  round.ms = performance.now() - t0;
  round.cpuMs = cpuMsSince(c0);
  return round;
}

function cpuMsSince(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000;
}

/**
 * The physical limit of a pass: the work alone, with no hand-off at all. Times one thread doing
 * every job's transform and the two checksums (the worker's and the main thread's verification),
 * on the jobs' own blocks; a pass over `workers` threads cannot take less than this divided by
 * the number of cores they run on.
 *
 * @returns the time of that work on this thread, in ms
 */
export function workAlone(jobs: readonly ShmJob[]): number {
  refillShmJobs(jobs);
  const t0 = performance.now();
  let sink = 0;
  for (const j of jobs) {
    transformInPlace(j.block.ptr, j.key);
    sink ^= checksum(j.block.ptr) ^ checksum(j.block.ptr);
  }
  const ms = performance.now() - t0;
  // Keeps the checksums from being optimised away.
  if (sink === 0.5) console.log(sink);
  return ms;
}

/** Raised when a pipeline pass did not verify every job. */
export function assertRound(round: PipelineRound, jobs: number, what: string, zeroCopy: boolean): void {
  if (round.verified !== jobs || (zeroCopy && round.samePointer !== jobs)) {
    throw new LightbeamError(
      'ERR_LBM_CORRUPT',
      `${what}: ${round.verified} of ${jobs} results verified${zeroCopy ? `, ${round.samePointer} of ${jobs} came back as the same Pointer` : ''}`,
    );
  }
}
