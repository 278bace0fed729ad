/**
 * What a lost peer looks like on libfabric: the errnos its operations complete with. Both sides
 * report any of them as `ECONNRESET`, the code the API promises for a lost peer.
 */
import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Errors an operation completes with when its peer's connection is gone (ENOTCONN, ECONNRESET,
 * ECONNREFUSED, EPIPE, ECONNABORTED, EHOSTUNREACH, and the provider's own ETIMEDOUT and
 * ECANCELED: tcp;ofi_rxm cancels what was posted on a connection it lost). Only completions are
 * looked up here: a caller's own deadline and cancels never pass through this set.
 */
export const PEER_GONE = new Set([107, 104, 111, 32, 103, 113, 110, 125]);

/** How often a side that waits on a peer, or keeps posting to it, asks whether it is still alive. */
export const PROBE_MS = 50;

/**
 * Where a process runs, as far as its pid means anything to another: the kernel's boot id (16
 * bytes) and the inode of its pid namespace (8 bytes). Two processes with equal origins can ask
 * the kernel whether the other's pid is alive. `null` where /proc does not tell.
 */
export function localOrigin(): Uint8Array | null {
  if (origin !== undefined) return origin;
  origin = null;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
    const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'));
    if (boot.length === 32 && ns !== null) {
      const out = new Uint8Array(ORIGIN_BYTES);
      out.set(Buffer.from(boot, 'hex'), 0);
      new DataView(out.buffer).setBigUint64(16, BigInt(ns[1]), true);
      origin = out;
    }
  } catch {
    // No /proc: peers are never probed by pid, only by what the provider reports.
  }
  return origin;
}

let origin: Uint8Array | null | undefined;

/** Bytes of {@link localOrigin}. */
export const ORIGIN_BYTES = 24;

/** True unless the process `pid` (of this origin) is gone or a zombie. */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
