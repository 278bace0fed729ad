/**
 * Options of the libfabric transport, with their defaults.
 */
import type { ArchiveLimits } from '@lightbeam/core';

/** Default libfabric provider when neither the `provider` option nor `FI_PROVIDER` names one. */
export const DEFAULT_FABRIC_PROVIDER = 'tcp;ofi_rxm';
/** Default largest metadata message (header, frame sizes, metadata frame) in bytes. */
export const DEFAULT_META_BYTES = 64 * 1024;
/** Default largest XFER bulk bytes a client sends inline in the metadata message instead of exposing them for a read. */
export const DEFAULT_INLINE_BYTES = 8 * 1024;
/** Default number of metadata receives a server keeps posted. */
export const DEFAULT_META_SLOTS = 64;
/** Default time a post or completion keeps the process hot (JavaScript polls, then the progress thread), in microseconds. */
export const DEFAULT_SPIN_US = 250;
/** Default bytes of released staging buffers a client keeps, registered, for its next copies. */
export const DEFAULT_STAGE_KEEP_BYTES = 128 * 1024 * 1024;
/** Default longest sleep of an idle progress thread between polls, in microseconds. */
export const DEFAULT_IDLE_MAX_US = 2000;
/** Default longest wait of `recvBulks` for the data frames of a message, in milliseconds. */
export const DEFAULT_BULK_TIMEOUT_MS = 30_000;
/** Default time `close()` waits for queued sends to complete, in milliseconds. */
export const DEFAULT_FABRIC_LINGER_MS = 1000;
/** Default time a new client waits for its peer to accept its first message, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Options both ends of the libfabric transport take. */
export interface FabricEndpointOptions {
  /**
   * libfabric provider (`FI_PROVIDER` syntax): `tcp;ofi_rxm`, `shm`, `verbs;ofi_rxm`, ... With
   * protocol `shm` the default is `shm`; otherwise `FI_PROVIDER`, then `tcp;ofi_rxm`.
   * @defaultValue `"tcp;ofi_rxm"`
   */
  provider?: string;
  /**
   * Largest metadata message in bytes (16-byte header, 8 bytes per XFER bulk, the metadata
   * frame). Client and server must agree; a larger send resolves `EMSGSIZE`.
   * @defaultValue 65536
   */
  metaBytes?: number;
  /**
   * Microseconds a post or completion keeps the process hot at least; the spell stretches to 1.5
   * times the slowest of the last 8 answers (post to completion), up to 2 ms. While it is hot, an
   * endpoint that a call waits on (a `waitMetadata`, a read of `recvBulks`, a send) reads its
   * completion queue from the JavaScript thread once per event-loop turn, and its progress
   * thread stays off it; then the progress thread keeps polling (yielding the core) for `spinUs`
   * before it blocks in `fi_cq_sread` (tcp-based providers) or sleeps (`shm`, which has no wait
   * object). Set it above the round trip the application waits for when that is over 2 ms, or 0
   * to leave every completion to the progress thread.
   * @defaultValue 250
   */
  spinUs?: number;
  /**
   * Longest sleep in microseconds of an idle progress thread between two polls of the completion
   * queue (`shm`: the first message after an idle period waits up to this long; tcp-based
   * providers wake at once on data or a post, and use it as the first timeout of `fi_cq_sread`,
   * doubled while nothing comes, up to 32 times this).
   * @defaultValue 2000
   */
  idleMaxUs?: number;
}

/** Options of {@link FabricServer}. */
export interface FabricServerOptions extends FabricEndpointOptions {
  /**
   * Metadata receives kept posted (each `metaBytes` large).
   * @defaultValue 64
   */
  metaSlots?: number;
  /**
   * Longest wait of `recvBulks` for a message's data frames (a sender that died after its
   * metadata never sends them); it then resolves `ETIMEDOUT`.
   * @defaultValue 30000
   */
  bulkTimeoutMs?: number;
  /** Decoding limits for incoming metadata, as every server. */
  limits?: Partial<ArchiveLimits>;
}

/** Options of {@link FabricClient}. */
export interface FabricClientOptions extends FabricEndpointOptions {
  /**
   * How long `close()` waits for queued sends to complete and for the server to release the
   * bulks it is to read.
   * @defaultValue 1000
   */
  lingerMs?: number;
  /**
   * False registers each remote XFER bulk's own bytes for the server's read instead of a private
   * copy: no copy on send, but the application must not modify or reuse a buffer until the server
   * has released its message (see `FabricClient.unreleasedMessages`) or the client is closed.
   * The whole ArrayBuffer (or SharedArrayBuffer) a bulk lies in is registered, once, for as long
   * as it lives: the server can read any of its bytes, not only the bulk's.
   * @defaultValue true
   */
  copyXfer?: boolean;
  /**
   * XFER bulks that fit in this many bytes (in total, per message, and within `metaBytes`) travel
   * inline in the metadata message; larger ones are exposed for the server's one-sided read.
   * @defaultValue 8192
   */
  inlineBytes?: number;
  /**
   * Bytes of staging buffers (the private copies behind exposed bulks, with their registrations)
   * kept for reuse once the server released them, so a stream of copied bulks neither maps nor
   * registers memory per message: as much as was in flight at once, up to this. Buffers beyond it
   * are freed on release.
   * @defaultValue 134217728
   */
  stageKeepBytes?: number;
  /**
   * How long creating a client waits for the provider to accept its first message (a connection).
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
}

/**
 * The provider an endpoint uses: the option, else `shm` for protocol `shm`, else `FI_PROVIDER`,
 * else {@link DEFAULT_FABRIC_PROVIDER}.
 *
 * @param protocol - the factory's protocol argument
 * @param option - the `provider` option
 */
export function resolveProvider(protocol: string, option: string | undefined): string {
  if (option !== undefined && option !== '') return option;
  if (protocol === 'shm') return 'shm';
  const env = process.env.FI_PROVIDER;
  return env !== undefined && env !== '' ? env : DEFAULT_FABRIC_PROVIDER;
}
