import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { LbmMeta } from '@lightbeam/core';
import { createRpcPool } from '@lightbeam/shm';
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
async function rtt(n: number, one: () => Promise<unknown>): Promise<number> {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await one(); s[i] = (performance.now() - t0) * 1000; }
  s.sort(); return s[n >> 1] as number;
}
const mode = process.argv[2] ?? 'both';
const pisc = new Piscina({ filename: here('../bench/shm/piscina-echo.mjs'), minThreads: 1, maxThreads: 1 });
const theirs = () => pisc.run(null);
let ours: (() => Promise<unknown>) | null = null;
let pool: ReturnType<typeof createRpcPool> | null = null;
if (mode !== 'piscina') {
  pool = createRpcPool(here('../bench/rpc/pool-worker.mjs'), { workers: 1 });
  await pool.started();
  const empty = new LbmMeta();
  ours = () => pool!.run('empty', empty);
}
await rtt(500, theirs); if (ours) await rtt(500, ours);
for (let r = 0; r < 5; r++) {
  const a = await rtt(2000, theirs);
  const b = ours ? await rtt(2000, ours) : NaN;
  console.log(`round ${r}: piscina ${a.toFixed(1)} us  ours ${b.toFixed(1)} us  ratio ${(b / a).toFixed(2)}`);
}
await pisc.destroy(); await pool?.close();
