/**
 * The benchmark report writer (bench/support/report-*.ts): a fixture result file becomes a
 * markdown table and an SVG chart that parses as XML and holds one series per implementation.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BENCH_FORMAT, makeBenchResult, validateBenchResult } from '../../bench/support/report-format.js';
import { readSuiteResult, writeReport } from '../../bench/support/report-writer.js';
import { TABLE_HEADER } from '../../bench/support/report-markdown.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/cli/shm-result.json', import.meta.url));

/** Every element named `tag` anywhere in a parsed XML tree. */
function findAll(node: unknown, tag: string, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const n of node) findAll(n, tag, out);
  } else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === tag) for (const el of Array.isArray(v) ? v : [v]) out.push(el as Record<string, unknown>);
      findAll(v, tag, out);
    }
  }
  return out;
}

describe('benchmark report writer', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lightbeam-report-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns the fixture result into a table of peers beside the ours row they are compared with, and one bar chart with a colour and a marker per series', async () => {
    const outcome = await readSuiteResult('shm', FIXTURE, 0);
    expect(outcome.result, outcome.note).to.not.equal(null);
    const missing = await readSuiteResult('silent', join(dir, 'silent.json'), 0);
    const { markdown, charts } = await writeReport([outcome, missing], dir);
    // The fixture has no `measure`: one family, the suite, drawn as `<suite>.svg`.
    expect(charts).to.deep.equal([join(dir, 'shm.svg')]);

    const md = await readFile(markdown, 'utf8');
    expect(md).to.contain('| shm | ok | 9 |');
    expect(md).to.contain('| silent | no result file | 0 |');
    expect(md).to.contain('![shm](shm.svg)');
    expect(md).to.contain(TABLE_HEADER);
    // The ratio of the figures, then the fixture's own ratio where it gives one (else '-').
    expect(md).to.match(/\| shm, 64 KiB \| postMessage copy \| .* \| lightbeam shm: .* \| 3\.00x \(better\) \| 3\.00x \(better\) \|/);
    expect(md).to.match(/\| shm, 1 MiB \| postMessage transfer \| .* \| lightbeam shm: .* \| 2\.50x \(better\) \| - \|/);

    const svg = await readFile(charts[0], 'utf8');
    expect(XMLValidator.validate(svg)).to.equal(true);
    const tree = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
    expect(tree).to.have.property('svg');
    // Bars, never lines: no line joins two sizes or two tasks.
    const groups = findAll(tree, 'g').filter((g) => typeof g.class === 'string');
    expect(groups.some((g) => (g.class as string).includes('mark-line'))).to.equal(false);
    const bars = groups.filter((g) => (g.class as string).includes('mark-rect')).flatMap((g) => findAll(g, 'path'));
    expect(bars).to.have.length(9);
    // Each series its own colour.
    const fills = new Set(bars.map((b) => String(b.fill)));
    expect(fills.size).to.equal(3);
    const texts = findAll(tree, 'text').map((t) => (typeof t === 'object' ? String(t['#text'] ?? '') : String(t)));
    for (const series of ['lightbeam shm (ours)', 'postMessage copy (peer)', 'postMessage transfer (peer)']) expect(texts, series).to.include(series);
  });

  it('rejects result files that break the format, naming the field', () => {
    const good = makeBenchResult('x', [{ task: 't', side: 'ours', impl: 'a', messageBytes: 1, opsPerSec: 1, bytesPerSec: 1 }]);
    expect(good.format).to.equal(BENCH_FORMAT);
    expect(() => validateBenchResult({ ...good, format: 'v0' }, 'f.json')).to.throw(/f\.json: format must be/);
    expect(() => validateBenchResult({ ...good, rows: [{ ...good.rows[0], side: 'theirs' }] }, 'f.json')).to.throw(/rows\[0\]\.side/);
    expect(() => validateBenchResult({ ...good, rows: [{ ...good.rows[0], opsPerSec: -1 }] }, 'f.json')).to.throw(/rows\[0\]\.opsPerSec/);
  });

  it('reports an invalid result file as such instead of failing the whole report', async () => {
    const o = await readSuiteResult('broken', fileURLToPath(new URL('../fixtures/cli/broken-result.json', import.meta.url)), 1);
    expect(o.result).to.equal(null);
    expect(o.note).to.match(/^invalid result file: .*rows must be an array/);
    const { charts, markdown } = await writeReport([o], dir);
    expect(charts).to.deep.equal([]);
    expect(await readFile(markdown, 'utf8')).to.contain('| broken | invalid result file:');
  });
});
