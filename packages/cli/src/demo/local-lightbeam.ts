/**
 * Act 1, the Lightbeam path, written as a performance-minded user would: the producer (this
 * thread) fills each payload in a slab block and hands it to a worker as a BULK_EXPOSE
 * descriptor (`sendNow`, 16 bytes of pointer, no copy); the worker transforms the bytes in place
 * and moves the very block on to the consumer (`exposeMove`, no copy); the consumer (this thread
 * again) receives it in place (a `recv` entry without a buffer), verifies it and releases it,
 * which frees the block. In a fan-out every worker gets a descriptor of the same block and
 * answers with the checksum of what it read; the block is freed after the last answer. One
 * reused meta per direction; nothing is copied on the way.
 */
import type { Bulk, Client, Server } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, EAGAIN, LBM_OK, Transport, TransportFactory, strerror } from '@lightbeam/core';
import type { Pointer } from '@lightbeam/core';
import type { MemoryManager } from '@lightbeam/shm';
import { CliError } from '../common/cli-error.js';
import type { LocalWorkers } from './local-workers.js';
import type { LocalRunResult, LocalWorkload } from './local-workload.js';
import { RunTally } from './local-workload.js';
import { DemoMeta, fillPayload } from './payload.js';

/**
 * Runs workload `w` once over Transport.kShm.
 *
 * @param w - the workload
 * @param want - its expected checksums
 * @param workers - the act's threads
 * @param manager - this thread's shared memory
 * @param timeoutMs - longest quiet time before the run fails
 * @param onProgress - called with the fraction of the run verified
 * @throws CliError when a step fails or nothing happens for `timeoutMs`
 */
export async function runLightbeamLocal(
  w: LocalWorkload,
  want: Uint32Array,
  workers: LocalWorkers,
  manager: MemoryManager,
  timeoutMs: number,
  onProgress: (fraction: number) => void,
): Promise<LocalRunResult> {
  const n = workers.size;
  const channelOf = (i: number): string => `${w.stem}-w${i}`;
  const resultsName = `${w.stem}-results`;
  // Room for every message that can be in flight at once: no send ever finds a full ring.
  const resultsCapacity = 2 ** Math.ceil(Math.log2(w.window * n));
  const results = await TransportFactory.getServer(resultsName, Transport.kShm, undefined, undefined, { capacity: resultsCapacity });
  const clients: Client[] = [];
  const failed = workers.failure$();
  try {
    // A chain's stage i sends to stage i + 1, its last stage (and every other kind's worker) to us.
    const nextOf = (i: number): string => (w.mode === 'chain' && i < n - 1 ? channelOf(i + 1) : resultsName);
    await Promise.race([workers.bind(w.mode, channelOf, nextOf, w.window, timeoutMs), failed]);
    for (let i = 0; i < n; i++) clients.push(await TransportFactory.getClient(channelOf(i), Transport.kShm));
    const loop = w.mode === 'fan' ? fanOut : pipeline;
    const r = await Promise.race([loop(w, want, clients, results, manager, timeoutMs, onProgress), failed]);
    const stop = new DemoMeta();
    stop.stop = true;
    for (let i = 0; i < n; i++) {
      const rc = await clients[i].send(stop, { timeoutMs });
      if (rc !== LBM_OK) throw new CliError(`act 1: stop to ${channelOf(i)} failed: ${strerror(rc)}`);
    }
    await Promise.race([workers.finished(timeoutMs), failed]);
    return r;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await results.close();
  }
}

/**
 * Producer -> worker (EXPOSE) -> consumer (moved block, received in place); in a chain the
 * producer sends every payload to stage 0 and the stages move the block along.
 */
