/**
 * Whether a process still runs, for tests that check nothing outlived its parent. A zombie (dead,
 * not yet reaped) counts as gone: on a machine whose init does not reap orphans, a killed child
 * stays a zombie for good, and `process.kill(pid, 0)` would still call it alive.
 */
import { readFileSync } from 'node:fs';

/**
 * True while `pid` runs.
 *
 * @param pid - the process to look at
 */
export function alive(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
