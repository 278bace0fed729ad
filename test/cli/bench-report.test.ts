/**
 * Issue 12: the benchmark report tells the truth at a glance. Every suite under bench/ writes a
 * result and has a quick setting; the report holds a table for every suite; each ratio's
 * direction matches its label and the figures beside it; each family gets a bar chart in
 * operations per second (never bytes/s), a colour and a marker per series.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { QUICK_ENV, listSuites } from '@lightbeam/cli';
import { directionAgrees, comparisonsOf } from '../../bench/support/report-compare.js';
import type { BenchResultFile, BenchRowInput } from '../../bench/support/report-format.js';
import { makeBenchResult } from '../../bench/support/report-format.js';
import type { SuiteOutcome } from '../../bench/support/report-markdown.js';
import { TABLE_HEADER } from '../../bench/support/report-markdown.js';
import { writeReport } from '../../bench/support/report-writer.js';
import { REPO_ROOT } from './support/run-cli.js';

/** Every suite in bench/ (listed by the runner); the report fixtures below cover these too. */
const SUITES = ['alloc', 'archive', 'bridge', 'fabric', 'rpc', 'shm', 'zmq'];

/** A small result per suite, shaped like what each suite writes (families, vs, goals, also). */
function results(): BenchResultFile[] {
  const row = (task: string, side: 'ours' | 'peer', impl: string, bytes: number, ops: number, extra: Partial<BenchRowInput> = {}): BenchRowInput => ({
    task,
    side,
    impl,
    messageBytes: bytes,
    opsPerSec: ops,
    bytesPerSec: ops * bytes,
    ...extra,
  });
  const alloc = 'alloc+free, one thread';
  const rt = 'round trip 64 B main<->worker';
  const expose = 'EXPOSE hand-off main -> worker (descriptor only)';
  const zmq = 'one-way messages over tcp loopback';
  const tput = '1 MiB one-way';
  return [
    makeBenchResult('alloc', [
      row('shm 4KiB', 'ours', 'lightbeam slab', 4096, 3e7, { measure: alloc, unit: 'alloc+free pairs' }),
      row('gc 4KiB', 'peer', 'new Uint8Array', 4096, 1e6, { measure: alloc, unit: 'alloc+free pairs', vs: 'shm 4KiB', ratio: 30, goal: 5 }),
      row('pool 4KiB', 'peer', 'thi.ng MemPool', 4096, 5e7, { measure: alloc, unit: 'alloc+free pairs', vs: 'shm 4KiB', ratio: 0.6 }),
    ]),
    makeBenchResult('archive', [
      row('archive', 'ours', 'lightbeam archive', 95, 2e6, { measure: 'encode+decode', unit: 'encode+decode' }),
      row('json', 'peer', 'JSON', 95, 5e5, { measure: 'encode+decode', unit: 'encode+decode', vs: 'archive', goal: 3 }),
    ]),
    makeBenchResult('bridge', [
      row('tput move', 'ours', 'lightbeam bridge', 1 << 20, 1600, { measure: tput, unit: 'messages' }),
      row('tput diy', 'peer', 'postMessage + zeromq.js', 1 << 20, 1300, { measure: tput, unit: 'messages', vs: 'tput move', ratio: 1.23, goal: 1.5 }),
      row('rtt', 'ours', 'lightbeam bridge', 64, 2500, { measure: 'round trip', unit: 'round trips' }),
      row('rtt diy', 'peer', 'postMessage + zeromq.js', 64, 5800, { measure: 'round trip', unit: 'round trips', vs: 'rtt', ratio: 0.43 }),
    ]),
    makeBenchResult('rpc', [
      row('rtt shm', 'ours', 'lightbeam rpc shm', 0, 2.5e5, { measure: 'RPC call round trip', unit: 'calls' }),
      row('rtt piscina', 'peer', 'piscina', 0, 5e4, { measure: 'RPC call round trip', unit: 'calls', vs: 'rtt shm', ratio: 5, goal: 1 / 0.3 }),
    ]),
    makeBenchResult('shm', [
      row('sync', 'ours', 'lightbeam shm sync XFER', 64, 1e6, { measure: rt, unit: 'round trips' }),
      row('async', 'ours', 'lightbeam shm async', 64, 7e5, { measure: rt, unit: 'round trips' }),
      row('bare', 'peer', 'bare ring', 64, 4e6, { measure: rt, unit: 'round trips', vs: 'sync', ratio: 0.26, goal: 0.5 }),
      row('pm', 'peer', 'postMessage event', 64, 6e4, { measure: rt, unit: 'round trips', vs: 'sync', ratio: 16, goal: 20, also: [{ vs: 'async', ratio: 11 }] }),
      row('ex 1KiB', 'ours', 'lightbeam shm EXPOSE', 1024, 5.7e6, { measure: expose, unit: 'messages' }),
      row('ex 1MiB', 'ours', 'lightbeam shm EXPOSE', 1 << 20, 5.9e6, { measure: expose, unit: 'messages' }),
      row('sab', 'peer', 'postMessage SAB view', 1 << 20, 9.8e5, { measure: expose, unit: 'messages', vs: 'ex 1MiB', ratio: 6 }),
    ]),
    makeBenchResult('zmq', [
      row('in place 1MiB', 'ours', 'lightbeam zmq (in place)', 1 << 20, 1700, { measure: zmq, unit: 'messages' }),
      row('copy 1MiB', 'ours', 'lightbeam zmq (copy)', 1 << 20, 1800, { measure: zmq, unit: 'messages' }),
      row('raw 1MiB', 'peer', 'raw zeromq.js', 1 << 20, 1150, { measure: zmq, unit: 'messages', vs: 'in place 1MiB', ratio: 1.48, goal: 1, also: [{ vs: 'copy 1MiB', ratio: 1.57, goal: 0.9 }] }),
    ]),
  ];
}

