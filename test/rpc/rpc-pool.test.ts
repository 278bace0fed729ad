/**
 * The shared-memory RPC worker pool with real worker threads: EXPOSE arguments seen in place,
 * calls spread over the workers, a bounded queue with backpressure, workers that crash or are
 * terminated mid-call (their calls rejected, the worker replaced), and close settling everything.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, LbmMeta, LightbeamError } from '@lightbeam/core';
import type { RpcWorkerPool } from '@lightbeam/shm';
import { createRpcPool, defaultMemory } from '@lightbeam/shm';
import { withOwnMemory } from './support/own-memory.js';
import { NumMeta } from './support/num-meta.js';

const WORKER = new URL('../fixtures/rpc/pool-worker.mjs', import.meta.url);

const numReply = { reply: () => new NumMeta(), timeoutMs: 20_000 };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).to.be.instanceOf(LightbeamError);
    return (err as LightbeamError).code;
  }
}

/** Resolves once `cond` holds, checking at most 2000 times (bounded; no duration asserted). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).to.equal(true);
}

describe('RpcWorkerPool (kShm, worker threads)', function () {
  this.timeout(60_000);
  withOwnMemory();
  let pool: RpcWorkerPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('passes an EXPOSE bulk to the worker without a copy: the worker writes the caller\'s bytes', async () => {
    pool = createRpcPool(WORKER, { workers: 2 });
    await pool.started();
    const mem = defaultMemory();
    const ptr = mem.allocateOrThrow(4096);
    const full = mem.toFullPtr(ptr, 4096);
    full.ptr.fill(3);
    const req = new LbmMeta();
    req.send.push({ data: full, size: 4096, flags: BULK_EXPOSE });
    const reply = await pool.run('sum-and-invert', req, numReply);
    expect(reply.n).to.equal(3 * 4096);
    expect(full.ptr.every((b) => b === 252)).to.equal(true);
    mem.free(ptr);
  });

  it('spreads calls over its workers', async () => {
    pool = createRpcPool(WORKER, { workers: 2, concurrency: 1 });
    await pool.started();
    const replies = await Promise.all(Array.from({ length: 20 }, () => pool!.run('thread', new LbmMeta(), numReply)));
    expect(new Set(replies.map((r) => r.n)).size).to.equal(2);
  });

  it('bounds its queue: ERR_LBM_RPC_QUEUE_FULL beyond maxQueue, ready() once there is room', async () => {
    pool = createRpcPool(WORKER, { workers: 1, concurrency: 1, maxQueue: 2 });
    await pool.started();
    const running = code(pool.run('hang', new LbmMeta(), { timeoutMs: 20_000 }));
    const queued = [code(pool.run('empty', new LbmMeta(), { timeoutMs: 20_000 })), code(pool.run('empty', new LbmMeta(), { timeoutMs: 20_000 }))];
    expect(pool.queued).to.equal(2);
    expect(await code(pool.run('empty', new LbmMeta()))).to.equal('ERR_LBM_RPC_QUEUE_FULL');
    let roomSeen = false;
    const room = pool.ready().then(() => (roomSeen = true));
    await new Promise((r) => setImmediate(r));
    expect(roomSeen).to.equal(false);
    // Terminating the worker fails the running call; the replacement drains the queue.
    await pool.threads[0]?.terminate();
    expect(await running).to.equal('ERR_LBM_RPC_PEER_LOST');
    expect(await Promise.all(queued)).to.deep.equal(['resolved', 'resolved']);
    await room;
    expect(roomSeen).to.equal(true);
  });

  it('rejects the calls of a worker terminated mid-call with ERR_LBM_RPC_PEER_LOST and replaces it', async () => {
    pool = createRpcPool(WORKER, { workers: 1 });
    await pool.started();
    const first = pool.threads[0];
    const calls = Array.from({ length: 5 }, () => code(pool!.run('hang', new LbmMeta(), { timeoutMs: 20_000 })));
    await until(() => pool!.inFlight === 5);
    await first?.terminate();
    expect(await Promise.all(calls)).to.deep.equal(Array(5).fill('ERR_LBM_RPC_PEER_LOST'));
    const after = await pool.run('thread', new LbmMeta(), numReply);
    expect(after.n).to.not.equal(first?.threadId);
    expect(pool.stats.workersLost).to.equal(1);
  });

  it('names the lost worker (its thread id, not -1) in the PEER_LOST message (issue 22.3)', async () => {
    pool = createRpcPool(WORKER, { workers: 1 });
    await pool.started();
    const first = pool.threads[0] as NonNullable<(typeof pool.threads)[number]>;
    const id = first.threadId;
    const call = pool.run('hang', new LbmMeta(), { timeoutMs: 20_000 }).catch((e: unknown) => e);
    await until(() => pool!.inFlight === 1);
    await first.terminate();
    const err = (await call) as LightbeamError;
    expect(err.code).to.equal('ERR_LBM_RPC_PEER_LOST');
    expect(err.message).to.include(`pool worker ${id} exited`);
  });

  it('survives a worker that crashes with an uncaught exception mid-call', async () => {
    pool = createRpcPool(WORKER, { workers: 2 });
    await pool.started();
    expect(await code(pool.run('crash', new LbmMeta(), { timeoutMs: 20_000 }))).to.equal('ERR_LBM_RPC_PEER_LOST');
    await pool.started();
    const ok = await Promise.all(Array.from({ length: 10 }, () => code(pool!.run('empty', new LbmMeta(), { timeoutMs: 20_000 }))));
    expect(ok).to.deep.equal(Array(10).fill('resolved'));
  });

  it('close() rejects queued and running calls with ERR_LBM_CLOSED and ends the workers', async () => {
    pool = createRpcPool(WORKER, { workers: 1, concurrency: 2 });
    await pool.started();
    const calls = Array.from({ length: 6 }, () => code(pool!.run('hang', new LbmMeta(), { timeoutMs: 20_000 })));
    await until(() => pool!.inFlight === 2);
    const threads = pool.threads;
    await pool.close();
    expect(await Promise.all(calls)).to.deep.equal(Array(6).fill('ERR_LBM_CLOSED'));
    expect(threads[0]?.threadId).to.equal(-1);
    expect(await code(pool.run('empty', new LbmMeta()))).to.equal('ERR_LBM_CLOSED');
  });

  it('frees the place of a call its client refuses before sending (an aborted signal)', async () => {
    // The client counts each call out as it settles (no second promise per call): a call refused
    // before it was sent must free its place too, or with concurrency 1 the next call would
    // wait in the queue until it timed out.
    pool = createRpcPool(WORKER, { workers: 1, concurrency: 1 });
    await pool.started();
    const aborted = AbortSignal.abort();
    expect(await code(pool.run('empty', new LbmMeta(), { signal: aborted }))).to.equal('ERR_LBM_RPC_CANCELED');
    expect(pool.inFlight).to.equal(0);
    expect(pool.stats.failed).to.equal(1);
    expect((await pool.run('thread', new LbmMeta(), { ...numReply, timeoutMs: 5_000 })).n).to.be.greaterThan(0);
    expect(pool.stats.completed).to.equal(1);
  });

  it('times out a call that waits in the queue past its deadline', async () => {
    pool = createRpcPool(WORKER, { workers: 1, concurrency: 1 });
    await pool.started();
    const hang = code(pool.run('hang', new LbmMeta(), { timeoutMs: 20_000 }));
    expect(await code(pool.run('empty', new LbmMeta(), { timeoutMs: 20 }))).to.equal('ERR_LBM_RPC_TIMEOUT');
    await pool.close();
    expect(await hang).to.equal('ERR_LBM_CLOSED');
  });

  it('stops replacing workers whose script dies before serving, and rejects calls with ERR_LBM_RPC_PEER_LOST', async () => {
    pool = createRpcPool(new URL('../fixtures/rpc/bad-worker.mjs', import.meta.url), { workers: 1, maxStartFailures: 3 });
    const queued = code(pool.run('empty', new LbmMeta(), { timeoutMs: 20_000 }));
    await pool.started();
    expect(await queued).to.equal('ERR_LBM_RPC_PEER_LOST');
    expect(await code(pool.run('empty', new LbmMeta()))).to.equal('ERR_LBM_RPC_PEER_LOST');
    expect(pool.stats.workersLost).to.equal(3);
  });
});
