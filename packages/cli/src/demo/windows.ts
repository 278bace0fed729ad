/**
 * How many messages each path of act 2 may hold in flight: the same window on both, so that
 * their latencies (mostly time spent in queues, at a given rate) compare.
 */

/** The windows of act 2 for one payload size and worker count. */
export interface Act2Windows {
  /**
   * Baseline: piscina tasks outstanding per worker, each until its result is queued in zeromq.js.
   * A power of two, at most 32 and at most 16 MiB of payload.
   */
  readonly perWorker: number;
  /** kShm path: slots of each worker's input ring (half of `perWorker`, at least 2). */
  readonly shmInput: number;
  /** kShm path: slots of the bridge's results ring, where a result waits for the egress. */
  readonly results: number;
}

/**
 * The windows of act 2. On the kShm path a message is in flight from the producer until the
 * bridge's egress takes its result: the worker's input ring plus the results ring, half of the
 * baseline's window each (rings are powers of two), so the path never holds more than the
 * baseline does. It used to hold the whole window in the input rings and a results ring of twice
 * `perWorker` beside them, and its latency was about twice the baseline's for that alone.
 *
 * @param size - payload bytes per message
 * @param workers - worker threads
 */
export function act2Windows(size: number, workers: number): Act2Windows {
  const perWorker = 2 ** Math.floor(Math.log2(Math.max(2, Math.min(32, Math.floor((16 << 20) / size)))));
  // A ring has at least 2 slots: with a window of 2 per worker the kShm path holds 2 more.
  const shmInput = Math.max(2, perWorker / 2);
  return { perWorker, shmInput, results: 2 ** Math.floor(Math.log2(Math.max(2, workers * (perWorker - shmInput)))) };
}
