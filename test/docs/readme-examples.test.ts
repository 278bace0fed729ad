/**
 * Every TypeScript and JavaScript example in the READMEs and in docs/*.md runs as written: each is written out to
 * a folder inside the repository (so `@lightbeam/*` resolve as they would for a user of the
 * workspace), type-checked with the strictest settings a user may have on (`strict`,
 * `noUnusedLocals`, `noUncheckedIndexedAccess`), then run; it must print something and exit 0 on
 * its own. A block whose first line is `// name.ext: ...` is one file of a multi-file example
 * (the first such block is the entry); `// group/name.ext: ...` puts it in example `group`, so a
 * page can hold several multi-file examples; any other block is an example of its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, '.tmp', 'readme-examples');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

interface Example {
  /** Where it comes from, for messages: `packages/shm/README.md #1`. */
  name: string;
  /** File name -> contents; the first is the entry. */
  files: Array<[string, string]>;
}

/** The runnable examples of one markdown file. */
function examplesOf(md: string): Example[] {
  const text = readFileSync(join(ROOT, md), 'utf8');
  const blocks = [...text.matchAll(/^```(ts|js|mjs)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] as string, code: m[2] as string }));
  const out: Example[] = [];
  // Multi-file examples by group ('' for files named without a group), in order of appearance.
  const groups = new Map<string, Array<[string, string]>>();
  for (const b of blocks) {
    const file = /^\/\/ ((?:[\w-]+\/)?[\w.-]+\.(?:ts|mjs|js)):/.exec(b.code)?.[1];
    if (file === undefined) {
      out.push({ name: `${md} #${out.length + 1}`, files: [[`example.${b.lang === 'ts' ? 'ts' : 'mjs'}`, b.code]] });
      continue;
    }
    const slash = file.lastIndexOf('/');
    const group = slash < 0 ? '' : file.slice(0, slash);
    const files = groups.get(group) ?? [];
    files.push([file.slice(slash + 1), b.code]);
    groups.set(group, files);
  }
  for (const [group, files] of groups) out.push({ name: `${md} (${group === '' ? '' : `${group}: `}${files.map(([f]) => f).join(' + ')})`, files });
  return out;
}

const docs = [
  'README.md',
  ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/README.md`),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
].filter((md) => {
  try {
    readFileSync(join(ROOT, md));
    return true;
  } catch {
    return false;
  }
});

describe('README examples run as written', function () {
  this.timeout(120000);
  const examples = docs.flatMap(examplesOf);

  it('finds the examples (a README example that stops being found must not pass silently)', () => {
    expect(examples.length).to.be.at.least(4);
    const names = examples.map((e) => e.name);
    expect(names).to.include.members([
      'docs/using-it-fast.md #1',
      'docs/using-it-fast.md (measure: main.ts + worker.mjs)',
      'packages/zmq-bridge/README.md (bridge: host-a.ts + host-b.mjs + worker-b.mjs)',
    ]);
  });

  for (const [i, ex] of examples.entries()) {
    it(`${ex.name}: type-checks strictly, runs to completion and prints`, () => {
      const dir = join(OUT, String(i));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [file, code] of ex.files) writeFileSync(join(dir, file), code);
      const ts = ex.files.filter(([f]) => f.endsWith('.ts')).map(([f]) => f);
      if (ts.length > 0) {
        writeFileSync(
          join(dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              target: 'ES2022',
              lib: ['ES2023', 'ES2024.SharedMemory'],
              module: 'NodeNext',
              moduleResolution: 'NodeNext',
              strict: true,
              noUnusedLocals: true,
              noUnusedParameters: true,
              noUncheckedIndexedAccess: true,
              noImplicitOverride: true,
              noEmit: true,
              skipLibCheck: true,
              types: ['node'],
            },
            files: ts,
          }),
        );
        const tsc = spawnSync(TSC, ['-p', dir], { encoding: 'utf8' });
        expect(tsc.status, `tsc on ${relative(ROOT, dir)}:\n${tsc.stdout}${tsc.stderr}`).to.equal(0);
      }
      const entry = join(dir, ex.files[0]![0]);
      const run = spawnSync(process.execPath, ['--import', 'tsx', entry], { cwd: dir, encoding: 'utf8', timeout: 60000, env: { ...process.env, NODE_OPTIONS: '' } });
      expect(run.status, `${ex.name} exit status (signal ${run.signal}):\n${run.stdout}\n${run.stderr}`).to.equal(0);
      expect(run.stdout.trim(), `${ex.name} printed nothing`).to.not.equal('');
    });
  }
});
