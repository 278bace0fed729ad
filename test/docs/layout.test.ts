/**
 * The source layout keeps what issue 19 set up: no import circle inside a package (type-only
 * imports included: a circle of types still ties two files together), every folder of a
 * package's `src/` says what lives there (a README.md), and files stay readable in length.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'shm', 'zmq-bridge', 'fabric', 'cli'];
/** Past this many lines a file must be listed below with the reason it stays whole. */
const MAX_LINES = 400;
/** Files allowed past MAX_LINES, each with why a split would not help a reader. */
const LONG_FILES: Record<string, string> = {
  'packages/core/src/archive/archive.ts': 'one class, the cereal archive surface: a method per wire type',
  'packages/core/src/protocol/server.ts': 'one class, the two-phase receive rules every transport inherits',
  'packages/shm/src/memory/slab-allocator.ts': 'one class whose Atomics protocol on the shared header reads best in one place',
  'packages/shm/src/ring/ring.ts': 'one class whose producer, consumer and parking protocol share every header field',
};

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts')) out.push(p);
  }
  return out;
}

function folders(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(p, ...folders(p));
  }
  return out;
}

/** Relative imports of one file, resolved to source paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) out.push(resolve(dirname(file), `${m[1]}.ts`));
  return out;
}

function findCycle(files: string[]): string[] | null {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 1) return [...stack.slice(stack.indexOf(g)), g];
      if (state.get(g) === undefined && graph.has(g)) {
        const c = visit(g);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(f, 2);
    return null;
  };
  for (const f of files) {
    if (state.get(f) === undefined) {
      const c = visit(f);
      if (c) return c.map((p) => relative(root, p));
    }
  }
  return null;
}

describe('source layout', () => {
  for (const pkg of PACKAGES) {
    const src = join(root, 'packages', pkg, 'src');

    it(`@lightbeam/${pkg}: no import circle between its source files`, () => {
      expect(findCycle(sources(src))).to.equal(null);
    });

    it(`@lightbeam/${pkg}: every folder under src/ has a README.md saying what lives there`, () => {
      const missing = folders(src).filter((d) => !readdirSync(d).includes('README.md')).map((d) => relative(root, d));
      expect(missing).to.deep.equal([]);
    });

    it(`@lightbeam/${pkg}: no source file past ${MAX_LINES} lines unless listed with its reason`, () => {
      const long = sources(src)
        .map((f) => relative(root, f))
        .filter((f) => readFileSync(join(root, f), 'utf8').split('\n').length > MAX_LINES && !(f in LONG_FILES));
      expect(long).to.deep.equal([]);
    });
  }
});
