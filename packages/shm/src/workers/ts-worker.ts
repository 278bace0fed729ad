/**
 * TypeScript worker scripts. Node 20 starts a worker's entry before the `--import tsx` hooks it
 * inherits apply to it, so `new Worker('./w.ts')` fails with `ERR_UNKNOWN_FILE_EXTENSION` even
 * when the parent runs under tsx. When the parent does run under tsx, `startWorker` starts a
 * small compiled bootstrap instead ({@link ./ts-bootstrap.ts}), which registers tsx's loader
 * in the worker and then imports the script. When it does not, it refuses at once, saying what
 * to do, instead of letting the worker die later with Node's error.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerOptions } from 'node:worker_threads';
import { LightbeamError } from '@lightbeam/core';

/** The `workerData` key that carries the script and tsx's API to the bootstrap; removed there. */
export const TS_BOOT_KEY = 'lightbeamTsBoot';

/** What the bootstrap finds under {@link TS_BOOT_KEY}. */
export interface TsBoot {
  /** File URL of the TypeScript script to run. */
  entry: string;
  /** File URL of tsx's `esm/api` module, whose `register()` installs its loader. */
  tsxApi: string;
}

const TS_EXTENSION = /\.(?:[cm]?ts|tsx)$/i;

/** The script's file URL when it is a TypeScript file, else null (also for `eval` code). */
export function typeScriptEntry(filename: string | URL, options: WorkerOptions): URL | null {
  if (options.eval === true) return null;
  const url = filename instanceof URL ? filename : /^file:/i.test(filename) ? new URL(filename) : pathToFileURL(resolvePath(filename));
  return url.protocol === 'file:' && TS_EXTENSION.test(url.pathname) ? url : null;
}

/** The tsx module the parent was started with (`--import tsx`, `--import file:///.../tsx/dist/loader.mjs`, ...), or null. */
function tsxFlag(): string | null {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (let i = 0; i < args.length; i++) {
    const m = /^--(?:import|require|loader|experimental-loader)(?:=(.*))?$/.exec(args[i]!);
    if (m === null) continue;
    const value = m[1] ?? args[i + 1] ?? '';
    if (/(?:^|[\\/])tsx(?:$|[\\/@])/.test(value)) return value;
  }
  return null;
}

/** Where tsx's `esm/api` lies for a parent started with `flag`, or null when it cannot be found. */
function resolveTsxApi(flag: string): string | null {
  // A path names tsx's own file, from which the package resolves itself; a bare name resolves
  // as the parent's own import did, from the working directory, else from the main script.
  const bases = /^file:/i.test(flag) ? [fileURLToPath(flag)] : flag.startsWith('/') || /^[A-Za-z]:[\\/]/.test(flag) ? [flag] : [];
  bases.push(resolvePath(process.cwd(), 'noop.js'));
  if (process.argv[1] !== undefined) bases.push(resolvePath(process.argv[1]));
  for (const base of bases) {
    let pkgJson: string;
    try {
      pkgJson = createRequire(base).resolve('tsx/package.json');
    } catch {
      continue; // not from here; try the next base
    }
    // require.resolve would pick the `require` export, whose CommonJS build cannot be imported
    // from ESM; the `import` export is read from tsx's own package.json instead.
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { exports?: Record<string, unknown> };
    const api = pkg.exports?.['./esm/api'] as { import?: string | { default?: string } } | undefined;
    const target = typeof api?.import === 'string' ? api.import : api?.import?.default;
    if (typeof target === 'string') return new URL(target, pathToFileURL(pkgJson)).href;
  }
  return null;
}

/**
 * Worker filename and options that run a TypeScript script: the bootstrap, with the script and
 * tsx's API in `workerData`.
 *
 * @param entry - the script
 * @param workerData - the caller's workerData, already carrying the shared memory's handle
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` when the parent does not run under tsx (or
 *   tsx's API cannot be found), saying what to do instead
 */
export function typeScriptBoot(entry: URL, workerData: Record<string, unknown>): { filename: URL; workerData: Record<string, unknown> } {
  const flag = tsxFlag();
  const tsxApi = flag === null ? null : resolveTsxApi(flag);
  if (tsxApi === null) {
    throw new LightbeamError(
      'ERR_LBM_INVALID_ARGUMENT',
      `startWorker: ${fileURLToPath(entry)} is TypeScript, and ${flag === null ? 'this process does not run under tsx' : `tsx's esm/api could not be resolved from ${JSON.stringify(flag)}`}: ` +
        'run the parent under tsx 4 (`npx tsx main.ts`, or `node --import tsx main.js`), or compile the worker and start its .js (or .mjs) file',
    );
  }
  const boot: TsBoot = { entry: entry.href, tsxApi };
  return { filename: new URL('./ts-bootstrap.js', import.meta.url), workerData: { ...workerData, [TS_BOOT_KEY]: boot } };
}
