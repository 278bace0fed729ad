/**
 * startCpuHog: the busy-looping process `demo --hog` and `LBM_BENCH_HOG=1` run beside a
 * measurement. It must really burn a core, stop when asked, and never outlive a parent that died.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startCpuHog } from '@lightbeam/cli';
import type { CpuHog } from '@lightbeam/cli';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** User + system CPU ticks of `pid` (fields 14 and 15 of /proc/PID/stat). */
const cpuTicks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('startCpuHog', function () {
  this.timeout(20000);
  let hog: CpuHog | null = null;

  afterEach(async () => {
    await hog?.stop();
    hog = null;
  });

  it('runs a process that burns CPU until stopped, then is gone', async () => {
    hog = await startCpuHog();
    const before = cpuTicks(hog.pid);
    // Bounded: the hog must gain CPU time within 5 s even on a loaded machine.
    for (let i = 0; i < 50 && cpuTicks(hog.pid) === before; i++) await sleep(100);
    expect(cpuTicks(hog.pid)).to.be.greaterThan(before);
    const pid = hog.pid;
    await hog.stop();
    await hog.stop();
    expect(alive(pid)).to.equal(false);
  });

  it('exits by itself when its parent is killed', async () => {
    const cli = fileURLToPath(new URL('../../packages/cli/dist/index.js', import.meta.url));
    const parent = spawn(process.execPath, ['--input-type=module', '-e', `const { startCpuHog } = await import(${JSON.stringify(cli)}); const h = await startCpuHog(); console.log(h.pid); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const pid = Number(line.toString().trim());
    expect(pid).to.be.greaterThan(0);
    expect(alive(pid)).to.equal(true);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    expect(alive(pid)).to.equal(false);
  });
});
