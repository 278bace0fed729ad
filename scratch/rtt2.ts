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
const pisc = new Piscina({ filename: here('../bench/shm/piscina-echo.mjs'), minThreads: 1, maxThreads: 1 });
const cases: Record<string, () => Promise<unknown>> = { piscina: () => pisc.run(null) };
const pools: any[] = [];
const empty = new LbmMeta();
for (const spec of (process.argv[2] ?? '50:10').split(',')) {
  const [s, b] = spec.split(':').map(Number);
  const pool = createRpcPool(here('../bench/rpc/pool-worker.mjs'), { workers: 1, spinUs: s, blockWhenIdleMs: b });
  await pool.started(); pools.push(pool);
  cases[`ours ${spec}`] = () => pool.run('empty', empty);
}
for (const f of Object.values(cases)) await rtt(500, f);
const res: Record<string, number[]> = {};
for (let r = 0; r < 5; r++) for (const [k, f] of Object.entries(cases)) (res[k] ??= []).push(await rtt(1000, f));
for (const [k, v] of Object.entries(res)) { const s = [...v].sort((a, b) => a - b); console.log(k.padEnd(14), 'median', s[2]!.toFixed(1), 'us  range', s[0]!.toFixed(1), '-', s[4]!.toFixed(1), ' ratio-median', (v.map((x, i) => x / res.piscina![i]!).sort((a, b) => a - b)[2]!).toFixed(2)); }
await pisc.destroy(); for (const p of pools) await p.close();
