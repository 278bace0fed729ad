/**
 * The baseline path of `lightbeam demo`, what one writes without Lightbeam: the producer fills a
 * plain buffer, the pool's workers get a copy by structured clone (postMessage) and post the
 * result back (another copy), and this thread forwards it with a raw zeromq.js PUSH to the far
 * side, which verifies the same checksums.
 */
import { Push } from 'zeromq';
import { CliError } from '../common/cli-error.js';
import { encodeBaselineHeader, fillPayload, sharedNowMs } from './payload.js';
import type { LocalRunContext } from './shm-run.js';
import { withTimeout } from './shm-run.js';

/**
 * Runs the baseline once; resolves when every message was handed to ZeroMQ.
 *
 * @param ctx - the run
 * @param url - the far side's PULL (`tcp://host:port`)
 * @throws CliError naming the step that failed
 */
export async function runBaselinePath(ctx: LocalRunContext, url: string): Promise<void> {
  const { pool, workers, perWorker, count, size, key, timeoutMs } = ctx;
  // Linger bounds how long close waits for what is still queued; sendTimeout bounds a stuck peer.
  const push = new Push({ sendHighWaterMark: 1000, sendTimeout: timeoutMs, linger: timeoutMs });
  push.connect(url);
  // zeromq.js sends are queued one at a time per socket: chain them in order.
  let sending: Promise<void> = Promise.resolve();
  let sent = 0;
  const forward = async (seq: number, sentAt: number, result: { checksum: number; data: Uint8Array }): Promise<void> => {
    const header = encodeBaselineHeader({ seq, checksum: result.checksum, key, sentAt });
    sending = sending.then(async () => {
      try {
        await push.send([header, result.data]);
      } catch (err) {
        throw new CliError(`baseline send of message ${seq} to ${url} failed: ${(err as Error).message}`);
      }
      sent++;
      if ((sent & 63) === 0) ctx.onProgress(sent);
    });
    await sending;
  };
  const inFlight = new Set<Promise<void>>();
  try {
    for (let seq = 0; seq < count; seq++) {
      // The same window as the kShm path's input rings.
      while (inFlight.size >= workers * perWorker) await Promise.race(inFlight);
      const data = new Uint8Array(size);
      fillPayload(data, seq);
      const sentAt = sharedNowMs();
      const task = (pool.run({ op: 'clone', seq, key, data, corruptEvery: ctx.corruptEvery }) as Promise<{ checksum: number; data: Uint8Array }>)
        .catch((err: unknown) => {
          throw new CliError(`baseline worker failed on message ${seq}: ${(err as Error).message}`);
        })
        .then((r) => forward(seq, sentAt, r));
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      // A failure surfaces at the next race or at the final wait; keep it from going unhandled meanwhile.
      tracked.catch(() => undefined);
    }
    await withTimeout(Promise.all(inFlight), timeoutMs, 'the baseline workers did not finish');
    await withTimeout(sending, timeoutMs, 'the baseline messages were not all queued');
    ctx.onProgress(sent);
  } finally {
    push.close();
  }
}
