/**
 * The bridge's routing frame: which shared-memory channel a forwarded message is for. It goes in
 * front of the C++ frames of the message, which follow unchanged.
 *
 * A routed message is a ZeroMQ multipart message:
 *
 * | frame | content                                                    |
 * |-------|------------------------------------------------------------|
 * | 0     | the routing frame (below)                                  |
 * | 1     | the metadata frame, exactly as the C++ wire has it         |
 * | 2...  | one frame per BULK_XFER bulk of the send vector, in order  |
 *
 * The routing frame (integers little-endian):
 *
 * | offset | size    | field                                   |
 * |--------|---------|-----------------------------------------|
 * | 0      | 4       | magic `4c 42 4d 52` ("LBMR")            |
 * | 4      | 1       | version, 1                              |
 * | 5      | 1       | reserved, zero                          |
 * | 6      | 2       | `u16 nameLen`, 1..96                    |
 * | 8      | nameLen | the channel name, UTF-8                 |
 *
 * Why a C++ metadata frame can never be read as a routing frame: a C++ frame 0 starts with the
 * `u64` count of its send vector. The routing frame's first eight bytes read as such a count are
 * at least 2^32 + "LBMR", so a frame 0 that began with them would have to carry over four billion
 * 12-byte bulk descriptors (48 GiB) to be valid: no sender produces it, and the check below also
 * requires the exact length `8 + nameLen`. The batch marker of batch-codec.ts (8 bytes, "LBMB")
 * is distinct from it by magic.
 *
 * The frame is at most 104 bytes, under zeromq.js's 128-byte copy threshold: zeromq.js copies it
 * on send, so one frame per channel can be reused for every message.
 */
import { LightbeamError } from '@lightbeam/core';

/** Bytes of the routing frame before the channel name. */
export const ROUTE_HEADER_BYTES = 8;
/** The routing frame's magic, "LBMR" read as a little-endian u32. */
export const ROUTE_MAGIC = 0x524d424c;
/** The routing framing version this code writes and reads. */
export const ROUTE_VERSION = 1;
/** Longest channel name in bytes (the shared-memory channel directory's limit). */
export const MAX_ROUTE_NAME_BYTES = 96;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds the routing frame for `channel`.
 *
 * @param channel - the channel name on the receiving host
 * @throws LightbeamError `ERR_LBM_INVALID_ARGUMENT` for an empty or too long name
 */
export function encodeRoute(channel: string): Uint8Array {
  const name = encoder.encode(channel);
  if (typeof channel !== 'string' || name.byteLength === 0 || name.byteLength > MAX_ROUTE_NAME_BYTES) {
    throw new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `channel name must be 1..${MAX_ROUTE_NAME_BYTES} UTF-8 bytes, got ${JSON.stringify(channel)}`);
  }
  const frame = new Uint8Array(ROUTE_HEADER_BYTES + name.byteLength);
  const dv = new DataView(frame.buffer);
  dv.setUint32(0, ROUTE_MAGIC, true);
  frame[4] = ROUTE_VERSION;
  dv.setUint16(6, name.byteLength, true);
  frame.set(name, ROUTE_HEADER_BYTES);
  return frame;
}

/** True when `frame` starts like a routing frame (magic), whatever its version or length. */
export function looksLikeRoute(frame: Uint8Array): boolean {
  return frame.byteLength >= 4 && frame[0] === 0x4c && frame[1] === 0x42 && frame[2] === 0x4d && frame[3] === 0x52;
}

/**
 * Reads the channel name of a routing frame.
 *
 * @param frame - frame 0 of a message that {@link looksLikeRoute}
 * @returns the channel name, or `null` when the frame is malformed (wrong version, length or
 *   name bytes); never throws
 */
export function decodeRoute(frame: Uint8Array): string | null {
  if (!looksLikeRoute(frame) || frame.byteLength < ROUTE_HEADER_BYTES + 1 || frame[4] !== ROUTE_VERSION || frame[5] !== 0) return null;
  const len = frame[6] | (frame[7] << 8);
  if (len === 0 || len > MAX_ROUTE_NAME_BYTES || frame.byteLength !== ROUTE_HEADER_BYTES + len) return null;
  try {
    return decoder.decode(frame.subarray(ROUTE_HEADER_BYTES));
  } catch {
    return null;
  }
}
