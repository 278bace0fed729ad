/**
 * `lightbeam demo --hog`: act 1 runs beside one busy-looping process, every byte still verified,
 * and the hog is gone when the demo ends.
 */
import { expect } from 'chai';
import { runCli } from '../cli/support/run-cli.js';
import { alive } from '../support/process-alive.js';

describe('lightbeam demo --hog', function () {
  this.timeout(120000);

  it('runs act 1 beside a busy-looping process and stops that process at the end', async () => {
    const r = await runCli(['demo', '--act', '1', '--runs', '1', '--local-scale', '0.05', '--workers', '2', '--hog', '--no-progress'], { timeoutMs: 100000 });
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const pid = Number(/--hog, pid (\d+)\)/.exec(r.stdout)?.[1] ?? NaN);
    expect(pid, r.stdout).to.be.greaterThan(0);
    expect(r.stdout).to.match(/Act 1: Lightbeam /);
    // Bounded: the demo killed its hog before exiting, so it is gone (or reaped) within 5 s.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive(pid)).to.equal(false);
  });
});
