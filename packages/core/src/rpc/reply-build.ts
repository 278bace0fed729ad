/** What the RPC server builds replies from, and the checks of its numeric options. */
import type { Bulk } from '../protocol/bulk.js';
import { LbmMeta } from '../protocol/lbm-meta.js';
import { RPC_KIND_REPLY, RpcStatus } from './envelope.js';
import type { RpcEnvelope } from './envelope.js';

/** The reply of a handler that returned nothing; only ever encoded, never changed. */
export const EMPTY_REPLY = new LbmMeta();
/** An empty bulk vector, shared by replies that carry none. */
export const NO_BULKS: Bulk[] = [];

/** Makes `out` the reply to `req`: its status and text, and the handler's meta when it succeeded. */
export function fillReply(out: RpcEnvelope, req: RpcEnvelope, reply: LbmMeta | null, status: number, text: string): void {
  out.kind = RPC_KIND_REPLY;
  out.callId = req.callId;
  out.status = status;
  out.error = text;
  if (reply !== null && status === RpcStatus.OK) {
    out.body = reply;
    out.send = reply.send;
    out.recv = reply.recv;
  }
}

/** The message of a thrown value, for a reply's error text. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** `v`, checked to be a positive integer (`name` says which option). */
export function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`RpcServer ${name} must be a positive integer, got ${v}`);
  return v;
}

/** `v`, checked to be a non-negative number (`name` says which option). */
export function nonNegative(name: string, v: number): number {
  if (!(v >= 0)) throw new RangeError(`RpcServer ${name} must be a non-negative number, got ${v}`);
  return v;
}
