/**
 * A piscina pipeline over shared memory: the main thread fills each job's bytes in a slab block,
 * feeds a piscina pool (made with `createPool`, so every worker is attached to the same memory)
 * over `Transport.kShm` with EXPOSE bulks, each worker transforms the bytes in place and hands
 * the same block back as a pointer on a results channel, and the main thread verifies every
 * checksum through its own view. Nothing is copied. The same jobs also go through a
 * `createRpcPool` pool (one call per job, its EXPOSE bulk the job's block, transformed in place by
 * the worker's handler), and through the piscina workers over plain piscina (structured clone,
 * then transfer lists). The faster of the two Lightbeam ways is named, and every ratio is taken
 * against it.
 *
 * Run: `npx tsx examples/piscina-pipeline.ts [--jobs 64] [--size 262144] [--workers 2] [--rounds 3]`
 * (or LBM_JOBS, LBM_SIZE, LBM_WORKERS, LBM_ROUNDS).
 */
import { MemoryManager, createPool, createRpcPool } from '@lightbeam/shm';
import type { PipelineRound } from './piscina-pipeline-run.js';
import { availableParallelism } from 'node:os';
import { PIPELINE_RPC_WORKER, PIPELINE_WORKER, ShmPipeline, assertRound, freeShmJobs, makePlainJobs, makeShmJobs, processPlain, processRpc, refillPlain, refillShmJobs, workAlone } from './piscina-pipeline-run.js';
import { run, strArg } from './zmq-example-args.js';

function positive(flag: string, env: string, dflt: number, max: number): number {
  const raw = strArg(flag, env, String(dflt));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${flag} must be an integer in [1, ${max}], got ${raw}`);
  return n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

run(async () => {
  const jobs = positive('--jobs', 'LBM_JOBS', 64, 4096);
  const size = positive('--size', 'LBM_SIZE', 256 * 1024, 64 << 20);
  const workers = positive('--workers', 'LBM_WORKERS', 2, 64);
  const rounds = positive('--rounds', 'LBM_ROUNDS', 3, 100);
  if (size % 4 !== 0) throw new RangeError(`--size must be a multiple of 4, got ${size}`);
  const regionBytes = Math.max(16 << 20, 2 ** Math.ceil(Math.log2(jobs * size * 1.25 + (4 << 20))));
  const manager = MemoryManager.create({ regionBytes: Math.min(regionBytes, 1 << 30) });
  const pool = createPool({ manager, filename: PIPELINE_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
  const rpcPool = createRpcPool(PIPELINE_RPC_WORKER, { manager, workers, workerOptions: { execArgv: [] } });
  try {
    await rpcPool.started();
    const shmJobs = makeShmJobs(manager, { jobs, size });
    const plainJobs = makePlainJobs({ jobs, size });
    const times: Record<'shm' | 'rpc' | 'clone' | 'transfer' | 'work', number[]> = { shm: [], rpc: [], clone: [], transfer: [], work: [] };
    const cpu: Record<'shm' | 'rpc' | 'clone' | 'transfer', number[]> = { shm: [], rpc: [], clone: [], transfer: [] };
    let last: PipelineRound | null = null;
    const served: number[] = [];
    // Alternate the three pipelines round by round, so a load change hits all of them. The kShm
    // serve tasks hold the pool's workers, so they stop before the plain passes use the same workers.
    for (let r = 0; r < rounds; r++) {
      const pipeline = await ShmPipeline.start(pool, workers, `pipeline-${process.pid}`);
      refillShmJobs(shmJobs);
      last = await pipeline.process(shmJobs);
      served.push(...(await pipeline.stop()).map((s) => s.served));
      assertRound(last, jobs, 'kShm pipeline', true);
      times.shm.push(last.ms);
      cpu.shm.push(last.cpuMs);
      refillShmJobs(shmJobs);
      const rpcRound = await processRpc(rpcPool, shmJobs);
      assertRound(rpcRound, jobs, 'createRpcPool pipeline', true);
      times.rpc.push(rpcRound.ms);
      cpu.rpc.push(rpcRound.cpuMs);
      for (const mode of ['clone', 'transfer'] as const) {
        refillPlain(plainJobs);
        const round = await processPlain(pool, plainJobs, mode);
        assertRound(round, jobs, `plain piscina (${mode})`, false);
        times[mode].push(round.ms);
        cpu[mode].push(round.cpuMs);
      }
      times.work.push(workAlone(shmJobs));
    }
    freeShmJobs(manager, shmJobs);
    const mib = (jobs * size) / (1 << 20);
    const fastest = median(times.rpc) < median(times.shm) ? 'rpc' : 'shm';
    const best = median(times[fastest]);
    const row = (name: string, ms: number, cpuMs: number): Record<string, string> => ({
      pipeline: name,
      'ms/pass': ms.toFixed(2),
      'CPU ms/pass': cpuMs.toFixed(2),
      'jobs/s': ((jobs / ms) * 1000).toFixed(0),
      'MiB/s': ((mib / ms) * 1000).toFixed(1),
      'Lightbeam speedup': `${(ms / best).toFixed(2)}x`,
    });
    console.log(`${jobs} jobs x ${size} bytes, ${workers} workers per pool, median of ${rounds} passes`);
    console.table([
      row('kShm EXPOSE (zero copy)', median(times.shm), median(cpu.shm)),
      row('createRpcPool EXPOSE (zero copy)', median(times.rpc), median(cpu.rpc)),
      row('piscina structured clone', median(times.clone), median(cpu.clone)),
      row('piscina transfer list', median(times.transfer), median(cpu.transfer)),
    ]);
    // The floor no pipeline can go under: the work alone, spread perfectly over the threads that
    // can run at once (the workers, or the cores if fewer), the main thread's share included.
    const lanes = Math.min(workers, availableParallelism());
    const work = median(times.work);
    console.log(
      `physical limit: the work alone (transform and both checksums of every job, no hand-off) takes ${work.toFixed(2)} ms on one thread, ` +
        `${(work / lanes).toFixed(2)} ms spread perfectly over ${lanes} cores; the fastest Lightbeam pass is ${(best / (work / lanes)).toFixed(2)}x that floor, ` +
        `piscina transfer ${(median(times.transfer) / (work / lanes)).toFixed(2)}x`,
    );
    console.log(`fastest Lightbeam way here: ${fastest === 'rpc' ? 'createRpcPool' : 'kShm channels in piscina workers'} (speedups are against it)`);
    console.log(`jobs per worker in the last kShm pass: ${[...(last?.perWorker.values() ?? [])].join(', ')}; served per serve task: ${served.join(', ')}`);
    const inUse = manager.stats().reduce((n, s) => n + s.blocksInUse, 0);
    console.log(`OK: ${jobs * rounds} kShm results verified, each the main thread's own Pointer; ${jobs * rounds} createRpcPool results verified, each the main thread's own Pointer; ${jobs * rounds * 2} plain results verified; ${inUse} blocks in use (channel rings and directory)`);
  } finally {
    await rpcPool.close();
    await pool.destroy();
    manager.detach();
  }
});
