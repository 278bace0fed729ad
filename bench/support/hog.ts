/**
 * `LBM_BENCH_HOG=1`: a bench runs beside one busy-looping process (see `startCpuHog` in
 * @lightbeam/cli), because users' machines are busy; ours must not degrade more than the peer.
 */
import { startCpuHog } from '@lightbeam/cli';
import type { CpuHog } from '@lightbeam/cli';

/** The environment variable that asks for the hog. */
export const HOG_ENV = 'LBM_BENCH_HOG';

/**
 * Starts the hog when `LBM_BENCH_HOG=1` and says so on stdout; `null` otherwise.
 *
 * @param suite - the bench's name, for the line printed
 */
export async function hogFromEnv(suite: string): Promise<CpuHog | null> {
  const v = process.env[HOG_ENV];
  if (v === undefined || v === '' || v === '0') return null;
  if (v !== '1') throw new RangeError(`${HOG_ENV} must be 0 or 1, got ${JSON.stringify(v)}`);
  const hog = await startCpuHog();
  console.log(`${suite}: beside one busy-looping process (${HOG_ENV}=1, pid ${hog.pid})`);
  return hog;
}
