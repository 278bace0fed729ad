/**
 * What a Lightbeam message looks like on a libfabric endpoint. Every message is one untagged
 * send into a receive the peer keeps posted; bulk data either rides inline in it (small XFER
 * bulks) or stays in the sender's registered memory until the receiver reads it with a one-sided
 * `fi_read` straight into the buffer it chose, then tells the sender to release it.
 *
 * A metadata message (client to server), little-endian:
 *
 * | offset      | size | field                                     | written by |
 * |-------------|------|-------------------------------------------|------------|
 * | 0           | 4    | magic `LBF2` (0x3246424c)                 | client     |
 * | 4           | 4    | client id (random, named in its hello)    | client     |
 * | 8           | 4    | sequence number                           | client     |
 * | 12          | 4    | data frame count `n`                      | client     |
 * | 16          | 8    | metadata frame length `m`                 | client     |
 * | 24 + 32i    | 8    | frame `i`: size                           | client     |
 * | 32 + 32i    | 8    | frame `i`: remote address, or inline offset | client   |
 * | 40 + 32i    | 8    | frame `i`: remote key (0 when inline)     | client     |
 * | 48 + 32i    | 8    | frame `i`: 1 when inline, 0 when remote   | client     |
 * | 24 + 32n    | m    | the cereal metadata frame (as over zmq)   | client     |
 * | 24 + 32n + m| rest | inline area: the bytes of inline frames   | client     |
 *
 * A hello (client to server, first message of every client): magic `LBFH`, client id, the
 * client's pid (0 when not told), the length of the client's raw libfabric address, then that
 * address (the server reads from it), then optionally the client's origin (24 bytes: kernel boot
 * id, pid namespace inode): a server of the same origin can ask the kernel whether the client died.
 * A release (server to client): magic `LBFR`, client id, sequence number, and how many messages
 * after it are released too (0: that one only), so one note releases a run of consecutive messages
 * (16 bytes).
 * A welcome (server to client, in answer to a hello): magic `LBFW`, client id, the server's pid,
 * 0, the server's origin (24 bytes), so a client of the same origin can tell a dead server.
 */

/** `LBF2` as a little-endian u32: a metadata message. */
export const WIRE_MAGIC = 0x3246424c;
/** `LBFH` as a little-endian u32: a client's hello. */
export const WIRE_HELLO_MAGIC = 0x4846424c;
/** `LBFR` as a little-endian u32: a server's release of a message's exposed bulks. */
export const WIRE_RELEASE_MAGIC = 0x5246424c;
/** `LBFW` as a little-endian u32: a server's welcome, naming its pid and origin. */
export const WIRE_WELCOME_MAGIC = 0x5746424c;
/** Bytes of a welcome. */
export const WIRE_WELCOME_BYTES = 40;
/** Bytes before the frame descriptors. */
export const WIRE_HEADER_BYTES = 24;
/** Bytes per frame descriptor. */
export const WIRE_FRAME_BYTES = 32;
/** Most data frames one message may carry. */
export const WIRE_MAX_FRAMES = 0x10000;

/** Where one data frame's bytes are. */
export interface WireFrame {
  /** Bytes in the frame. */
  size: number;
  /** True when the bytes ride in the message itself. */
  inline: boolean;
  /** Inline: offset in the inline area. Remote: the address to read, as [high, low] u32 halves. */
  addr: [number, number];
  /** Remote: the key to read with, as [high, low] u32 halves. */
  key: [number, number];
}

/** A decoded metadata message. */
export interface WireHeader {
  /** The sender's id. */
  clientId: number;
  /** The message's sequence number. */
  seq: number;
  /** The data frames, in order. */
  frames: WireFrame[];
  /** The metadata frame. */
  meta: Uint8Array;
  /** The inline area. */
  inline: Uint8Array;
}

