/**
 * The one part of a metadata frame the bridge reads: its send vector (sizes and flags).
 */
import type { ArchiveLimits, Bulk } from '@lightbeam/core';
import { Archive } from '@lightbeam/core';

/**
 * Reads the send vector of a metadata frame and checks the recv vector is whole; custom fields
 * are not read. Never throws.
 *
 * @param frame - a metadata frame from the wire
 * @param limits - decoding limits
 * @returns the send bulks (`data: null`, flags as on the wire), or `null` when malformed
 */
export function readSendBulks(frame: Uint8Array, limits: ArchiveLimits): Bulk[] | null {
  try {
    const ar = new Archive(true, frame, limits);
    const send = ar.readBulks();
    ar.readBulks();
    return send;
  } catch {
    return null;
  }
}
