/**
 * The negotiation: what two Lightbeam peers tell each other before the first message, and how
 * they agree. It travels out of band, on a second ZeroMQ connection beside the data one
 * (negotiate-client.ts asks, negotiate-server.ts answers), so the data wire stays the C++ wire:
 * a peer that does not answer (the C++ `ZeroMqServer`, an older release) gets plain two-phase
 * messages, exactly as before.
 *
 * Why out of band: a PUSH socket never receives, zeromq.js cannot read ZMTP metadata properties
 * (it has no `zmq_msg_gets`), and a hello frame on the data socket would reach a C++ receiver as
 * a message it misreads. A reply endpoint beside the data endpoint is what RPC's `replyTo` and
 * the CLI's confirmation port already do.
 *
 * One frame each way (a DEALER asks a ROUTER), all integers little-endian:
 *
 * | offset | size | field                                                                  |
 * |--------|------|------------------------------------------------------------------------|
 * | 0      | 4    | magic `4c 42 4d 4e` ("LBMN")                                           |
 * | 4      | 1    | kind: 1 = hello (client to server), 2 = answer (server to client)      |
 * | 5      | 3    | reserved, zero                                                         |
 * | 8      | 2    | `u16` lowest protocol version spoken                                   |
 * | 10     | 2    | `u16` highest protocol version spoken                                  |
 * | 12     | 4    | `u32` batch framings: bit `v-1` set = framing version `v` (client: written, server: read) |
 * | 16     | 8    | `u64` largest frame this side receives (ZMQ_MAXMSGSIZE), 0 = no limit |
 * | 24     | 8    | `u64` largest bulk size its metadata decoder accepts, 0 = no limit     |
 * | 32     | 8    | `u64` feature bits, for later; none defined, zero                      |
 *
 * A reader takes a frame of at least {@link NEGOTIATE_FRAME_BYTES} bytes and ignores bytes past
 * them, so a later version may append fields. Anything else (wrong magic or kind, short) is not
 * a Lightbeam negotiation and is ignored.
 */

/** The negotiation frame's magic, "LBMN" read as a little-endian u32. */
export const NEGOTIATE_MAGIC = 0x4e4d424c;
/** Bytes of a negotiation frame (hello or answer) of this version. */
export const NEGOTIATE_FRAME_BYTES = 40;
/**
 * `ZMQ_MAXMSGSIZE` of both negotiation sockets: far above a negotiation frame, and above the
 * commands of a CURVE handshake, which libzmq bounds by it too.
 */
export const NEGOTIATE_MAX_FRAME_BYTES = 4096;
/** Kind byte of the client's hello. */
export const NEGOTIATE_HELLO = 1;
/** Kind byte of the server's answer. */
export const NEGOTIATE_ANSWER = 2;
/**
 * The Lightbeam protocol version this release speaks. Version 1 is the two-phase wire of the C++
 * implementation plus the optional batch framing; every version must keep reading the plain wire.
 */
export const PROTOCOL_VERSION = 1;
/** The lowest protocol version this release speaks. */
export const MIN_PROTOCOL_VERSION = 1;
/**
 * tcp: the negotiation endpoint's port is the data port plus this. Far from the `+1`/`+2` ports
 * the CLI and the demo take beside a data port; a data port above `65535 - offset` has none.
 */
export const NEGOTIATE_PORT_OFFSET = 1000;
/** ipc and inproc: the negotiation endpoint's name is the data endpoint's name plus this. */
export const NEGOTIATE_NAME_SUFFIX = '.lbmn';
/**
 * How long a client waits for the answer before it treats the server as a plain peer, in ms.
 * Paid once per client, on its first send, only towards a server that does not answer.
 */
export const DEFAULT_NEGOTIATE_TIMEOUT_MS = 500;

/** What one side announces. */
export interface PeerHello {
  /** Lowest protocol version spoken. */
  minProtocol: number;
  /** Highest protocol version spoken. */
  maxProtocol: number;
  /** Batch framings, bit `v-1` for version `v`. */
  batchVersions: number;
  /** Largest frame received, 0 = no limit. */
  maxMessageBytes: number;
  /** Largest bulk size accepted in metadata, 0 = no limit. */
  maxBulkBytes: number;
  /** Feature bits (none defined yet). */
  features: bigint;
}

/** What a client and its server agreed on. */
export interface PeerAgreement {
  /** The protocol version both speak (the highest common one). */
  protocol: number;
  /** The batch framing version the client may write, 0 = no batching. */
  batchVersion: number;
  /** Largest frame the server takes, `null` = no limit. */
  maxMessageBytes: number | null;
  /** Largest bulk size the server's decoder accepts, `null` = no limit. */
  maxBulkBytes: number | null;
  /** Feature bits both announced. */
  features: bigint;
  /** What the server announced. */
  peer: PeerHello;
}