/**
 * Builds a metadata message.
 *
 * @param clientId - the sender's id
 * @param seq - the message's sequence number
 * @param meta - the encoded metadata frame
 * @param frames - one descriptor per data frame (inline offsets into `inlineBytes`)
 * @param inlineBytes - the inline frames' bytes, in the order their offsets name
 */
export function encodeWire(clientId: number, seq: number, meta: Uint8Array, frames: readonly WireFrame[], inlineBytes: readonly Uint8Array[]): Uint8Array {
  const n = frames.length;
  let inl = 0;
  for (const b of inlineBytes) inl += b.byteLength;
  const metaAt = WIRE_HEADER_BYTES + WIRE_FRAME_BYTES * n;
  const out = new Uint8Array(metaAt + meta.byteLength + inl);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, WIRE_MAGIC, true);
  dv.setUint32(4, clientId >>> 0, true);
  dv.setUint32(8, seq >>> 0, true);
  dv.setUint32(12, n, true);
  dv.setUint32(16, meta.byteLength, true);
  for (let i = 0; i < n; i++) {
    const f = frames[i];
    const at = WIRE_HEADER_BYTES + WIRE_FRAME_BYTES * i;
    dv.setUint32(at, f.size % 0x100000000, true);
    dv.setUint32(at + 4, Math.floor(f.size / 0x100000000), true);
    dv.setUint32(at + 8, f.addr[1], true);
    dv.setUint32(at + 12, f.addr[0], true);
    dv.setUint32(at + 16, f.key[1], true);
    dv.setUint32(at + 20, f.key[0], true);
    dv.setUint32(at + 24, f.inline ? 1 : 0, true);
  }
  out.set(meta, metaAt);
  let at = metaAt + meta.byteLength;
  for (const b of inlineBytes) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Reads a metadata message; `null` when it is not one (wrong magic, truncated, counts or inline
 * frames that do not fit the bytes received).
 *
 * @param buf - the bytes received
 */
export function decodeWire(buf: Uint8Array): WireHeader | null {
  if (buf.byteLength < WIRE_HEADER_BYTES) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== WIRE_MAGIC) return null;
  const n = dv.getUint32(12, true);
  const metaLen = dv.getUint32(16, true);
  if (dv.getUint32(20, true) !== 0 || n > WIRE_MAX_FRAMES) return null;
  const metaAt = WIRE_HEADER_BYTES + WIRE_FRAME_BYTES * n;
  if (metaAt + metaLen > buf.byteLength) return null;
  const inline = buf.subarray(metaAt + metaLen);
  const frames: WireFrame[] = [];
  for (let i = 0; i < n; i++) {
    const at = WIRE_HEADER_BYTES + WIRE_FRAME_BYTES * i;
    const size = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x100000000;
    if (!Number.isSafeInteger(size)) return null;
    const isInline = dv.getUint32(at + 24, true) === 1;
    const addr: [number, number] = [dv.getUint32(at + 12, true), dv.getUint32(at + 8, true)];
    if (isInline && (addr[0] !== 0 || addr[1] + size > inline.byteLength)) return null;
    frames.push({ size, inline: isInline, addr, key: [dv.getUint32(at + 20, true), dv.getUint32(at + 16, true)] });
  }
  return { clientId: dv.getUint32(4, true), seq: dv.getUint32(8, true), frames, meta: buf.subarray(metaAt, metaAt + metaLen), inline };
}

/** Bytes of the origin a hello may end with. */
const HELLO_ORIGIN_BYTES = 24;

/** A decoded hello. */
export interface WireHello {
  /** The client's id. */
  clientId: number;
  /** The client's raw libfabric address. */
  name: Uint8Array;
  /** The client's pid, 0 when not told. */
  pid: number;
  /** Where the client's pid is meaningful (boot id, pid namespace), or `null`. */
  origin: Uint8Array | null;
}

