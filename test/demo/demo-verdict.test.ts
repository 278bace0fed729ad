/**
 * Issue 12: the demo's comparisons say which way they go. The old ratio row was labelled
 * lightbeam / baseline while its time and latency cells held baseline / lightbeam, so a run where
 * Lightbeam was slower on every column read as a mixed result.
 */
import { expect } from 'chai';
import type { PathResult, RunVerdict } from '@lightbeam/cli';
import { COMPARISON_ROW, PER_RUN_ROW, EtaClock, describeFactor, describeRange, formatSummary, parseVerdict, speedups, spreadOf, verdictSentence } from '@lightbeam/cli';

function path(name: string, ms: number, p50: number, p99: number): PathResult {
  const verdict: RunVerdict = { expected: 2000, received: 2000, mismatches: 0, lost: 0, unexpected: 0, bytes: 2000 * 65536, p50Ms: p50, p99Ms: p99, firstMismatch: null };
  return { name, verdict, ms };
}

function cells(table: string, first: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${first} `));
  expect(line, table).to.not.equal(undefined);
  return (line as string).split('|').slice(1, -1).map((c) => c.trim());
}

describe('demo verdicts: every comparison names its direction', () => {
  it('describes a factor as faster above 1 and slower (inverted) below', () => {
    expect(describeFactor(2.3)).to.equal('2.30x faster');
    expect(describeFactor(1 / 1.4)).to.equal('1.40x slower');
    expect(describeFactor(1.001)).to.equal('as fast (1.00x)');
    expect(describeFactor(0.5, ['lower', 'higher'])).to.equal('2.00x higher');
  });

  it('ends with "faster" exactly when the runs\' median speed-up is above 1, with the range of the same factor', () => {
    const faster = verdictSentence(spreadOf([1.9, 2.3, 2.6]), 'x');
    expect(faster).to.equal('Lightbeam 2.30x faster than x (median of the per-run ratios; 1.90-2.60x faster over 3 runs).');
    const slower = verdictSentence(spreadOf(speedups([140, 110, 170], [100, 100, 100])), 'x');
    expect(parseVerdict(slower)).to.deep.equal({ factor: 1.4, faster: false });
    expect(slower).to.contain('(median of the per-run ratios; 1.10-1.70x slower over 3 runs)');
    const mixed = spreadOf([0.8, 1.05, 1.2]);
    expect(verdictSentence(mixed, 'x')).to.match(/^Lightbeam 1\.05x faster than x \(median of the per-run ratios; 1\.25x slower to 1\.20x faster over 3 runs\)\.$/);
    expect(describeRange(spreadOf([0.5, 0.8]))).to.equal('1.25-2.00x slower');
    expect(verdictSentence(spreadOf([0.9, 1.001, 1.2]), 'x')).to.equal('Lightbeam as fast as x (1.00x; median of the per-run ratios; 1.11x slower to 1.20x faster over 3 runs).');
    expect(parseVerdict('Lightbeam as fast as x (1.00x; ...)')).to.deep.equal({ factor: 1, faster: null });
    // A seeded sweep: the sentence's direction and factor always follow the median.
    let seed = 12;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 3 + 0.2;
    for (let i = 0; i < 200; i++) {
      const s = spreadOf([rnd(), rnd(), rnd()]);
      const v = parseVerdict(verdictSentence(s, 'y'));
      const f = s.median >= 1 ? s.median : 1 / s.median;
      expect(v?.faster).to.equal(f.toFixed(2) === '1.00' ? null : s.median >= 1);
      expect(v?.factor).to.be.closeTo(f, 0.005);
    }
  });

  it('the act 2 table says slower and higher on every column when Lightbeam was slower on every column (the README sample of issue 12)', () => {
    const table = formatSummary([path('lightbeam kShm + bridge', 570, 30.6, 53.8)], [path('postMessage + zeromq.js', 490, 14.0, 49.6)]);
    const row = cells(table, COMPARISON_ROW);
    expect(row[3]).to.equal('1.16x slower'); // time
    expect(row[4]).to.equal('1.16x slower'); // throughput
    expect(row[5]).to.equal('1.16x slower'); // msg/s
    expect(row[6]).to.equal('2.19x higher'); // p50
    expect(row[7]).to.equal('1.08x higher'); // p99
  });

  it('and faster and lower when it was better, with medians and ranges over the runs', () => {
    const ours = [path('ours', 300, 10, 20), path('ours', 320, 11, 21), path('ours', 400, 12, 30)];
    const base = [path('base', 600, 20, 40), path('base', 640, 22, 42), path('base', 500, 24, 60)];
    const table = formatSummary(ours, base);
    expect(cells(table, 'ours')[3]).to.equal('0.32 s (0.30 s-0.40 s)');
    const row = cells(table, PER_RUN_ROW);
    expect(row[3]).to.equal('2.00x faster');
    expect(row[6]).to.equal('2.00x lower');
  });

  it('compares the medians printed in the path rows in one row, and names the median of the per-run ratios in another (issue #22 item 5)', () => {
    // Per run, Lightbeam was faster twice and slower once by a lot; the median times say "faster"
    // by another factor than the median of the per-run ratios. Each row names its statistic.
    const ours = [path('ours', 100, 10, 20), path('ours', 110, 11, 22), path('ours', 300, 12, 30)];
    const base = [path('base', 180, 20, 40), path('base', 120, 22, 44), path('base', 150, 24, 60)];
    const table = formatSummary(ours, base);
    // Medians: ours 110 ms, base 150 ms: 1.36x faster; throughput and msg/s the same way.
    const med = cells(table, COMPARISON_ROW);
    expect(med.slice(3, 6)).to.deep.equal(['1.36x faster', '1.36x faster', '1.36x faster']);
    expect(med[6]).to.equal('2.00x lower'); // p50 medians 11 and 22
    // Per-run ratios 1.8, 1.09, 0.5: median 1.09x faster.
    expect(cells(table, PER_RUN_ROW)[3]).to.equal('1.09x faster');
    // Every figure of the first row agrees with the printed medians (issue 22: "234 vs 215 MiB/s" under "1.19x faster").
    const t = (name: string): number => Number(/^([\d.]+) s/.exec(cells(table, name)[3])?.[1]);
    expect(Number(/^([\d.]+)x/.exec(med[3])?.[1])).to.be.closeTo(t('base') / t('ours'), 0.01);
  });
});

describe('demo ETA', () => {
  it('says "estimating" until a step has finished, then predicts from the steps measured', () => {
    const eta = new EtaClock(['a', 'b', 'a', 'b']);
    expect(eta.etaText()).to.equal('estimating');
    eta.begin('a');
    eta.end();
    expect(eta.etaSeconds()).to.be.a('number');
    expect(eta.etaText()).to.not.match(/NaN|Infinity|NF/);
    expect(eta.value).to.equal(1);
  });
});
