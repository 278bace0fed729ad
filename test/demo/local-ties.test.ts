/**
 * Act 1's tie notes: a workload whose median is within 10% of the faster postMessage flavour gets
 * a line naming that flavour and why; a clear win or loss gets none.
 */
import { expect } from 'chai';
import { tieNotes } from '../../packages/cli/src/demo/local-ties.js';
import type { LocalRunResult, LocalWorkload } from '../../packages/cli/src/demo/local-workload.js';

const run = (ms: number): LocalRunResult => ({ ms, verified: 1, mismatches: 0, firstMismatch: null });
const runs = (...ms: number[]): LocalRunResult[] => ms.map(run);
const pipe = (name: string, size: number): LocalWorkload => ({ name, stem: name, mode: 'pipe', size, count: 4, window: 4, key: 1 });

describe('act 1 tie notes', () => {
  it('names the faster flavour and the reason for a tie, and says nothing of a clear result', () => {
    const ws = [pipe('pipeline 1 MiB', 1 << 20), pipe('records 256 B', 256), pipe('pipeline 4 KiB', 4096)];
    const notes = tieNotes(ws, {
      'pipeline 1 MiB': { lightbeam: runs(100, 101, 99), 'postMessage clone': runs(300, 310, 290), 'postMessage transfer': runs(104, 103, 105) },
      'records 256 B': { lightbeam: runs(50, 52, 51), 'postMessage clone': runs(100, 98, 99), 'postMessage transfer': runs(120, 121, 119) },
      'pipeline 4 KiB': { lightbeam: runs(100, 100, 100), 'postMessage clone': runs(95, 96, 94), 'postMessage transfer': runs(130, 130, 130) },
    });
    expect(notes).to.have.length(2);
    expect(notes[0]).to.match(/^pipeline 1 MiB: a tie with postMessage transfer \(1\.04x\): a transfer moves the buffer without copying/);
    expect(notes[1]).to.match(/^pipeline 4 KiB: a tie with postMessage clone \(0\.95x\): at this size each message costs mostly the wake-up/);
  });
});
