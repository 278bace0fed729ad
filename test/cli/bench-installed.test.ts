/**
 * Issue #22 item 11: the installed CLI's `bench` failed with "no bench/ folder" yet shipped tsx
 * (and through it esbuild) for it. The suites belong to a checkout, so `bench` now takes tsx from
 * the checkout it runs (`--root`), and the installed package no longer depends on tsx.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { REPO_ROOT, runCli } from './support/run-cli.js';

describe('lightbeam bench and the installed package (issue #22 item 11)', function () {
  this.timeout(60000);
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lightbeam-bench-tsx-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('does not ship tsx or esbuild with the installed command', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).to.not.include.members(['tsx']);
    expect(Object.keys(pkg.dependencies)).to.not.include.members(['esbuild']);
  });

  it("runs the suites with the checkout's own tsx", async () => {
    // A checkout whose tsx says who it is, then hands the report writer to the real tsx.
    const realTsx = join(REPO_ROOT, 'node_modules', 'tsx');
    const realExports = (JSON.parse(readFileSync(join(realTsx, 'package.json'), 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
    const realApi = pathToFileURL(join(realTsx, realExports['./esm/api'].import.default)).href;
    const tsx = join(root, 'node_modules', 'tsx');
    await mkdir(tsx, { recursive: true });
    await writeFile(join(tsx, 'package.json'), JSON.stringify({ name: 'tsx', version: '0.0.0', type: 'module', exports: { './package.json': './package.json', './cli': './cli.mjs', './esm/api': './api.mjs' } }));
    await writeFile(join(tsx, 'cli.mjs'), "console.log('the checkout tsx ran ' + process.argv[2]);\n");
    await writeFile(join(tsx, 'api.mjs'), `export * from ${JSON.stringify(realApi)};\n`);
    await mkdir(join(root, 'bench'));
    await symlink(join(REPO_ROOT, 'bench', 'support'), join(root, 'bench', 'support'));
    await writeFile(join(root, 'bench', 'x.bench.ts'), "console.log('not run by this tsx');\n");
    await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
    const out = join(root, 'out');
    const r = await runCli(['bench', '--root', root, '--out', out, '--no-progress']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await readFile(join(out, 'x.log'), 'utf8')).to.equal(`the checkout tsx ran ${join('bench', 'x.bench.ts')}\n`);
  });

  it('says that the suites belong to a checkout when --root has no bench/', async () => {
    const r = await runCli(['bench', '--root', root, '--out', join(root, 'out')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^lightbeam bench: no bench\/ folder in .*: the suites are part of a Lightbeam repository checkout, not of the installed command/);
  });
});