/** A decoded release. */
export interface WireRelease {
  /** The client's id. */
  clientId: number;
  /** The released message's sequence number (the first of the run). */
  seq: number;
  /** Messages released, `seq` and those after it (at least 1). */
  count: number;
}

/**
 * A client's hello, naming its raw address so the server can read from it.
 *
 * @param clientId - the client's id
 * @param name - the client's raw libfabric address
 * @param pid - the client's pid (0: not told)
 * @param origin - where that pid is meaningful (24 bytes), or `null`
 */
export function encodeHello(clientId: number, name: Uint8Array, pid = 0, origin: Uint8Array | null = null): Uint8Array {
  const out = new Uint8Array(16 + name.byteLength + (origin?.byteLength ?? 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, WIRE_HELLO_MAGIC, true);
  dv.setUint32(4, clientId >>> 0, true);
  dv.setUint32(8, pid >>> 0, true);
  dv.setUint32(12, name.byteLength, true);
  out.set(name, 16);
  if (origin !== null) out.set(origin, 16 + name.byteLength);
  return out;
}

/**
 * Reads a hello; `null` when `buf` is not one.
 *
 * @param buf - a message as received
 */
export function decodeHello(buf: Uint8Array): WireHello | null {
  if (buf.byteLength < 16) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== WIRE_HELLO_MAGIC) return null;
  const len = dv.getUint32(12, true);
  const extra = buf.byteLength - 16 - len;
  if (len === 0 || (extra !== 0 && extra !== HELLO_ORIGIN_BYTES)) return null;
  return {
    clientId: dv.getUint32(4, true),
    name: buf.subarray(16, 16 + len),
    pid: dv.getUint32(8, true),
    origin: extra === 0 ? null : buf.subarray(16 + len),
  };
}

/**
 * A release: the server is done with messages `seq` to `seq + count - 1` of client `clientId`.
 *
 * @param clientId - the client's id
 * @param seq - the (first) message's sequence number
 * @param count - messages in the run (sequence numbers wrap at 2^32)
 * @defaultValue count 1
 */
export function encodeRelease(clientId: number, seq: number, count = 1): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, WIRE_RELEASE_MAGIC, true);
  dv.setUint32(4, clientId >>> 0, true);
  dv.setUint32(8, seq >>> 0, true);
  dv.setUint32(12, (count - 1) >>> 0, true);
  return out;
}

/**
 * Reads a release; `null` when `buf` is not one.
 *
 * @param buf - a message as received
 */
export function decodeRelease(buf: Uint8Array): WireRelease | null {
  if (buf.byteLength !== 16) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== WIRE_RELEASE_MAGIC) return null;
  // A huge run from a hostile server only releases what this client has (a lookup per message).
  return { clientId: dv.getUint32(4, true), seq: dv.getUint32(8, true), count: Math.min(dv.getUint32(12, true), 0xffff) + 1 };
}

/**
 * A server's welcome to a client: its pid and origin.
 *
 * @param clientId - the client's id
 * @param pid - the server's pid
 * @param origin - where that pid is meaningful (24 bytes)
 */
export function encodeWelcome(clientId: number, pid: number, origin: Uint8Array): Uint8Array {
  const out = new Uint8Array(WIRE_WELCOME_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, WIRE_WELCOME_MAGIC, true);
  dv.setUint32(4, clientId >>> 0, true);
  dv.setUint32(8, pid >>> 0, true);
  out.set(origin.subarray(0, HELLO_ORIGIN_BYTES), 16);
  return out;
}

/**
 * Reads a welcome; `null` when `buf` is not one.
 *
 * @param buf - a message as received
 */
export function decodeWelcome(buf: Uint8Array): { clientId: number; pid: number; origin: Uint8Array } | null {
  if (buf.byteLength !== WIRE_WELCOME_BYTES) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== WIRE_WELCOME_MAGIC) return null;
  return { clientId: dv.getUint32(4, true), pid: dv.getUint32(8, true), origin: buf.subarray(16) };
}
