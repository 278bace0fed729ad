/**
 * The hot spell's length (packages/fabric/src/hot.ts): `spinUs` after a post or completion,
 * stretched to 1.5 times the slowest of the recent answers (post to completion), up to 2 ms.
 */
import { expect } from 'chai';
import { ANSWER_SAMPLES, HOT_STRETCH_MAX_MS, answered, hotLeftMs, hotStretchMs, posted } from '../../packages/fabric/src/hot.js';

const SPIN_MS = 0.25;

/** Busy-waits `ms` (an answer that takes that long). */
function spin(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    // A peer's answer on its way.
  }
}

/** Records 3 x ANSWER_SAMPLES answers, each `ms` after its post (one preempted past the cap is not an answer). */
function answersAfter(ms: number): void {
  for (let i = 0; i < 3 * ANSWER_SAMPLES; i++) {
    posted(SPIN_MS);
    spin(ms);
    answered(SPIN_MS);
  }
}

describe('fabric hot spell (issue 23)', () => {
  it('stretches past spinUs to 1.5 times the recent answers: answers 0.5 ms after their posts keep a post hot for at least 0.75 ms', () => {
    answersAfter(0.5);
    expect(hotStretchMs()).to.be.at.least(0.75);
    expect(hotStretchMs()).to.be.at.most(HOT_STRETCH_MAX_MS);
    posted(SPIN_MS);
    // A fixed spell would leave 0.25 ms.
    expect(hotLeftMs()).to.be.above(0.7);
  });

  it('shrinks back once the answers come fast again, to spinUs for answers within it', () => {
    answersAfter(0.5);
    answersAfter(0.01);
    // Preemption can make a 10 us answer slower, never slower than the 0.5 ms ones were.
    expect(hotStretchMs()).to.be.below(0.75);
  });

  it('takes a pause longer than the cap for no answer: the stretch stays as it was', () => {
    answersAfter(0.01);
    const before = hotStretchMs();
    posted(SPIN_MS);
    spin(HOT_STRETCH_MAX_MS + 1);
    answered(SPIN_MS);
    expect(hotStretchMs()).to.equal(before);
  });

  it('leaves an endpoint with spinUs 0 cold: its posts start no spell', () => {
    // Let any spell of the cases above end.
    spin(HOT_STRETCH_MAX_MS + 0.5);
    posted(0);
    expect(hotLeftMs()).to.be.at.most(0);
  });
});
