/**
 * Act 2 compares latencies, which are mostly time in queues: both paths must hold the same window
 * of messages in flight (issue 21: the kShm path held its whole window in the workers' input
 * rings plus a results ring of twice that per worker, and showed twice the baseline's latency).
 */
import { expect } from 'chai';
import { act2Windows } from '@lightbeam/cli';

describe('demo act 2 windows (issue 21)', () => {
  for (const size of [64, 4096, 64 * 1024, 1 << 20, 8 << 20]) {
    for (const workers of [1, 2, 3, 4]) {
      it(`holds no more in flight on the kShm path than on the baseline (size ${size}, ${workers} workers)`, () => {
        const w = act2Windows(size, workers);
        const baseline = workers * w.perWorker;
        const shm = workers * w.shmInput + w.results;
        expect(shm, `kShm ${workers} x ${w.shmInput} + ${w.results}, baseline ${workers} x ${w.perWorker}`).to.be.at.most(Math.max(baseline, 2 * workers + 2));
        // Not starved either: at least half of the baseline's window.
        expect(shm).to.be.at.least(baseline / 2);
        for (const ring of [w.shmInput, w.results]) expect(ring & (ring - 1), `ring of ${ring} slots is a power of two`).to.equal(0);
      });
    }
  }
});
