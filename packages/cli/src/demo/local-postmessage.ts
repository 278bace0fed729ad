/**
 * Act 1, the baseline: the same workloads over `postMessage`, as one writes them without
 * Lightbeam, in two flavours. `clone`: the payload is copied by structured clone on the way to the
 * worker and back (the producer reuses one source buffer, since the clone is a copy). `transfer`:
 * the payload's ArrayBuffer is transferred both ways, no copy, and buffers that come back are
 * reused. A fan-out cannot transfer one buffer to several workers: each gets its own copy,
 * transferred. A chain links its workers with a `MessageChannel` each, so a payload goes from
 * stage to stage directly, as one would wire it by hand. Same window, same verification as the
 * Lightbeam path.
 */
import { CliError } from '../common/cli-error.js';
import type { LocalWorkers, WorkerReply } from './local-workers.js';
import type { LocalRunResult, LocalWorkload } from './local-workload.js';
import { RunTally, messagesOf } from './local-workload.js';
import { fillPayload } from './payload.js';

/** How the baseline passes the bytes. */
export type PostMode = 'clone' | 'transfer';

/**
 * Runs workload `w` once over `postMessage`.
 *
 * @param w - the workload
 * @param want - its expected checksums
 * @param workers - the act's threads
 * @param how - clone or transfer
 * @param timeoutMs - longest quiet time before the run fails
 * @param onProgress - called with the fraction of the run verified
 * @throws CliError when a worker fails or nothing happens for `timeoutMs`
 */
export async function runPostMessageLocal(w: LocalWorkload, want: Uint32Array, workers: LocalWorkers, how: PostMode, timeoutMs: number, onProgress: (fraction: number) => void): Promise<LocalRunResult> {
  const n = workers.size;
  const transfer = how === 'transfer';
  const total = messagesOf(w, n);
  const chain = w.mode === 'chain';
  const tally = new RunTally();
  const spare: Uint8Array[] = [];
  const source = new Uint8Array(w.size);
  const inFlight = new Int32Array(n);
  const answers = new Uint8Array(w.count);
  let payloadsOut = 0;
  let sent = 0;
  const buffer = (): Uint8Array => spare.pop() ?? new Uint8Array(w.size);
  const post = (i: number, seq: number, data: Uint8Array): void => {
    workers.threads[i].postMessage({ op: 'pm', mode: w.mode, seq, key: w.key, data, transfer }, transfer ? [data.buffer as ArrayBuffer] : []);
  };
  // Fills the windows: a pipeline sends each payload to one worker in turn, a fan-out to all.
  const produce = (): void => {
    if (w.mode !== 'fan') {
      // A chain has one entrance (worker 0) and one window for the whole row of stages.
      while (sent < w.count && inFlight[chain ? 0 : sent % n] < w.window) {
        const data = transfer ? buffer() : source;
        fillPayload(data, sent);
        post(chain ? 0 : sent % n, sent, data);
        inFlight[chain ? 0 : sent % n]++;
        sent++;
      }
    } else {
      while (sent < w.count && payloadsOut < w.window) {
        fillPayload(source, sent);
        for (let i = 0; i < n; i++) {
          if (transfer) {
            // One buffer cannot be transferred twice: each worker needs its own copy.
            const copy = buffer();
            copy.set(source);
            post(i, sent, copy);
          } else {
            post(i, sent, source);
          }
        }
        payloadsOut++;
        sent++;
      }
    }
  };
  // Linked before the first payload: the workers read their control messages in order.
  if (chain) workers.linkChain();
  const t0 = performance.now();
  const done = new Promise<void>((resolve, reject) => {
    let idle: NodeJS.Timeout = setTimeout(() => {}, 0);
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        workers.onReply(null);
        reject(new CliError(`act 1: postMessage ${how} ${w.name}: no reply for ${timeoutMs} ms (${tally.verified} of ${total} verified)`));
      }, timeoutMs);
    };
    arm();
    workers.onReply((i: number, r: WorkerReply) => {
      if (r.op !== 'pm' || r.seq === undefined) return;
      const seq = r.seq;
      tally.check(seq, w.mode !== 'fan' ? (r.data ?? null) : null, r.checksum ?? -1, want);
      if (w.mode !== 'fan') {
        if (r.data === undefined) tally.mismatches++;
        inFlight[chain ? 0 : i]--;
      } else if (++answers[seq] === n) {
        payloadsOut--;
      }
      if (transfer && r.data !== undefined) spare.push(r.data);
      if ((tally.verified & 31) === 0) onProgress(tally.verified / total);
      if (tally.verified === total) {
        clearTimeout(idle);
        workers.onReply(null);
        resolve();
        return;
      }
      arm();
      produce();
    });
    produce();
  });
  let ms: number;
  try {
    await Promise.race([done, workers.failure$()]);
    ms = performance.now() - t0;
  } finally {
    if (chain) workers.unlinkChain();
  }
  return { ms, verified: tally.verified, mismatches: tally.mismatches, firstMismatch: tally.firstMismatch };
}
