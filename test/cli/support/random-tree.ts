/**
 * Seeded random folders for the transfer tests.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Prng } from '../../support/prng.js';

/** Fills `n` bytes from the generator (4 bytes per draw). */
export function randomBytesFrom(prng: Prng, n: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = prng.nextU32();
  return new Uint8Array(words.buffer, 0, n);
}

/**
 * Writes files of the given sizes (name → size) under `dir`, with seeded contents.
 *
 * @returns name → SHA-256 hex of what was written
 */
export async function writeTree(dir: string, sizes: Record<string, number>, seed: number): Promise<Map<string, string>> {
  const prng = new Prng(seed);
  const out = new Map<string, string>();
  for (const [name, size] of Object.entries(sizes)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    const data = randomBytesFrom(prng, size);
    await writeFile(path, data);
    out.set(name, createHash('sha256').update(data).digest('hex'));
  }
  return out;
}

/**
 * name (relative to `dir`, `/`-separated) → SHA-256 hex of every regular file under `dir`; empty
 * when `dir` does not exist (`recv` creates its output folder only when a file arrives).
 */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.set(relative(dir, p).split('\\').join('/'), createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  if (!existsSync(dir)) return out;
  await walk(dir);
  return out;
}
