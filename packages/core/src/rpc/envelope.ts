/**
 * The RPC envelope: the fields every request, reply and cancel carries, written as custom
 * metadata (cereal binary archive) right after the two bulk vectors and before the body's own
 * custom fields. docs/rpc.md gives the same layout for a C++ peer.
 *
 * | order | field      | cereal type | bytes      | request            | reply               | cancel    |
 * |------:|------------|-------------|------------|--------------------|---------------------|-----------|
 * | 1     | `version`  | `u8`        | 1          | 1                  | 1                   | 1         |
 * | 2     | `kind`     | `u8`        | 1          | 1                  | 2                   | 3         |
 * | 3     | `callId`   | `u64`       | 8          | caller's id (> 0)  | the request's id    | the id    |
 * | 4     | `method`   | string      | 8 + n      | handler name       | empty               | empty     |
 * | 5     | `budgetMs` | `u32`       | 4          | ms left, 0 = none  | 0                   | 0         |
 * | 6     | `status`   | `i32`       | 4          | 0                  | {@link RpcStatus}   | 0         |
 * | 7     | `replyTo`  | string      | 8 + n      | reply address      | empty               | reply address |
 * | 8     | `error`    | string      | 8 + n      | empty              | text when status ≠ 0 | empty    |
 * | 9     | body       | the body meta's `serialize` | … | request fields | reply fields (status 0) | none |
 *
 * A string is cereal's `u64 length` then UTF-8 bytes. The deadline travels as a budget (ms left
 * when the request was sent), not a clock reading, so hosts need no synchronised clocks.
 */
import type { Archive } from '../archive/archive.js';
import { MalformedError } from '../archive/wire-bytes.js';
import { LbmMeta } from '../protocol/lbm-meta.js';

/** Envelope version this library writes and accepts. */
export const RPC_VERSION = 1;
/** `kind` of a request. */
export const RPC_KIND_REQUEST = 1;
/** `kind` of a reply. */
export const RPC_KIND_REPLY = 2;
/** `kind` of a cancel: the caller gave up on `callId`; the server aborts or drops it. */
export const RPC_KIND_CANCEL = 3;
/** Longest method name accepted (UTF-8 bytes): a hostile peer cannot make the server allocate more. */
export const RPC_MAX_METHOD_BYTES = 256;
/** Longest reply address accepted (UTF-8 bytes). */
export const RPC_MAX_REPLY_TO_BYTES = 512;
/** Longest error text accepted (UTF-8 bytes); longer texts are cut when sent. */
export const RPC_MAX_ERROR_BYTES = 4096;
/** Largest `budgetMs` (u32). */
export const RPC_MAX_BUDGET_MS = 0xffff_ffff;

/** Reply `status` values on the wire; each maps to one `LightbeamError` code. */
export const RpcStatus = {
  /** The handler returned; the body is its reply. */
  OK: 0,
  /** The handler threw or rejected (`ERR_LBM_RPC_HANDLER`). */
  HANDLER_FAILED: 1,
  /** No handler under that name (`ERR_LBM_RPC_NO_METHOD`). */
  NO_METHOD: 2,
  /** The server's queue was full (`ERR_LBM_RPC_OVERLOADED`). */
  OVERLOADED: 3,
  /** The request's fields or bulks could not be decoded (`ERR_LBM_RPC_BAD_REQUEST`). */
  BAD_REQUEST: 4,
  /** The server closed before the handler answered (`ERR_LBM_RPC_SHUTDOWN`). */
  SHUTDOWN: 5,
} as const;

/** One of the {@link RpcStatus} values. */
export type RpcStatus = (typeof RpcStatus)[keyof typeof RpcStatus];

/** Picks the meta that decodes a body once the envelope fields are known (method or call id). */
export type BodyResolver = (envelope: RpcEnvelope) => LbmMeta;

/**
 * An RPC message: the envelope fields, then `body`'s custom fields. Its `send` and `recv`
 * vectors are the body's. When decoding, `resolveBody` chooses the body meta after the envelope
 * fields are read; a body whose fields fail to decode sets `bodyMalformed` instead of failing
 * the whole message, so the server can still answer that call with `BAD_REQUEST`.
 */