/**
 * Encodes a hello or an answer.
 *
 * @param kind - {@link NEGOTIATE_HELLO} or {@link NEGOTIATE_ANSWER}
 * @param h - what this side announces
 */
export function encodeNegotiation(kind: number, h: PeerHello): Buffer {
  const b = Buffer.alloc(NEGOTIATE_FRAME_BYTES);
  b.writeUInt32LE(NEGOTIATE_MAGIC, 0);
  b[4] = kind;
  b.writeUInt16LE(h.minProtocol, 8);
  b.writeUInt16LE(h.maxProtocol, 10);
  b.writeUInt32LE(h.batchVersions >>> 0, 12);
  b.writeBigUInt64LE(BigInt(h.maxMessageBytes), 16);
  b.writeBigUInt64LE(BigInt(h.maxBulkBytes), 24);
  b.writeBigUInt64LE(BigInt.asUintN(64, h.features), 32);
  return b;
}

/**
 * Decodes a frame of `kind`, or `null` when it is not one (hostile input never throws).
 *
 * @param frame - the received frame
 * @param kind - the kind expected
 */
export function decodeNegotiation(frame: Uint8Array, kind: number): PeerHello | null {
  if (frame.byteLength < NEGOTIATE_FRAME_BYTES) return null;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (dv.getUint32(0, true) !== NEGOTIATE_MAGIC || frame[4] !== kind) return null;
  return {
    minProtocol: dv.getUint16(8, true),
    maxProtocol: dv.getUint16(10, true),
    batchVersions: dv.getUint32(12, true),
    // Beyond 2^53 a limit is as good as none.
    maxMessageBytes: clampSafe(dv.getBigUint64(16, true)),
    maxBulkBytes: clampSafe(dv.getBigUint64(24, true)),
    features: dv.getBigUint64(32, true),
  };
}

function clampSafe(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(v);
}

/**
 * The best both sides support, or `null` when their protocol versions do not overlap.
 *
 * @param client - the client's hello
 * @param server - the server's answer
 */
export function agree(client: PeerHello, server: PeerHello): PeerAgreement | null {
  const protocol = Math.min(client.maxProtocol, server.maxProtocol);
  if (protocol < Math.max(client.minProtocol, server.minProtocol)) return null;
  const common = (client.batchVersions & server.batchVersions) >>> 0;
  return {
    protocol,
    batchVersion: common === 0 ? 0 : 32 - Math.clz32(common),
    maxMessageBytes: server.maxMessageBytes === 0 ? null : server.maxMessageBytes,
    maxBulkBytes: server.maxBulkBytes === 0 ? null : server.maxBulkBytes,
    features: client.features & server.features,
    peer: server,
  };
}

/**
 * The one line both sides report when the versions do not overlap.
 *
 * @param where - the data endpoint
 * @param local - this side's hello
 * @param remote - the other side's
 * @param remoteRole - `server` or `client`
 */
export function versionMismatchMessage(where: string, local: PeerHello, remote: PeerHello, remoteRole: 'server' | 'client'): string {
  const range = (h: PeerHello): string => (h.minProtocol === h.maxProtocol ? `${h.minProtocol}` : `${h.minProtocol}..${h.maxProtocol}`);
  const outcome = remoteRole === 'server' ? 'nothing was sent' : 'that client sends nothing';
  return `${where}: the ${remoteRole} speaks Lightbeam protocol version ${range(remote)}, this side speaks ${range(local)}; no common version, ${outcome}`;
}

/**
 * The negotiation URL beside a data URL: tcp port + {@link NEGOTIATE_PORT_OFFSET}, ipc path or
 * inproc name + {@link NEGOTIATE_NAME_SUFFIX}. `null` for a tcp port that has none (or `*`).
 *
 * @param dataUrl - the data endpoint (`tcp://host:port`, `ipc://path`, `inproc://name`)
 * @param port - an explicit negotiation port (tcp), instead of the derived one
 */
export function negotiationUrl(dataUrl: string, port?: number): string | null {
  if (!dataUrl.startsWith('tcp://')) return dataUrl + NEGOTIATE_NAME_SUFFIX;
  const m = /^(tcp:\/\/.*):(\d+|\*)$/.exec(dataUrl);
  if (m === null) return null;
  if (port !== undefined) return `${m[1]}:${port}`;
  if (m[2] === '*') return null;
  const p = Number(m[2]) + NEGOTIATE_PORT_OFFSET;
  return p > 65535 ? null : `${m[1]}:${p}`;
}
