/**
 * SHA-256 of a file, streamed so a large file never sits in memory whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Hashes a file.
 *
 * @param path - the file
 * @returns the 32-byte digest
 */
export async function sha256File(path: string): Promise<Uint8Array> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return new Uint8Array(h.digest());
}

/** Lower-case hex of a digest, for reports. */
export function toHex(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
}
