import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('TSDoc on every export', function () {
  this.timeout(180000);

  it('leaves TypeDoc nothing undocumented, unexported or unresolvable in any package (typedoc.check.json)', () => {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', 'typedoc.check.json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    const warnings = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /warning|error/i.test(l) && !/Found 0 errors and 0 warnings/.test(l));
    expect(warnings, 'TypeDoc warnings').to.deep.equal([]);
    expect(r.status).to.equal(0);
  });
});
