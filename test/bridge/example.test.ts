/**
 * examples/bridge.ts runs as a child process and prints what crossed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

describe('examples/bridge.ts', () => {
  it('sends through two bridges: XFER text arrives, EXPOSE arrives as a descriptor', () => {
    const file = fileURLToPath(new URL('../../examples/bridge.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('send: 0');
    expect(r.stdout).to.include('receive: 0');
    expect(r.stdout).to.include('XFER bulk: Hello across hosts');
    expect(r.stdout).to.include("EXPOSE bulk: { size: 1024, flags: 1, data: null }");
  });
});
