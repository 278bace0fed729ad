/**
 * The socket file of an `ipc://` bind. libzmq creates it on bind and leaves it behind when the
 * socket closes, so a process that binds many ipc endpoints fills the temp folder: the server
 * that bound a file removes it on close. The file's identity (device and inode) is taken at bind
 * time, so a file another socket has since bound at the same path is left alone.
 */
import { statSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';

/** A socket file this process bound. */
export interface IpcFile {
  /** Absolute path. */
  path: string;
  /** `stat().dev` at bind time. */
  dev: number;
  /** `stat().ino` at bind time. */
  ino: number;
}

/**
 * The file behind a bound ipc endpoint, or `null` when there is none to remove (an abstract
 * `ipc://@name`, or a path that cannot be read back).
 *
 * @param endpoint - the bound URL (`ipc:///tmp/x.sock`)
 */
export function ipcFileOf(endpoint: string | null): IpcFile | null {
  if (endpoint === null || !endpoint.startsWith('ipc://')) return null;
  const raw = endpoint.slice('ipc://'.length);
  if (raw === '' || raw.startsWith('@') || raw === '*') return null;
  const path = resolve(raw);
  try {
    const st = statSync(path);
    return st.isSocket() ? { path, dev: st.dev, ino: st.ino } : null;
  } catch {
    return null;
  }
}

/**
 * Removes the file if it is still the one bound (best effort: a file already gone, or replaced
 * by another bind, is not an error).
 *
 * @param file - from {@link ipcFileOf}
 */
export function removeIpcFile(file: IpcFile): void {
  try {
    const st = statSync(file.path);
    if (st.dev === file.dev && st.ino === file.ino) unlinkSync(file.path);
  } catch {
    // Gone already, or not ours to remove.
  }
}
