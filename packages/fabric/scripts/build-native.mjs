#!/usr/bin/env node
// Builds the libfabric addon at install time against the host's libfabric. Where libfabric's
// headers or a compiler are missing, it says so in one line and exits 0, so installing the
// workspace never fails because of this optional transport. `--strict` (pnpm run build:native)
// exits 1 instead. LIBFABRIC_DIR names a libfabric installed under a prefix (include/, lib/).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const here = dirname(fileURLToPath(import.meta.url));
const nativeDir = join(here, '..', 'native');
const logFile = join(nativeDir, 'build.log');

function giveUp(reason) {
  console.warn(`@lightbeam/fabric: native addon not built: ${reason}; Transport.kFabric is unavailable, the rest of Lightbeam works`);
  process.exit(strict ? 1 : 0);
}

const dir = process.env.LIBFABRIC_DIR;
const headerCandidates = dir ? [join(dir, 'include', 'rdma', 'fabric.h')] : ['/usr/include/rdma/fabric.h', '/usr/local/include/rdma/fabric.h'];
let found = headerCandidates.some((h) => existsSync(h));
if (!found && !dir) {
  const pc = spawnSync('pkg-config', ['--exists', 'libfabric']);
  found = pc.status === 0;
}
if (!found) giveUp(dir ? `no include/rdma/fabric.h under LIBFABRIC_DIR=${dir}` : 'libfabric headers not found (install libfabric-dev or set LIBFABRIC_DIR)');

let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  giveUp('node-gyp is not installed');
}
// Node's own headers, when this Node was installed with them (no download: registries only).
const prefix = join(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const r = spawnSync(process.execPath, [gyp, 'rebuild', '--jobs=2', ...nodedir], { cwd: nativeDir, encoding: 'utf8', env: process.env });
writeFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
if (r.status !== 0) giveUp(`node-gyp failed (exit ${r.status}), see ${logFile}`);
if (!existsSync(join(nativeDir, 'build', 'Release', 'lightbeam_fabric.node'))) giveUp(`node-gyp produced no addon, see ${logFile}`);
console.log(`@lightbeam/fabric: native addon built against ${dir ?? 'the system libfabric'}`);