export class RpcEnvelope extends LbmMeta {
  /** Envelope version ({@link RPC_VERSION}). */
  version = RPC_VERSION;
  /** {@link RPC_KIND_REQUEST}, {@link RPC_KIND_REPLY} or {@link RPC_KIND_CANCEL}. */
  kind = RPC_KIND_REQUEST;
  /** The caller's correlation id (a safe integer > 0). */
  callId = 0;
  /** Handler name (requests). */
  method = '';
  /** Milliseconds the caller still waits, 0 for no deadline (requests). */
  budgetMs = 0;
  /** {@link RpcStatus} (replies). */
  status = 0;
  /** Where replies go: a shared-memory channel name or a ZeroMQ URL (requests, cancels). */
  replyTo = '';
  /** Failure text (replies whose status is not OK). */
  error = '';
  /** The meta whose custom fields follow the envelope; `null` for none. */
  body: LbmMeta | null = null;
  /** Set while decoding when the body's fields were malformed or its `serialize` threw. */
  bodyMalformed = false;
  /** The body's decoding failure, kept for the reply text. */
  bodyError: unknown = undefined;

  /** @param resolveBody - picks the body meta when decoding; unused when encoding */
  constructor(private readonly resolveBody: BodyResolver | null = null) {
    super();
  }

  override serialize(ar: Archive): void {
    if (ar.reading) {
      // An envelope may be decoded into again: nothing of the last message may survive.
      this.body = null;
      this.bodyMalformed = false;
      this.bodyError = undefined;
    }
    this.version = ar.u8(this.version);
    if (ar.reading && this.version !== RPC_VERSION) throw new MalformedError(`rpc envelope version ${this.version} is not ${RPC_VERSION}`);
    this.kind = ar.u8(this.kind);
    this.callId = ar.usize(this.callId);
    this.method = boundedString(ar, this.method, RPC_MAX_METHOD_BYTES, 'method', LAST_METHOD);
    this.budgetMs = ar.u32(this.budgetMs);
    this.status = ar.i32(this.status);
    this.replyTo = boundedString(ar, this.replyTo, RPC_MAX_REPLY_TO_BYTES, 'replyTo', LAST_REPLY_TO);
    this.error = boundedString(ar, this.error, RPC_MAX_ERROR_BYTES, 'error', -1);
    if (!ar.reading) {
      this.body?.serialize(ar);
      return;
    }
    if (this.kind !== RPC_KIND_REQUEST && this.kind !== RPC_KIND_REPLY && this.kind !== RPC_KIND_CANCEL) {
      throw new MalformedError(`rpc envelope kind ${this.kind} is unknown`);
    }
    if (this.callId === 0) throw new MalformedError('rpc envelope callId is 0');
    if (this.kind === RPC_KIND_CANCEL || this.resolveBody === null) return;
    const body = this.resolveBody(this);
    this.body = body;
    try {
      body.serialize(ar);
    } catch (err) {
      // The envelope is intact, so the call can still be answered (or failed) by id; what the
      // body's serialize throws on hostile bytes is a property of that body alone.
      this.bodyMalformed = true;
      this.bodyError = err;
    }
  }
}

/**
 * The last ASCII string decoded into each field of this thread's envelopes: a stream of calls
 * repeats its method and reply address, and handing back the same string spares its decoding
 * and the hashing of a new string by the map lookups that key on it (a 44-byte reply address per
 * request and per lookup).
 */
const lastDecoded = ['', ''];
const LAST_METHOD = 0;
const LAST_REPLY_TO = 1;

/** True when the bytes at `at` are `s`'s characters, all ASCII. */
function sameAscii(buf: Uint8Array, at: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || buf[at + i] !== c) return false;
  }
  return true;
}

/**
 * A string field whose decoded length is checked against `max` before its bytes are read;
 * on encode, longer strings are a programming error except `error`, which is cut. `slot` names
 * the field's entry in {@link lastDecoded} (-1: none).
 */
function boundedString(ar: Archive, v: string, max: number, name: string, slot: number): string {
  if (ar.reading) {
    const at = ar.pos;
    const n = ar.usize(0);
    if (n > max) throw new MalformedError(`rpc envelope ${name} is ${n} bytes, more than ${max}`);
    if (slot >= 0 && n > 0 && n <= ar.remaining()) {
      const prev = lastDecoded[slot] as string;
      if (prev.length === n && sameAscii(ar.buffer, ar.pos, prev)) {
        ar.pos += n;
        return prev;
      }
    }
    ar.pos = at;
    const s = ar.string('');
    if (slot >= 0) lastDecoded[slot] = s;
    return s;
  }
  if (v.length > max / 3 && Buffer.byteLength(v) > max) {
    if (name !== 'error') throw new RangeError(`rpc ${name} must be at most ${max} UTF-8 bytes, got ${Buffer.byteLength(v)}`);
    // Cut short of the bound: a split character decodes as U+FFFD, which takes 3 bytes.
    return ar.string(Buffer.from(v).subarray(0, max - 3).toString());
  }
  return ar.string(v);
}
