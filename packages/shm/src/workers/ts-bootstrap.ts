/**
 * The entry of a worker whose script is TypeScript (see `ts-worker.ts`): registers tsx's loader
 * in this thread, removes its own key from `workerData` so the script sees the caller's data
 * only, and imports the script. Compiled to `dist/workers/ts-bootstrap.js`, so it loads without tsx.
 */
import { workerData } from 'node:worker_threads';
import type { TsBoot } from './ts-worker.js';
import { TS_BOOT_KEY } from './ts-worker.js';

const data = workerData as Record<string, unknown>;
const boot = data[TS_BOOT_KEY] as TsBoot;
delete data[TS_BOOT_KEY];
const api = (await import(boot.tsxApi)) as { register?: () => unknown; default?: { register?: () => unknown } };
const register = api.register ?? api.default?.register;
if (typeof register !== 'function') throw new Error(`tsx's esm/api at ${boot.tsxApi} has no register(): tsx 4 or later is needed to start TypeScript workers`);
register();
await import(boot.entry);
