/**
 * Packs files into messages of bounded size: small files share a message, a large file is cut
 * into pieces that each fill (at most) one message.
 */
import type { SourceFile } from './file-walk.js';

/** Default bound of the data carried by one message. */
export const DEFAULT_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Default bound of the pieces in one message (each piece is one bulk and one frame). */
export const DEFAULT_MESSAGE_PIECES = 256;

/** One piece of one file. */
export interface Piece {
  /** Index of the file in the planned list. */
  file: number;
  /** Where the piece starts in the file. */
  offset: number;
  /** How many bytes. */
  length: number;
}

/**
 * Plans the messages of a transfer. Every file gets at least one piece (an empty file is one
 * zero-length piece), pieces of one file are in order, and no message carries more than
 * `maxBytes` of data or more than `maxPieces` pieces.
 *
 * @param files - the files, in sending order
 * @param maxBytes - data bound per message, at least 1
 * @param maxPieces - piece bound per message, at least 1
 * @returns the messages, each a list of pieces
 */
export function planMessages(files: readonly SourceFile[], maxBytes = DEFAULT_MESSAGE_BYTES, maxPieces = DEFAULT_MESSAGE_PIECES): Piece[][] {
  if (!(maxBytes >= 1) || !(maxPieces >= 1)) throw new RangeError(`message bounds must be at least 1, got ${maxBytes} bytes and ${maxPieces} pieces`);
  const out: Piece[][] = [];
  let cur: Piece[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (cur.length > 0) out.push(cur);
    cur = [];
    bytes = 0;
  };
  files.forEach((f, file) => {
    let offset = 0;
    do {
      if (cur.length >= maxPieces || (bytes >= maxBytes && cur.length > 0)) flush();
      const length = Math.min(f.size - offset, maxBytes - bytes);
      cur.push({ file, offset, length });
      bytes += length;
      offset += length;
    } while (offset < f.size);
  });
  flush();
  return out;
}
