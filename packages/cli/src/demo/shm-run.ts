/**
 * The Lightbeam path of `lightbeam demo`: the producer (this thread) fills each payload in a slab
 * block and hands it to a piscina worker over `Transport.kShm` as a BULK_EXPOSE bulk (16 bytes of
 * pointer, no copy); the worker transforms the very bytes in place and sends the result to the
 * bridge's shm channel as BULK_XFER; the bridge egress forwards it over TCP to the far side.
 */
import type { Client, Pointer } from '@lightbeam/core';
import { BULK_EXPOSE, LBM_OK, Transport, TransportFactory, strerror } from '@lightbeam/core';
import type { MemoryManager } from '@lightbeam/shm';
import type { Bridge } from '@lightbeam/zmq-bridge';
import type { Piscina } from 'piscina';
import { CliError } from '../common/cli-error.js';
import { DemoMeta, fillPayload, sharedNowMs } from './payload.js';

/** What both local runs need. */
export interface LocalRunContext {
  /** This process's shared memory. */
  manager: MemoryManager;
  /** The worker pool (attached to `manager`). */
  pool: Piscina;
  /** Workers in the pool. */
  workers: number;
  /** Messages in flight per worker (kShm: the slots of its input ring). */
  perWorker: number;
  /** Messages to send. */
  count: number;
  /** Payload bytes per message. */
  size: number;
  /** The transform key of the run. */
  key: number;
  /** Damage every N-th payload after its checksum (0: never). */
  corruptEvery: number;
  /** Longest wait for any single step. */
  timeoutMs: number;
  /** Called with the number of messages handed to the network so far. */
  onProgress: (sent: number) => void;
}

/** What the local side saw of the kShm run. */
export interface ShmRunReport {
  /** Messages each worker served. */
  served: number[];
  /** Messages the bridge egress forwarded. */
  forwarded: number;
  /** Messages the bridge egress could not forward (its counters). */
  undelivered: number;
}

/**
 * Runs the kShm path once; resolves when the bridge handed every result to ZeroMQ.
 *
 * @param ctx - the run
 * @param bridge - the local bridge, serving `resultsChannel`
 * @param resultsChannel - the channel the workers send results to
 * @throws CliError naming the step that failed
 */
export async function runShmPath(ctx: LocalRunContext, bridge: Bridge, resultsChannel: string): Promise<ShmRunReport> {
  const { manager, pool, workers, count, size, timeoutMs } = ctx;
  const base = bridge.stats().egress;
  const egress = (): { forwarded: number; undelivered: number } => {
    const e = bridge.stats().egress;
    return { forwarded: e.forwarded - base.forwarded, undelivered: e.undelivered - base.undelivered };
  };
  const channels = Array.from({ length: workers }, (_, i) => `work-${i}`);
  const serving = channels.map((channel) =>
    (pool.run({ op: 'serve', channel, results: resultsChannel, capacity: ctx.perWorker, corruptEvery: ctx.corruptEvery, timeoutMs }) as Promise<{ served: number }>).catch((err: unknown) => {
      throw new CliError(`kShm worker on ${channel} failed: ${(err as Error).message}`);
    }),
  );
  // The first worker failure ends the producer at once instead of after a send timeout.
  const failed = Promise.all(serving).then(() => new Promise<never>(() => {}));
  failed.catch(() => undefined);
  const clients: Client[] = await Promise.all(channels.map((c) => TransportFactory.getClient(c, Transport.kShm)));
  try {
    const meta = new DemoMeta();
    meta.key = ctx.key;
    let lastProgress = 0;
    for (let seq = 0; seq < count; seq++) {
      const p = await allocate(manager, size, timeoutMs, failed);
      const full = manager.toFullPtr(p, size);
      fillPayload(full.ptr, seq);
      const w = seq % workers;
      const client = clients[w];
      meta.seq = seq;
      meta.sentAt = sharedNowMs();
      meta.send = [client.expose(full, size, BULK_EXPOSE)];
      const rc = await Promise.race([client.send(meta, { timeoutMs }), failed]);
      if (rc !== LBM_OK) {
        manager.free(p);
        // A full worker ring usually means the worker itself is stuck on the bridge's channel (the
        // remote side is gone); its own error says so, and it times out at about the same time as
        // this send. Prefer it when it comes.
        await Promise.race([failed, sleep(timeoutMs)]);
        throw new CliError(`kShm send of message ${seq} to ${channels[w]} failed: ${strerror(rc)}`);
      }
      if (seq - lastProgress >= 64) {
        lastProgress = seq;
        ctx.onProgress(egress().forwarded);
      }
    }
    const stop = new DemoMeta();
    stop.stop = true;
    for (let w = 0; w < workers; w++) {
      const rc = await Promise.race([clients[w].send(stop, { timeoutMs }), failed]);
      if (rc !== LBM_OK) throw new CliError(`kShm stop to ${channels[w]} failed: ${strerror(rc)}`);
    }
    const served = (await withTimeout(Promise.all(serving), timeoutMs, 'the kShm workers did not finish')).map((s) => s.served);
    // Every result is in the bridge's channel now; wait until the egress handed each to ZeroMQ.
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const e = egress();
      ctx.onProgress(e.forwarded);
      if (e.forwarded + e.undelivered >= count) return { served, ...e };
      if (performance.now() > deadline) {
        throw new CliError(`the bridge forwarded ${e.forwarded} of ${count} messages within ${timeoutMs} ms`);
      }
      await sleep(5);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** Allocates a block, waiting while the slab is full (the workers free blocks as they finish). */
async function allocate(manager: MemoryManager, size: number, timeoutMs: number, failed: Promise<never>): Promise<Pointer> {
  let p = manager.allocate(size);
  if (p !== null) return p;
  const deadline = performance.now() + timeoutMs;
  while (p === null) {
    if (performance.now() > deadline) throw new CliError(`no ${size}-byte block free in shared memory within ${timeoutMs} ms`);
    await Promise.race([sleep(1), failed]);
    p = manager.allocate(size);
  }
  return p;
}

/**
 * Rejects with a CliError when `p` takes longer than `ms`.
 *
 * @param what - the message's start
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CliError(`${what} within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
