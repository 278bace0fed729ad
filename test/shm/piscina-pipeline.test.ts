// The piscina pipeline of examples/piscina-pipeline.ts, run for real: pool workers attached to
// the main thread's memory transform EXPOSE blocks in place over kShm and hand them back as
// pointers; plain piscina (clone, transfer) runs the same jobs on the same workers.
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { BULK_EXPOSE, Transport, TransportFactory, pointerEquals } from '@lightbeam/core';
import { MemoryManager, createPool } from '@lightbeam/shm';
import {
  PIPELINE_WORKER,
  ShmPipeline,
  freeShmJobs,
  makePlainJobs,
  makeShmJobs,
  processPlain,
  refillShmJobs,
} from '../../examples/piscina-pipeline-run.js';
import { JobMeta, fillJob, transformInPlace } from '../../examples/piscina-pipeline-shared.mjs';
import { startNode } from '../zmq/support/child.js';

const WORKERS = 2;
const JOBS = 12;
const SIZE = 16 * 1024;

const blocksInUse = (m: MemoryManager): number => m.stats().reduce((n, s) => n + s.blocksInUse, 0);

/** Job `jobId`'s expected output, computed in private memory. */
function expectedBytes(jobId: number, key: number): Uint8Array {
  const v = new Uint8Array(SIZE);
  fillJob(v, jobId);
  transformInPlace(v, key);
  return v;
}

describe('piscina pipeline over kShm', function () {
  this.timeout(60_000);
  let manager: MemoryManager;
  let pool: Piscina;
  let prefix: string;

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 8 << 20 });
    pool = createPool({ manager, filename: PIPELINE_WORKER, minThreads: WORKERS, maxThreads: WORKERS, execArgv: [] });
    prefix = `pipe-test-${Math.random().toString(36).slice(2)}`;
  });
  afterEach(async () => {
    await pool.destroy();
    manager.detach();
  });

  it('transforms every block in place in the workers; the main thread sees the bytes through its own view, same Pointer, no leaked block', async () => {
    const pipeline = await ShmPipeline.start(pool, WORKERS, prefix);
    // The channel rings exist now; everything allocated after this must be freed again.
    const before = blocksInUse(manager);
    const jobs = makeShmJobs(manager, { jobs: JOBS, size: SIZE });
    const pointers = jobs.map((j) => j.block.shm);
    expect(blocksInUse(manager)).to.equal(before + JOBS);

    for (let pass = 0; pass < 2; pass++) {
      refillShmJobs(jobs);
      const round = await pipeline.process(jobs);
      expect(round.verified, 'checksums').to.equal(JOBS);
      expect(round.samePointer, 'results came back as the job pointers').to.equal(JOBS);
      expect([...round.perWorker.values()].reduce((a, b) => a + b, 0)).to.equal(JOBS);
      expect(round.perWorker.size, 'both workers served jobs').to.equal(WORKERS);
      for (const j of jobs) {
        // Byte for byte, read through the main thread's own FullPtr made before the job was sent.
        expect(Buffer.from(j.block.ptr).equals(Buffer.from(expectedBytes(j.jobId, j.key))), `job ${j.jobId}`).to.equal(true);
      }
    }
    jobs.forEach((j, i) => expect(pointerEquals(j.block.shm, pointers[i])).to.equal(true));

    const served = await pipeline.stop();
    expect(served.map((s) => s.served).reduce((a, b) => a + b, 0)).to.equal(2 * JOBS);
    expect(new Set(served.map((s) => s.threadId)).size, 'one serve task per worker').to.equal(WORKERS);
    freeShmJobs(manager, jobs);
    expect(blocksInUse(manager), 'blocks in use after freeing the jobs').to.equal(before);
  });

  it('plain piscina (clone and transfer) gives the same results on the same data and workers', async () => {
    const jobs = makePlainJobs({ jobs: JOBS, size: SIZE });
    const cloned = await processPlain(pool, jobs, 'clone');
    expect(cloned.verified).to.equal(JOBS);
    // Clone leaves the inputs untouched: a transfer pass starts from the same bytes.
    const moved = await processPlain(pool, jobs, 'transfer');
    expect(moved.verified).to.equal(JOBS);
    for (const j of jobs) expect(Buffer.from(j.data).equals(Buffer.from(expectedBytes(j.jobId, j.key)))).to.equal(true);
    // The kShm pipeline on the same pool afterwards: the same checksums.
    const pipeline = await ShmPipeline.start(pool, WORKERS, prefix);
    const shmJobs = makeShmJobs(manager, { jobs: JOBS, size: SIZE });
    const round = await pipeline.process(shmJobs);
    await pipeline.stop();
    expect(round.verified).to.equal(JOBS);
    expect(shmJobs.map((j) => j.expected)).to.deep.equal(jobs.map((j) => j.expected));
    freeShmJobs(manager, shmJobs);
  });

  it('a job whose EXPOSE bulk is private memory makes its serve task fail with a clear error; the pool keeps working', async () => {
    const pipeline = await ShmPipeline.start(pool, 1, prefix);
    const client = await TransportFactory.getClient(`${prefix}-in-0`, Transport.kShm);
    const job = new JobMeta();
    job.jobId = 99;
    const privateBytes = new Uint8Array(SIZE);
    job.send.push(client.expose(privateBytes, SIZE, BULK_EXPOSE));
    expect(await client.send(job, { timeoutMs: 5000 })).to.equal(0);
    let failure: unknown = null;
    await pipeline.done.catch((err: unknown) => {
      failure = err;
    });
    expect(String(failure)).to.match(/job 99 arrived without its shared bytes/);
    expect(privateBytes.every((b) => b === 0), 'private bytes untouched').to.equal(true);
    await client.close();
    await pipeline.close();
    // The same channel name binds again and the pipeline runs.
    const again = await ShmPipeline.start(pool, WORKERS, prefix);
    const jobs = makeShmJobs(manager, { jobs: 4, size: SIZE });
    expect((await again.process(jobs)).verified).to.equal(4);
    await again.stop();
    freeShmJobs(manager, jobs);
  });
});

describe('examples/piscina-pipeline.ts (child process)', function () {
  this.timeout(90_000);
  const example = fileURLToPath(new URL('../../examples/piscina-pipeline.ts', import.meta.url));

  it('runs all four pipelines, verifies every result, names the fastest Lightbeam way and prints the comparison', async () => {
    const child = startNode(['--import', 'tsx', example, '--jobs', '8', '--size', '8192', '--rounds', '2'], {});
    expect(await child.exited(80_000), child.stderr()).to.equal(0);
    const out = child.stdout();
    expect(out).to.include('kShm EXPOSE (zero copy)').and.include('createRpcPool EXPOSE (zero copy)').and.include('piscina structured clone').and.include('piscina transfer list');
    expect(out).to.match(/fastest Lightbeam way here: (createRpcPool|kShm channels in piscina workers)/);
    expect(out).to.include("OK: 16 kShm results verified, each the main thread's own Pointer; 16 createRpcPool results verified, each the main thread's own Pointer; 32 plain results verified");
  });

  it('rejects a size that is not a multiple of 4 with a message and exit code 1', async () => {
    const child = startNode(['--import', 'tsx', example, '--size', '1001'], {});
    expect(await child.exited(60_000)).to.equal(1);
    expect(child.stderr()).to.match(/FAILED: --size must be a multiple of 4, got 1001/);
  });
});
