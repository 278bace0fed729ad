/**
 * Buffers registered whole, once, for `copyXfer: false`: a bulk's descriptor is the registration's
 * address plus the view's offset, under the registration's key, so sending many bulks out of one
 * ArrayBuffer (a slab, a ring, a `@lightbeam/shm` region) registers memory once, not per message.
 * A registration lives while its buffer does: it is dropped when the buffer is collected (an
 * exposure keeps its view referenced, so never while a peer may read it).
 */
import type { NativeEndpoint } from './native.js';

/** A registered buffer: the address and key a peer reads it with. */
export interface Region {
  /** The registration's id in the addon. */
  id: number;
  /** The buffer's address (or 0 where the provider addresses by offset), high and low u32. */
  hi: number;
  lo: number;
  /** The key, high and low u32. */
  key: [number, number];
  /** Bytes registered (the buffer's length then). */
  bytes: number;
}

/** One endpoint's registered buffers. */
export class RegionCache {
  private readonly regions = new WeakMap<ArrayBufferLike, Region>();
  private readonly gone: FinalizationRegistry<number>;

  /**
   * @param native - the endpoint's addon object
   * @param nextId - a fresh operation id of the endpoint
   */
  constructor(
    private readonly native: NativeEndpoint,
    private readonly nextId: () => number,
  ) {
    // A closed endpoint's addon object ignores the call (its registrations were closed with it).
    this.gone = new FinalizationRegistry<number>((id) => void this.native.unregisterRegion(id));
  }

  /**
   * The registration of the buffer `bytes` lies in, made now if there is none yet.
   *
   * @returns the region, or the provider's errno
   */
  get(bytes: Uint8Array): Region | number {
    const buf = bytes.buffer;
    const known = this.regions.get(buf);
    // A buffer that grew since (resizable, growable) is registered again, whole.
    if (known !== undefined && bytes.byteOffset + bytes.byteLength <= known.bytes) return known;
    if (known !== undefined) {
      this.gone.unregister(known);
      this.native.unregisterRegion(known.id);
    }
    const id = this.nextId();
    const r = this.native.registerRegion(id, bytes, bytes.byteOffset, buf.byteLength);
    if (typeof r === 'number') return r;
    const reg: Region = { id, hi: r[0], lo: r[1], key: [r[2], r[3]], bytes: buf.byteLength };
    this.regions.set(buf, reg);
    this.gone.register(buf, id, reg);
    return reg;
  }
}
