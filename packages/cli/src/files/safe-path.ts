/**
 * The receiver's guard against names that would write outside its output folder: absolute
 * paths, `..`, NUL bytes, and symbolic links planted inside the folder.
 */
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Longest relative path accepted, in UTF-16 code units (Linux's PATH_MAX is 4096 bytes). */
export const MAX_RELATIVE_PATH = 4096;

/** A name the receiver refuses; the message says why. */
export class UnsafePathError extends Error {
  /** @param message - what is wrong with which name */
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

/**
 * Checks a peer-supplied relative path without touching the file system and returns its
 * segments. Refused: empty, too long, NUL bytes, backslashes (a Windows separator a peer could
 * use to smuggle `..\`), absolute paths, drive letters, empty, `.` and `..` segments.
 *
 * @param name - the path from the wire
 * @throws UnsafePathError naming the path and the reason
 */
export function checkRelativePath(name: string): string[] {
  const shown = JSON.stringify(name);
  if (name.length === 0) throw new UnsafePathError('refused an empty file name');
  if (name.length > MAX_RELATIVE_PATH) throw new UnsafePathError(`refused a file name of ${name.length} characters (limit ${MAX_RELATIVE_PATH})`);
  if (name.includes('\0')) throw new UnsafePathError(`refused ${shown}: it contains a NUL byte`);
  if (name.includes('\\')) throw new UnsafePathError(`refused ${shown}: it contains a backslash`);
  if (name.startsWith('/')) throw new UnsafePathError(`refused ${shown}: absolute paths are not allowed`);
  if (/^[A-Za-z]:/.test(name)) throw new UnsafePathError(`refused ${shown}: drive-letter paths are not allowed`);
  const parts = name.split('/');
  for (const p of parts) {
    if (p === '..') throw new UnsafePathError(`refused ${shown}: it leaves the output folder through ".."`);
    if (p === '' || p === '.') throw new UnsafePathError(`refused ${shown}: empty or "." path segments are not allowed`);
  }
  return parts;
}

/**
 * Makes the parent folders of `name` inside `root` (which must exist and be a real path) and
 * returns the absolute target path. Every existing component is checked with `lstat`: a
 * symbolic link or a non-folder on the way, or a symbolic link at the target itself, is refused,
 * so a link planted in the output folder cannot redirect a write elsewhere.
 *
 * @param root - the output folder, already resolved with `realpath`
 * @param name - the path from the wire
 * @throws UnsafePathError naming the path and the reason
 */
export async function prepareTarget(root: string, name: string): Promise<string> {
  const parts = checkRelativePath(name);
  let dir = root;
  for (let i = 0; i < parts.length - 1; i++) {
    dir = join(dir, parts[i]);
    const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st === null) {
      await mkdir(dir);
    } else if (st.isSymbolicLink()) {
      throw new UnsafePathError(`refused ${JSON.stringify(name)}: ${JSON.stringify(parts.slice(0, i + 1).join('/'))} is a symbolic link`);
    } else if (!st.isDirectory()) {
      throw new UnsafePathError(`refused ${JSON.stringify(name)}: ${JSON.stringify(parts.slice(0, i + 1).join('/'))} is not a folder`);
    }
  }
  const target = join(dir, parts[parts.length - 1]);
  const st = await lstat(target).catch(() => null);
  if (st !== null && st.isSymbolicLink()) throw new UnsafePathError(`refused ${JSON.stringify(name)}: the target is a symbolic link`);
  if (st !== null && st.isDirectory()) throw new UnsafePathError(`refused ${JSON.stringify(name)}: the target is a folder`);
  // Belt and braces against a race with whoever else writes in the folder: the parent we
  // reached must still resolve inside the root.
  const rel = relative(root, await realpath(dir));
  if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) {
    throw new UnsafePathError(`refused ${JSON.stringify(name)}: its folder resolves outside the output folder`);
  }
  return target;
}
