#!/usr/bin/env node
// Builds native/send_copy.c, the helper that lets the default send copy into reused memory (see
// the header of that file), with the C compiler and Node's own headers: no node-gyp, no download.
// Where either is missing it says so in one line and exits 0: the default send then copies into
// fresh memory, as before, and everything else works. `--strict` exits 1 instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const out = join(nativeDir, 'build', 'send_copy.node');
const logFile = join(nativeDir, 'build', 'build.log');

function giveUp(reason) {
  console.warn(`@lightbeam/zmq-bridge: send-copy helper not built: ${reason}; the default kZeroMq send copies into fresh memory instead`);
  process.exit(strict ? 1 : 0);
}

const include = [join(dirname(process.execPath), '..', 'include', 'node'), process.env.NODE_INCLUDE_DIR].filter((d) => d && existsSync(join(d, 'node_api.h')));
if (include.length === 0) giveUp(`node_api.h not found under ${join(dirname(process.execPath), '..', 'include', 'node')} (set NODE_INCLUDE_DIR)`);
const cc = [process.env.CC, 'cc', 'gcc', 'clang'].find((c) => c && spawnSync(c, ['--version']).status === 0);
if (cc === undefined) giveUp('no C compiler (cc, gcc or clang; or set CC)');
mkdirSync(dirname(out), { recursive: true });
const args = ['-O2', '-Wall', '-Wextra', '-fPIC', '-shared', `-I${include[0]}`, '-o', out, join(nativeDir, 'send_copy.c'), '-lpthread'];
// macOS resolves the N-API symbols from the node binary at load time.
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
const r = spawnSync(cc, args, { encoding: 'utf8' });
writeFileSync(logFile, `${cc} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
if (r.status !== 0) giveUp(`${cc} failed (exit ${r.status}), see ${logFile}`);
console.log(`@lightbeam/zmq-bridge: send-copy helper built (${out})`);
