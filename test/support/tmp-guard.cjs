// Suite-wide check that the tests leave the temporary folder as they found it. Loaded through
// .mocharc.cjs `require`, before any test file: it points TMPDIR (and so os.tmpdir() here, in
// worker threads and in child processes) at a private folder, so files other people's processes
// make in the shared temp folder cannot be blamed on this run, nor ours hidden among theirs.
// After the last test, ipc socket files or Lightbeam-named files still there fail the run; the
// private folder is then removed, so the real temp folder is left as it was either way.
const { lstatSync, mkdtempSync, readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative } = require('node:path');

const realTmp = tmpdir();
const ownTmp = mkdtempSync(join(realTmp, 'lbmt-'));
process.env.TMPDIR = ownTmp;
process.env.TMP = ownTmp;
process.env.TEMP = ownTmp;

/** Compile caches tools keep in the temp folder (tsx in child processes): not a leak. */
const CACHE_NAME = /^tsx-/;
/** Names a test or the library makes: ipc endpoints, RPC reply sockets, test channels. */
const LIGHTBEAM_NAME = /^(lbm-|rpc-test-)/;
/** Enough for any honest leftover list; a runaway one is cut there. */
const MAX_ENTRIES = 10000;

/** Everything under `dir` (depth first), as paths relative to it, with whether each is a socket. */
function entries(dir) {
  const out = [];
  const walk = (d) => {
    let names;
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      if (out.length >= MAX_ENTRIES) return;
      const p = join(d, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      out.push({ path: relative(dir, p), name, socket: st.isSocket() });
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

exports.mochaHooks = {
  afterAll() {
    const left = entries(ownTmp);
    rmSync(ownTmp, { recursive: true, force: true });
    if (left.length === 0) return;
    const bad = left.filter((e) => e.socket || LIGHTBEAM_NAME.test(e.name));
    const others = left.filter((e) => !bad.includes(e) && !CACHE_NAME.test(e.path.split('/')[0]));
    if (others.length > 0) process.stderr.write(`tmp-guard: the tests also left ${others.length} other entries in the temp folder: ${others.slice(0, 10).map((e) => e.path).join(', ')}\n`);
    if (bad.length > 0) {
      throw new Error(`the tests left ${bad.length} ipc socket or Lightbeam files in the temp folder: ${bad.slice(0, 20).map((e) => e.path).join(', ')}${bad.length > 20 ? ', ...' : ''}`);
    }
  },
};
