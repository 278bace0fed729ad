/**
 * Turns the `lightbeam send` arguments (files and folders) into the list of files to send, each
 * with the relative name the receiver will write it under.
 */
import { lstat, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

/** A file to send. */
export interface SourceFile {
  /** Absolute path on this host. */
  absPath: string;
  /** Name at the receiver: `/`-separated, relative to its output folder. */
  relPath: string;
  /** Size in bytes, as seen when walking. */
  size: number;
  /** Permission bits (`0o777` at most), as seen when walking; the receiver gives them to the file. */
  mode?: number;
}

/** What the walk skipped, with the reason (symbolic links, sockets, devices). */
export interface SkippedPath {
  /** Absolute path. */
  absPath: string;
  /** Why it was skipped. */
  reason: string;
}

/** What {@link walkSources} found. */
export interface WalkedSources {
  /** Regular files to send, in walk order. */
  files: SourceFile[];
  /** Paths not sent (links, special files), with the reason. */
  skipped: SkippedPath[];
}

/**
 * Lists the files under `args`: a file is sent under its base name, a folder under its own name
 * with its tree below it (as `scp -r` does). Symbolic links are skipped rather than followed, so
 * a link cannot pull files from outside what was named, or loop.
 *
 * @param args - files and folders, as typed
 * @returns the files in a stable (sorted) order, and what was skipped
 * @throws Error naming a path that does not exist, or two arguments that map to the same name
 */
export async function walkSources(args: readonly string[]): Promise<WalkedSources> {
  const files: SourceFile[] = [];
  const skipped: SkippedPath[] = [];
  for (const arg of args) {
    const abs = resolve(arg);
    const st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? `no such file or folder: ${arg}` : `cannot read ${arg}: ${err.message}`);
    });
    const name = basename(abs);
    if (st.isFile()) files.push({ absPath: abs, relPath: name, size: st.size, mode: st.mode & 0o777 });
    else if (st.isDirectory()) await walkDir(abs, name, files, skipped);
    else skipped.push({ absPath: abs, reason: st.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.relPath)) throw new Error(`two arguments would both be sent as ${JSON.stringify(f.relPath)}`);
    seen.add(f.relPath);
  }
  return { files, skipped };
}

async function walkDir(abs: string, rel: string, files: SourceFile[], skipped: SkippedPath[]): Promise<void> {
  const entries = await readdir(abs, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const childAbs = join(abs, e.name);
    const childRel = `${rel}/${e.name}`;
    if (e.isDirectory()) await walkDir(childAbs, childRel, files, skipped);
    else if (e.isFile()) {
      const st = await lstat(childAbs);
      files.push({ absPath: childAbs, relPath: childRel, size: st.size, mode: st.mode & 0o777 });
    }
    else skipped.push({ absPath: childAbs, reason: e.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
}
