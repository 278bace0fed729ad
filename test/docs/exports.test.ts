/**
 * The public surface of every package, values and types alike, as TypeScript sees it from the
 * package's `src/index.ts`, is the one recorded in test/fixtures/exports/<package>.json. A moved
 * or renamed file must not change what a user can import; a deliberate API change updates the
 * fixture in the same commit (`LBM_UPDATE_EXPORTS=1` rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'shm', 'zmq-bridge', 'fabric', 'cli'];

/** `name: kind` for each export of one package's entry file, sorted. */
function exportedNames(pkg: string): string[] {
  const entry = join(root, 'packages', pkg, 'src', 'index.ts');
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`no source file ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return [];
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const kind = target.flags & ts.SymbolFlags.Value ? 'value' : 'type';
      return `${s.getName()}: ${kind}`;
    })
    .sort();
}

describe('exported names of every package', function () {
  this.timeout(120000);
  for (const pkg of PACKAGES) {
    it(`@lightbeam/${pkg} exports exactly the names in test/fixtures/exports/${pkg}.json`, () => {
      const fixture = join(root, 'test', 'fixtures', 'exports', `${pkg}.json`);
      const names = exportedNames(pkg);
      if (process.env.LBM_UPDATE_EXPORTS === '1') writeFileSync(fixture, `${JSON.stringify(names, null, 2)}\n`);
      expect(names.length).to.be.greaterThan(0);
      expect(names).to.deep.equal(JSON.parse(readFileSync(fixture, 'utf8')));
    });
  }
});
