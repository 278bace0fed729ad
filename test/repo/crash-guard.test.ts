/**
 * The crash guard (test/support/crash-guard.mjs) is registered for every run and fails a run
 * during which a crash dump appears: a child mocha runs a fixture suite under it, in a temporary
 * cwd, once leaving nothing and once leaving a dump.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GUARD = join(ROOT, 'test', 'support', 'crash-guard.mjs');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'crash-guard', 'leaves-dump.mjs');
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

function runFixture(cwd: string, dump?: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  if (dump === undefined) delete env.LBM_FIXTURE_DUMP;
  else env.LBM_FIXTURE_DUMP = dump;
  const run = spawnSync(process.execPath, [MOCHA, '--no-config', '--require', GUARD, '--reporter', 'dot', FIXTURE], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('crash guard', function () {
  this.timeout(90000);
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'lbm-crash-guard-'));
  });
  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  it('is registered in .mocharc.cjs, so every mocha run of the repository has it', () => {
    const config = createRequire(import.meta.url)(join(ROOT, '.mocharc.cjs')) as { require?: string[] };
    expect(config.require ?? []).to.include(GUARD);
  });

  it('lets a run that leaves no crash dump pass', () => {
    const run = runFixture(cwd);
    expect(run.status, run.output).to.equal(0);
    expect(readdirSync(cwd)).to.deep.equal([]);
  });

  for (const name of ['node.80s-1234,vm.btr', 'core.4321', 'core']) {
    it(`fails a run during which ${name} appears in the cwd, naming the file and the test it followed`, () => {
      const run = runFixture(cwd, name);
      expect(run.status, run.output).to.not.equal(0);
      expect(run.output).to.include(join(cwd, name)).and.include('a suite run under the crash guard does its work');
    });
  }
});
