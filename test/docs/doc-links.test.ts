/**
 * The docs stand alone and point somewhere. A package README is read from the repository and,
 * packed, from `node_modules/@lightbeam/<pkg>/`: a relative link may leave its package folder only
 * for the README of a `@lightbeam/*` dependency (installed as a sibling by npm and pnpm alike);
 * anything else (`../../docs/...`) is broken once installed. Every relative link in the
 * repository's markdown names a file (and heading) that exists. No file cites the private design
 * notes, which are not in the repository. Counts of bench suites and tarball paths given to npm
 * are checked against what is there.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((p) => existsSync(join(ROOT, 'packages', p, 'package.json')));
/** Split so that this file does not cite it. */
const PRIVATE_NOTES = ['DESIGN', 'md'].join('.');

/** `[text](target)` and `[label]: target`, without code spans and fenced blocks. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string);
  const refs = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] as string);
  return [...inline, ...refs];
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#') && !target.startsWith('/');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  return new Set(
    [...prose.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)].map((m) =>
      (m[1] as string)
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

/**
 * What is wrong with the relative links of one markdown file, one line each; `pkg` names the
 * package folder a packed README must stay in (with its `@lightbeam/*` dependencies' READMEs).
 */
function linkProblems(file: string, markdown: string, pkg?: { dir: string; deps: readonly string[] }): string[] {
  const problems: string[] = [];
  for (const link of linksOf(markdown).filter(isRelative)) {
    const [path = '', anchor] = link.split('#');
    const target = resolve(dirname(file), decodeURIComponent(path));
    if (pkg !== undefined) {
      const inside = target === pkg.dir || target.startsWith(pkg.dir + sep);
      const depReadme = pkg.deps.some((d) => target === join(dirname(pkg.dir), d, 'README.md'));
      if (!inside && !depReadme) problems.push(`${link}: leaves the package folder, broken once the package is installed`);
    }
    if (!existsSync(target)) {
      problems.push(`${link}: no such file (${relative(ROOT, target)})`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
      problems.push(`${link}: no heading #${anchor} in ${relative(ROOT, target)}`);
    }
  }
  return problems;
}

/** Files under `dir` (recursively) whose names end in one of `exts`, skipping build outputs. */
function filesUnder(dir: string, exts: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'build' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(full);
  }
  return out;
}

function dependenciesOf(pkg: string): string[] {
  const json = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(json.dependencies ?? {})
    .filter((d) => d.startsWith('@lightbeam/'))
    .map((d) => d.slice('@lightbeam/'.length));
}

const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const READMES = ['README.md', ...PACKAGES.map((p) => `packages/${p}/README.md`)].filter((f) => existsSync(join(ROOT, f)));
const MARKDOWN = [...READMES, ...filesUnder(join(ROOT, 'docs'), ['.md']).map((f) => relative(ROOT, f)), 'examples/README.md'].filter((f) =>
  existsSync(join(ROOT, f)),
);

describe('docs point somewhere', () => {
  describe('the link checker itself', () => {
    const dir = join(ROOT, 'packages', 'shm');
    const file = join(dir, 'README.md');
    it('flags a link out of the package folder, and a missing file', () => {
      const problems = linkProblems(file, 'see [porting](../../docs/porting.md) and [x](./nope.md)', { dir, deps: ['core'] });
      expect(problems.join('\n')).to.match(/\.\.\/\.\.\/docs\/porting\.md: leaves the package folder/).and.match(/nope\.md: no such file/);
    });
    it("accepts a dependency's README, links in code spans, and absolute URLs", () => {
      const md = '[core](../core/README.md) `[a](../../x.md)` [npm](https://www.npmjs.com/)\n```md\n[b](../../y.md)\n```\n';
      expect(linkProblems(file, md, { dir, deps: ['core'] })).to.deep.equal([]);
    });
    it('flags a sibling that is not a dependency, and a heading that is not there', () => {
      const problems = linkProblems(file, '[cli](../cli/README.md) [c](../core/README.md#no-such-heading)', { dir, deps: ['core'] });
      expect(problems).to.have.length(2);
    });
  });

  for (const pkg of PACKAGES) {
    const readme = join(ROOT, 'packages', pkg, 'README.md');
    if (!existsSync(readme)) continue;
    it(`packages/${pkg}/README.md links only inside its package (or to a dependency's README), to files that exist`, () => {
      const problems = linkProblems(readme, readFileSync(readme, 'utf8'), { dir: join(ROOT, 'packages', pkg), deps: dependenciesOf(pkg) });
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });
  }

  for (const md of MARKDOWN.filter((f) => !f.startsWith('packages/'))) {
    it(`${md}: every relative link names a file and heading that exist`, () => {
      const problems = linkProblems(join(ROOT, md), readFileSync(join(ROOT, md), 'utf8'));
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });
  }

  it(`no doc, source, test, bench or example cites ${PRIVATE_NOTES} (it is not in the repository)`, () => {
    const files = [
      ...MARKDOWN.map((f) => join(ROOT, f)),
      ...filesUnder(join(ROOT, 'packages'), ['.ts', '.mts', '.js', '.mjs', '.cjs', '.cc', '.md', '.json']),
      ...['bench', 'test', 'examples', 'tools', 'docs'].flatMap((d) => filesUnder(join(ROOT, d), ['.ts', '.mts', '.js', '.mjs', '.cjs', '.md'])),
    ];
    expect(files.length).to.be.above(50);
    const citing = [...new Set(files)].filter((f) => readFileSync(f, 'utf8').includes(PRIVATE_NOTES)).map((f) => relative(ROOT, f));
    expect(citing).to.deep.equal([]);
  });

  it('the number of bench suites a README states is the number of bench/*.bench.ts files', () => {
    const suites = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.bench.ts')).length;
    const stated = READMES.flatMap((md) =>
      [...readFileSync(join(ROOT, md), 'utf8').matchAll(/\b(\w+) suites\b/gi)]
        .map((m) => (m[1] as string).toLowerCase())
        .filter((w) => NUMBERS.includes(w) || /^\d+$/.test(w))
        .map((w) => ({ md, n: NUMBERS.includes(w) ? NUMBERS.indexOf(w) : Number(w) })),
    );
    expect(stated.length, 'no README states a number of suites: the check would pass by finding nothing').to.be.above(0);
    expect(stated.filter((s) => s.n !== suites)).to.deep.equal([]);
  });

  it('every tarball path given to npm install starts with ./, ../ or / (npm reads a/b.tgz as a GitHub shorthand)', () => {
    const bad = MARKDOWN.flatMap((md) =>
      readFileSync(join(ROOT, md), 'utf8')
        .split('\n')
        .filter((line) => /\bnpm (install|i)\b/.test(line))
        .flatMap((line) => line.split(/\s+/).filter((w) => w.endsWith('.tgz') && !/^(\.{1,2}\/|\/)/.test(w)))
        .map((w) => `${md}: ${w}`),
    );
    expect(bad).to.deep.equal([]);
  });
});