async function pipeline(w: LocalWorkload, want: Uint32Array, clients: Client[], results: Server, manager: MemoryManager, timeoutMs: number, onProgress: (f: number) => void): Promise<LocalRunResult> {
  // A chain has one entrance and one window for the whole row of stages.
  const n = w.mode === 'chain' ? 1 : clients.length;
  const out = new DemoMeta();
  out.key = w.key;
  const back = new DemoMeta();
  // The in-place receive entry: no buffer, so recvBulks shows the moved block itself.
  const inPlace: Bulk = { data: null, size: w.size, flags: BULK_XFER };
  const inFlight = new Int32Array(n);
  const tally = new RunTally();
  let sent = 0;
  const t0 = performance.now();
  while (tally.verified < w.count) {
    // Produce while the next worker has room in its window (its ring has exactly that many slots).
    while (sent < w.count && inFlight[sent % n] < w.window) {
      const i = sent % n;
      // A fresh slab block per payload: the consumer's release frees it; null means the slab is
      // full right now, so take results (which frees blocks) before producing more.
      const block = manager.allocate(w.size);
      if (block === null) break;
      const full = manager.toFullPtr(block, w.size);
      fillPayload(full.ptr, sent);
      out.seq = sent;
      out.send[0] = clients[i].expose(full, w.size, BULK_EXPOSE);
      const rc = clients[i].sendNow(out);
      if (rc !== LBM_OK) {
        manager.free(block);
        if (rc === EAGAIN) break;
        throw new CliError(`act 1: sendNow of message ${sent} failed: ${strerror(rc)}`);
      }
      inFlight[i]++;
      sent++;
    }
    // Take every result that is ready before producing again: the workers then get their next
    // messages in bursts and park less often.
    let rc = await receive(results, back, timeoutMs, tally.verified, w.count);
    while (rc === LBM_OK) {
      back.recv.length = 0;
      inPlace.data = null;
      back.recv.push(inPlace);
      const got = results.recvBulksNow(back);
      if (got !== LBM_OK) throw new CliError(`act 1: recvBulks of message ${back.seq} failed: ${strerror(got)}`);
      tally.check(back.seq, inPlace.data === null ? null : (inPlace.data as NonNullable<Bulk['data']>).ptr, back.checksum, want);
      // Frees the moved block: the message owned it, and nobody copied it on the way.
      results.release(back);
      inFlight[back.seq % n]--;
      if ((tally.verified & 31) === 0) onProgress(tally.verified / w.count);
      rc = results.recvMetadataNow(back);
    }
    if (rc !== EAGAIN) throw new CliError(`act 1: receiving result ${tally.verified + 1} of ${w.count}: ${strerror(rc)}`);
  }
  return { ms: performance.now() - t0, verified: tally.verified, mismatches: tally.mismatches, firstMismatch: tally.firstMismatch };
}

/** Producer -> every worker (EXPOSE of one block) -> consumer (each worker's checksum). */
async function fanOut(w: LocalWorkload, want: Uint32Array, clients: Client[], results: Server, manager: MemoryManager, timeoutMs: number, onProgress: (f: number) => void): Promise<LocalRunResult> {
  const n = clients.length;
  const out = new DemoMeta();
  const back = new DemoMeta();
  const answers = new Uint8Array(w.count);
  const blocks = new Map<number, Pointer>();
  const tally = new RunTally();
  const total = w.count * n;
  let sent = 0;
  const t0 = performance.now();
  while (tally.verified < total) {
    while (sent < w.count && blocks.size < w.window) {
      const block = manager.allocate(w.size);
      if (block === null) break;
      const full = manager.toFullPtr(block, w.size);
      fillPayload(full.ptr, sent);
      out.seq = sent;
      for (let i = 0; i < n; i++) {
        // The same block to every worker: one descriptor each, the bytes never copied.
        out.send[0] = clients[i].expose(full, w.size, BULK_EXPOSE);
        const rc = clients[i].sendNow(out);
        if (rc !== LBM_OK) throw new CliError(`act 1: fan-out sendNow of message ${sent} to worker ${i} failed: ${strerror(rc)}`);
      }
      blocks.set(sent, block);
      sent++;
    }
    let rc = await receive(results, back, timeoutMs, tally.verified, total);
    while (rc === LBM_OK) {
      tally.check(back.seq, null, back.checksum, want);
      results.release(back);
      if (++answers[back.seq] === n) {
        // Every worker has read it: the application owns exposed blocks and frees them.
        const b = blocks.get(back.seq);
        if (b !== undefined) manager.free(b);
        blocks.delete(back.seq);
      }
      if ((tally.verified & 15) === 0) onProgress(tally.verified / total);
      rc = results.recvMetadataNow(back);
    }
    if (rc !== EAGAIN) throw new CliError(`act 1: receiving answer ${tally.verified + 1} of ${total}: ${strerror(rc)}`);
  }
  return { ms: performance.now() - t0, verified: tally.verified, mismatches: tally.mismatches, firstMismatch: tally.firstMismatch };
}

/** The next result: at once if one is ready, else waiting (the event loop keeps running). Resolves LBM_OK. */
async function receive(results: Server, meta: DemoMeta, timeoutMs: number, done: number, total: number): Promise<number> {
  let rc = results.recvMetadataNow(meta);
  if (rc === EAGAIN) rc = await results.waitMetadata(meta, { timeoutMs });
  if (rc !== LBM_OK) throw new CliError(`act 1: waiting for result ${done + 1} of ${total}: ${strerror(rc)}`);
  return rc;
}
