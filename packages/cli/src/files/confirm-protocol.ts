/**
 * The reply path of `lightbeam send` / `lightbeam recv`: how the receiver confirms each file's
 * verified SHA-256 back to the sender. The data path is untouched (PUSH/PULL, the C++ wire); the
 * reply path is a second ZeroMQ connection beside it, from the sender's DEALER to a ROUTER the
 * receiver binds on the next port (`--reply-port`, default data port + 1).
 *
 * | direction         | frames (after ZeroMQ's routing id on the ROUTER side) | when                            |
 * |-------------------|-------------------------------------------------------|---------------------------------|
 * | sender → receiver | `{"op":"watch","transferId":T,"messageBytes"?:N}`     | before any data is sent         |
 * | receiver → sender | `{"event":"watching","transferId":T}`                 | answer to `watch`               |
 * | receiver → sender | `{"event":"file","transferId":T,"path":P,"sha256":H}` | a file was written and verified |
 * | receiver → sender | `{"event":"refused","transferId":T,"path":P,"reason":R}` | a file or message was refused, or (path `(transfer)`, instead of `watching`) the whole transfer |
 * | receiver → sender | `{"event":"done","transferId":T,"received":N,"announced":M,"abandoned"?:W}` | the transfer ended |
 *
 * One JSON object per frame, UTF-8. The sender waits for `watching` before it sends data: the
 * answer proves a `lightbeam recv` listens there (not another service) and that the receiver
 * will route this transfer's events to it, so none can be missed. `messageBytes` is the most data
 * one message of the transfer will carry: a receiver whose bound is lower refuses the transfer
 * at once (before any data leaves, which ZeroMQ would otherwise drop unseen, with the sender's
 * connection, once a frame passes the socket's ZMQ_MAXMSGSIZE). Each side bounds what it
 * reads ({@link MAX_CONFIRM_FRAME_BYTES}) and ignores anything that does not parse.
 */

/** The `path` of a `refused` event that refuses the whole transfer, in answer to `watch`. */
export const TRANSFER_PATH = '(transfer)';

/** Largest frame either side reads on the reply path (ZMQ_MAXMSGSIZE); a path is at most 4096 bytes. */
export const MAX_CONFIRM_FRAME_BYTES = 16 * 1024;
/** Longest transfer id accepted on the reply path (`lightbeam send` uses a 36-character UUID). */
export const MAX_TRANSFER_ID_CHARS = 128;

/** The sender's request: route this transfer's events to me. */
export interface WatchRequest {
  /** Always `watch`. */
  op: 'watch';
  /** The transfer to watch. */
  transferId: string;
  /** The most data (bytes) one message of this transfer carries; absent from older senders. */
  messageBytes?: number;
}

/** An event of the reply path, sent by the receiver; see the table in the file comment. */
export type ConfirmEvent =
  | { event: 'watching'; transferId: string }
  | { event: 'file'; transferId: string; path: string; sha256: string }
  | { event: 'refused'; transferId: string; path: string; reason: string }
  | { event: 'done'; transferId: string; received: number; announced: number; abandoned?: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

function parseObject(frame: Uint8Array): Record<string, unknown> | null {
  if (frame.byteLength > MAX_CONFIRM_FRAME_BYTES) return null;
  try {
    const v: unknown = JSON.parse(decoder.decode(frame));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TRANSFER_ID_CHARS;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads a sender's request; never throws.
 *
 * @param frame - the frame after the routing id
 * @returns the request, or `null` when it is not a well-formed `watch`
 */
export function decodeWatch(frame: Uint8Array): WatchRequest | null {
  const o = parseObject(frame);
  if (o === null || o.op !== 'watch' || !isId(o.transferId)) return null;
  // A malformed bound is ignored, as a field from a newer sender would be: the data path checks anyway.
  return isCount(o.messageBytes) ? { op: 'watch', transferId: o.transferId, messageBytes: o.messageBytes } : { op: 'watch', transferId: o.transferId };
}

/**
 * Reads a receiver's event; never throws.
 *
 * @param frame - one frame from the receiver
 * @returns the event, or `null` when it is not a well-formed one
 */
export function decodeEvent(frame: Uint8Array): ConfirmEvent | null {
  const o = parseObject(frame);
  if (o === null || !isId(o.transferId)) return null;
  const transferId = o.transferId;
  switch (o.event) {
    case 'watching':
      return { event: 'watching', transferId };
    case 'file':
      return typeof o.path === 'string' && typeof o.sha256 === 'string' ? { event: 'file', transferId, path: o.path, sha256: o.sha256 } : null;
    case 'refused':
      return typeof o.path === 'string' && typeof o.reason === 'string' ? { event: 'refused', transferId, path: o.path, reason: o.reason } : null;
    case 'done':
      if (!isCount(o.received) || !isCount(o.announced)) return null;
      return typeof o.abandoned === 'string'
        ? { event: 'done', transferId, received: o.received, announced: o.announced, abandoned: o.abandoned }
        : { event: 'done', transferId, received: o.received, announced: o.announced };
    default:
      return null;
  }
}

/** Encodes a request or an event as one frame. */
export function encodeConfirm(msg: WatchRequest | ConfirmEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(msg));
}
