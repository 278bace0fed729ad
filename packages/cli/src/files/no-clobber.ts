/**
 * How `lightbeam recv` gives a verified file its name without replacing a file already there:
 * a sender must not be able to overwrite what the receiving user keeps in the output folder
 * unless that user asked for it (`recv --force`).
 */
import { link, lstat, rename, unlink } from 'node:fs/promises';

/** How a `FileReceiver` treats files already in the output folder. */
export interface OverwritePolicy {
  /**
   * Replace a file of the same name (`recv --force`); otherwise such a file is refused and kept.
   * @defaultValue false
   */
  overwrite?: boolean;
}

/**
 * The reason given when a file is refused because its name is taken.
 *
 * @param name - the path as sent
 */
export function existsReason(name: string): string {
  return `refused ${JSON.stringify(name)}: a file of that name exists in the output folder (recv --force replaces it)`;
}

/**
 * Whether anything (file, folder, link) exists at `target`.
 *
 * @param target - absolute path
 */
export async function pathExists(target: string): Promise<boolean> {
  return (await lstat(target).catch(() => null)) !== null;
}

/** Errors of `link` on file systems without hard links, where check-then-rename is the fallback. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Moves `temp` to `target`. With `overwrite`, a plain rename (which replaces a file). Without,
 * a hard link then the removal of `temp`: `link` fails with EEXIST when the name is taken, so a
 * file created between the receiver's first check and now is never replaced (a check followed by
 * `rename` could be raced).
 *
 * @param temp - the verified temporary file, in the target's folder
 * @param target - the final name
 * @param overwrite - replace an existing file
 * @returns `true` when the file is in place; `false` when the name was taken (`temp` is left for
 *   the caller to remove)
 */
export async function placeFile(temp: string, target: string, overwrite: boolean): Promise<boolean> {
  if (overwrite) {
    await rename(temp, target);
    return true;
  }
  try {
    await link(temp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (await pathExists(target)) return false;
    await rename(temp, target);
    return true;
  }
  await unlink(temp);
  return true;
}
