/**
 * `lightbeam bench` against a throw-away checkout whose bench/ holds three small suites: one
 * writes a result file, one writes none, one crashes. The real bench/support/ is linked in.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { XMLValidator } from 'fast-xml-parser';
import { REPO_ROOT, linesOf, runCli } from './support/run-cli.js';

const GOOD_SUITE = `
import { writeBenchResult } from './support/report-format.js';
const rows = [];
for (const size of [1024, 65536]) {
  rows.push({ task: 'ours size=' + size, side: 'ours', impl: 'lightbeam test', messageBytes: size, opsPerSec: 1000, bytesPerSec: 1000 * size });
  rows.push({ task: 'peer A size=' + size, side: 'peer', impl: 'peer A', messageBytes: size, opsPerSec: 500, bytesPerSec: 500 * size });
  rows.push({ task: 'peer B size=' + size, side: 'peer', impl: 'peer B', messageBytes: size, opsPerSec: 250, bytesPerSec: 250 * size, ratio: 4 });
}
await writeBenchResult('good', rows);
console.log('good suite done');
`;

describe('lightbeam bench', function () {
  this.timeout(120000);
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lightbeam-bench-'));
    await mkdir(join(root, 'bench'));
    await symlink(join(REPO_ROOT, 'bench', 'support'), join(root, 'bench', 'support'));
    await writeFile(join(root, 'bench', 'good.bench.ts'), GOOD_SUITE);
    await writeFile(join(root, 'bench', 'silent.bench.ts'), "console.log('a suite that does not write a result file yet');\n");
    await writeFile(join(root, 'bench', 'crash.bench.ts'), "console.error('boom'); process.exit(3);\n");
    // As in the repository: ESM, so the suites may use top-level await.
    await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('runs every suite, tolerates one without results, reports a crash, writes report.md and one SVG per family', async () => {
    const out = join(root, 'out');
    const r = await runCli(['bench', '--root', root, '--out', out, '--no-progress']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.contain('crash: exit 3, no result file');
    expect(r.stdout).to.contain('good: exit 0, 6 rows');
    expect(r.stdout).to.contain('silent: exit 0, no result file');
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).to.contain('| crash | no result file (exit 3) | 0 |');
    expect(md).to.contain('| good | ok | 6 |');
    expect(md).to.contain('| silent | no result file | 0 |');
    // Each peer beside the ours row of its size, the ratio labelled with its direction.
    expect(md).to.match(/\| good, 1 KiB \| peer A \| .* \| lightbeam test: .* \| 2\.00x \(better\) \|/);
    expect(md).to.match(/\| good, 64 KiB \| peer B \| .* \| lightbeam test: .* \| 4\.00x \(better\) \|/);
    expect((await readdir(out)).sort()).to.deep.equal(['crash.log', 'good.json', 'good.log', 'good.svg', 'report.md', 'silent.log']);
    expect(await readFile(join(out, 'crash.log'), 'utf8')).to.contain('boom');
    const svg = await readFile(join(out, 'good.svg'), 'utf8');
    expect(XMLValidator.validate(svg)).to.equal(true);
    for (const s of ['lightbeam test (ours)', 'peer A (peer)', 'peer B (peer)']) expect(svg).to.contain(`>${s}</text>`);
  });

  it('runs only the suite named by --suite and exits 0 when it succeeds', async () => {
    const out = join(root, 'out');
    const r = await runCli(['bench', '--root', root, '--out', out, '--suite', 'good', '--no-progress']);
    expect(r.code, r.stderr).to.equal(0);
    expect(linesOf(r.stdout).filter((l) => l.startsWith('running '))).to.have.length(1);
    expect((await readdir(out)).sort()).to.deep.equal(['good.json', 'good.log', 'good.svg', 'report.md']);
  });

  it('says where to run it from when there is no bench/ folder', async () => {
    const r = await runCli(['bench', '--root', join(root, 'nowhere'), '--out', join(root, 'out')]);
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.have.length(1);
    expect(r.stderr).to.match(/^lightbeam bench: no bench\/ folder in .*nowhere/);
  });
});
