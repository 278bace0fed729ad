/**
 * Loads the libfabric addon built at install (`native/build/Release/lightbeam_fabric.node`). When
 * it is missing (no libfabric on this host, no compiler at install) the package still imports:
 * it says so in one line on stderr and the transport rejects with `ERR_LBM_TRANSPORT_UNAVAILABLE`.
 */
import { createRequire } from 'node:module';

/** What the addon's `Endpoint` constructor takes. */
export interface NativeEndpointOptions {
  provider: string;
  node?: string;
  service?: string;
  server: boolean;
  metaBytes: number;
  metaSlots: number;
  spinUs: number;
  idleMaxUs: number;
  /** Bytes of released staging buffers kept, registered, for the next copies. */
  stageKeepBytes?: number;
  /** Batches of completions: `[kind, id, err, len, buffer | undefined]` repeated. */
  onEvents: (events: unknown[]) => void;
}

/** The addon's endpoint (see native/addon.cc). */
export interface NativeEndpoint {
  name(): string | null;
  provider(): string;
  postSend(id: number, bytes: Uint8Array, tagged: boolean, tagHi: number, tagLo: number, peer: number): number;
  rawName(): Uint8Array | null;
  insertPeer(name: Uint8Array): number;
  expose(id: number, bytes: Uint8Array, copy: boolean): [number, number, number, number] | number;
  unexpose(id: number): boolean;
  postRead(id: number, target: Uint8Array | null, len: number, peer: number, addrHi: number, addrLo: number, keyHi: number, keyLo: number): number;
  postRecv(id: number, target: Uint8Array | null, len: number, tagHi: number, tagLo: number): number;
  cancel(id: number): number;
  ref(): void;
  setBusy(busy: boolean): void;
  unref(): void;
  close(): void;
  watch(name: string): void;
  /** Reads the CQ now on this thread (retrying up to `waitUs` while the progress thread holds it) and keeps the thread off it for `hotUs`; the events, or undefined. */
  poll(hotUs: number, waitUs?: number): unknown[] | undefined;
  registerRegion(id: number, view: Uint8Array, byteOffset: number, bufferBytes: number): [number, number, number, number] | number;
  unregisterRegion(id: number): boolean;
  /** [registrations made, registrations live, staging bytes kept]. */
  stats(): [number, number, number];
}

interface Addon {
  Endpoint: new (opts: NativeEndpointOptions) => NativeEndpoint;
  version: string;
  regionAlive(name: string): boolean;
}

let addon: Addon | null = null;
let reason = '';
try {
  // LIGHTBEAM_FABRIC_DISABLE=1 behaves as a host without the addon (for tests of that path).
  if (process.env.LIGHTBEAM_FABRIC_DISABLE === '1') throw new Error('disabled by LIGHTBEAM_FABRIC_DISABLE=1');
  addon = createRequire(import.meta.url)('../native/build/Release/lightbeam_fabric.node') as Addon;
} catch (err) {
  const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
  reason = /Cannot find module/.test(msg)
    ? 'the native addon is not built (install libfabric-dev or set LIBFABRIC_DIR, then `pnpm --filter @lightbeam/fabric run build:native`)'
    : `the native addon does not load (${msg})`;
  if (process.env.LIGHTBEAM_FABRIC_QUIET !== '1') console.warn(`@lightbeam/fabric: Transport.kFabric unavailable: ${reason}`);
}

/** True when the libfabric addon loaded, so `Transport.kFabric` works on this host. */
export const fabricAvailable: boolean = addon !== null;

/** Why `Transport.kFabric` is unavailable here; empty when {@link fabricAvailable}. */
export const fabricUnavailableReason: string = reason;

/** The libfabric version the addon runs against (`"1.17"`), or `null` without the addon. */
export const libfabricVersion: string | null = addon?.version ?? null;

/** The addon, or `null`. @internal */
export function nativeAddon(): Addon | null {
  return addon;
}
