/**
 * A mocha root hook: the run fails if a crash dump appears during it. A SIGSEGV in a native
 * addon (libfabric, zeromq) leaves `*.btr` backtraces or `core` files where the process ran;
 * seven were once committed from the repository root. The guard lists the repository root and
 * the run's cwd before the first test, looks again after every test (to name the test after
 * which a file showed up) and once more at the end (a child may die after its test ended), and
 * fails the run in its final hook with every new file and the test it followed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whatever the cwd. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Crash-dump names: node's backtrace reports and core files (`core`, `core.1234`, `core-...`). */
export function isCrashDump(name) {
  return name.endsWith('.btr') || name.startsWith('core');
}

/** The crash dumps (plain files) directly inside each of `dirs`, as absolute paths. */
export function crashDumpsIn(dirs) {
  const found = new Set();
  for (const dir of dirs) {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue; // a cwd removed by a test is not this guard's business
    }
    for (const name of names) {
      if (!isCrashDump(name)) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).isFile()) found.add(path);
      } catch {
        // gone between readdir and stat
      }
    }
  }
  return found;
}

const dirs = [...new Set([ROOT, process.cwd()].map((d) => resolve(d)))];
let before = new Set();
/** New dump -> the full title of the test after which it was first seen. */
const seen = new Map();

function look(after) {
  for (const path of crashDumpsIn(dirs)) if (!before.has(path) && !seen.has(path)) seen.set(path, after);
}

export const mochaHooks = {
  beforeAll() {
    before = crashDumpsIn(dirs);
  },
  afterEach() {
    look(this.currentTest ? this.currentTest.fullTitle() : '(unknown test)');
  },
  afterAll() {
    look('(after the last test)');
    if (seen.size === 0) return;
    const lines = [...seen].map(([path, test]) => `  ${path} (first seen after: ${test})`);
    throw new Error(`crash dumps appeared during the run; remove them and fix the crash:\n${lines.join('\n')}`);
  },
};