/** `1.23M` back to 1230000. */
function parseRate(text: string): number {
  const m = /^([\d.]+)([kMGT]?) /.exec(text);
  expect(m, text).to.not.equal(null);
  const [, n, si] = m as RegExpExecArray;
  return Number(n) * { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[si as '' | 'k' | 'M' | 'G' | 'T'];
}

describe('benchmark report: every suite, ratios that say which way they go (issue 12)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lightbeam-report12-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every suite in bench/ writes a result file and has a --quick setting', async () => {
    const suites = await listSuites(REPO_ROOT);
    expect(suites).to.deep.equal(SUITES);
    for (const s of suites) {
      const src = await readFile(join(REPO_ROOT, 'bench', `${s}.bench.ts`), 'utf8');
      expect(src, s).to.match(new RegExp(`writeBenchResult\\('${s}'`));
      expect(QUICK_ENV, s).to.have.property(s);
    }
  });

  it('holds a table for every suite, each ratio labelled with its direction and agreeing with the figures beside it', async () => {
    const outcomes: SuiteOutcome[] = results().map((result) => ({ suite: result.suite, result, exitCode: 0 }));
    const { markdown, charts } = await writeReport(outcomes, dir);
    const md = await readFile(markdown, 'utf8');
    const suites = outcomes.map((o) => o.suite);
    for (const s of suites) expect(md, s).to.contain(`\n## ${s}\n`);
    const sections = md.split('\n## ').slice(1);
    expect(sections).to.have.length(suites.length);
    let checked = 0;
    for (const section of sections) {
      expect(section, section.split('\n')[0]).to.contain(TABLE_HEADER);
      const rows = section
        .split('\n')
        .filter((l) => l.startsWith('| ') && !l.startsWith('| measure |'))
        .map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, '').trim()));
      expect(rows.length, section.split('\n')[0]).to.be.greaterThan(0);
      for (const [, , peerFigure, ours, ratio, suiteRatio, goal, met] of rows) {
        const read = (text: string): number => {
          const m = /^(\d+\.\d\d)x \((better|worse|even)\)$/.exec(text);
          expect(m, text).to.not.equal(null);
          const value = Number((m as RegExpExecArray)[1]);
          expect((m as RegExpExecArray)[2], text).to.equal(value === 1 ? 'even' : value > 1 ? 'better' : 'worse');
          return value;
        };
        const value = read(ratio);
        // The ratio is the two printed figures' (to the rounding of three significant digits).
        const oursFigure = parseRate(ours.slice(ours.indexOf(': ') + 2));
        expect(value, `${ours} against ${peerFigure}: ${ratio}`).to.be.closeTo(oursFigure / parseRate(peerFigure), 0.01 * value + 0.006);
        const judged = suiteRatio === '-' ? value : read(suiteRatio);
        if (goal !== '') expect(met).to.equal(judged >= Number(/>= ([\d.]+)x/.exec(goal)?.[1]) ? 'met' : 'NOT met');
        checked++;
      }
    }
    expect(checked).to.equal(12);
    // Every comparison's direction, straight from the rows.
    for (const r of results()) for (const c of comparisonsOf(r.rows).comparisons) expect(directionAgrees(c), `${r.suite} ${c.peer.task}`).to.equal(true);

    // One bar chart per family, in operations per second of the family's unit.
    expect(charts.map((c) => c.slice(dir.length + 1)).sort()).to.deep.equal(
      [
        'alloc-alloc-free-one-thread.svg',
        'archive-encode-decode.svg',
        'bridge-1-mib-one-way.svg',
        'bridge-round-trip.svg',
        'rpc-rpc-call-round-trip.svg',
        'shm-expose-hand-off-main-worker-descriptor-only.svg',
        'shm-round-trip-64-b-main-worker.svg',
        'zmq-one-way-messages-over-tcp-loopback.svg',
      ].sort(),
    );
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
    for (const c of charts) {
      const svg = await readFile(c, 'utf8');
      expect(XMLValidator.validate(svg), c).to.equal(true);
      expect(svg, c).to.not.match(/bytes\/s|B\/s/);
      expect(svg, c).to.not.contain('mark-line');
      expect(JSON.stringify(parser.parse(svg)), c).to.match(/per second \(log scale\)/);
    }
    const expose = await readFile(join(dir, 'shm-expose-hand-off-main-worker-descriptor-only.svg'), 'utf8');
    expect(expose).to.contain('messages per second (log scale)');
  });

  it('marks a comparison the suite did not pair as such instead of guessing', async () => {
    const r = makeBenchResult('x', [
      { task: 'a', side: 'ours', impl: 'ours a', messageBytes: 64, opsPerSec: 2, bytesPerSec: 128 },
      { task: 'b', side: 'ours', impl: 'ours b', messageBytes: 64, opsPerSec: 3, bytesPerSec: 192 },
      { task: 'p', side: 'peer', impl: 'peer', messageBytes: 64, opsPerSec: 1, bytesPerSec: 64, ratio: 2 },
    ]);
    const { markdown } = await writeReport([{ suite: 'x', result: r, exitCode: 0 }], dir);
    expect(await readFile(markdown, 'utf8')).to.contain('| (not named by the suite) | - | 2.00x (better) |');
  });

  it('calls a ratio that rounds to 1.00x even, not better', async () => {
    const r = makeBenchResult('x', [
      { task: 'a', side: 'ours', impl: 'ours a', messageBytes: 64, opsPerSec: 2, bytesPerSec: 128 },
      { task: 'p', side: 'peer', impl: 'peer', messageBytes: 64, opsPerSec: 2, bytesPerSec: 128, ratio: 1.004, vs: 'a' },
    ]);
    const { markdown } = await writeReport([{ suite: 'x', result: r, exitCode: 0 }], dir);
    expect(await readFile(markdown, 'utf8')).to.contain('| 1.00x (even) |');
  });

  it('prints the ratio of the two figures beside them, and the suite\'s per-round median in its own column (issue #22 item 5)', async () => {
    // The report of issue 22: "28.8k vs 27.9k" was labelled "0.71x (worse)" and "3.07k vs 2.90k"
    // "1.00x (even), NOT met": the suites' medians of per-round ratios, shown as if they were the
    // ratio of the figures beside them.
    const r = makeBenchResult('x', [
      { task: 'a', side: 'ours', impl: 'ours a', messageBytes: 64, opsPerSec: 28800, bytesPerSec: 64 * 28800 },
      { task: 'p', side: 'peer', impl: 'peer p', messageBytes: 64, opsPerSec: 27900, bytesPerSec: 64 * 27900, ratio: 0.71, vs: 'a' },
      { task: 'b', side: 'ours', impl: 'ours b', messageBytes: 4096, opsPerSec: 3070, bytesPerSec: 4096 * 3070 },
      { task: 'q', side: 'peer', impl: 'peer q', messageBytes: 4096, opsPerSec: 2900, bytesPerSec: 4096 * 2900, ratio: 1.0, vs: 'b', goal: 1.05 },
    ]);
    const { markdown } = await writeReport([{ suite: 'x', result: r, exitCode: 0 }], dir);
    const md = await readFile(markdown, 'utf8');
    expect(md).to.contain("ours / peer, of these figures (above 1 = ours better) | suite's own ratio (median of per-round ratios where its rounds are paired) |");
    expect(md).to.contain('| 27.9k ops/s | ours a: 28.8k ops/s | 1.03x (better) | 0.71x (worse) |  |  |');
    expect(md).to.contain('| 2.90k ops/s | ours b: 3.07k ops/s | 1.06x (better) | 1.00x (even) | >= 1.05x | NOT met |');
  });
});
