/**
 * Shared-memory pointer value types, as in HSHM: a `Pointer` is an allocator id plus an offset
 * into that allocator's region; a `FullPtr` pairs it with a live view of the bytes. Both are
 * plain values: creating one costs an object, nothing is registered.
 */

/** Identifies one shared region's allocator, `{major, minor}` as in C++ `AllocatorId`. */
export interface AllocatorId {
  /** Major id (e.g. the owning process or domain); `-1` in the null id. */
  readonly major: number;
  /** Minor id (the region within the domain); `-1` in the null id. */
  readonly minor: number;
}

/** An offset into a registered shared region. */
export interface Pointer {
  /** Which region. */
  readonly allocId: AllocatorId;
  /** Byte offset from the start of that region. */
  readonly off: number;
}

/** A pointer with its live view: `ptr` is a `Uint8Array` over the very same bytes. */
export interface FullPtr {
  /** The bytes; for shared memory, a view over the SharedArrayBuffer. */
  readonly ptr: Uint8Array;
  /** Where the bytes live in shared memory; {@link NULL_POINTER} for private memory. */
  readonly shm: Pointer;
}

/** The null allocator id, as C++ `AllocatorId::GetNull()`. */
export const NULL_ALLOCATOR_ID: AllocatorId = Object.freeze({ major: -1, minor: -1 });

/** The null pointer: null allocator id, offset 0. */
export const NULL_POINTER: Pointer = Object.freeze({ allocId: NULL_ALLOCATOR_ID, off: 0 });

/** Size of a serialized {@link Pointer}: i32 major, i32 minor, u64 offset, little-endian. */
export const POINTER_BYTES = 16;

/**
 * Makes a pointer value.
 *
 * @param major - allocator major id
 * @param minor - allocator minor id
 * @param off - byte offset within the region
 */
export function makePointer(major: number, minor: number, off: number): Pointer {
  return { allocId: { major, minor }, off };
}

/** True for the null pointer (null allocator id), whatever its offset. */
export function isNullPointer(p: Pointer): boolean {
  return p.allocId.major === -1 && p.allocId.minor === -1;
}

/** True when both pointers name the same region and offset. */
export function pointerEquals(a: Pointer, b: Pointer): boolean {
  return a.allocId.major === b.allocId.major && a.allocId.minor === b.allocId.minor && a.off === b.off;
}

/**
 * Writes a pointer as 16 bytes (i32 major, i32 minor, u64 offset, little-endian) into `out`.
 *
 * @param p - the pointer
 * @param out - destination view
 * @param at - byte offset within `out`
 */
export function writePointer(p: Pointer, out: DataView, at = 0): void {
  out.setInt32(at, p.allocId.major, true);
  out.setInt32(at + 4, p.allocId.minor, true);
  out.setBigUint64(at + 8, BigInt(p.off), true);
}

/**
 * Reads a pointer written by {@link writePointer}.
 *
 * @param view - source view holding at least 16 bytes from `at`
 * @param at - byte offset within `view`
 * @throws RangeError when the offset is not a safe integer
 */
export function readPointer(view: DataView, at = 0): Pointer {
  const major = view.getInt32(at, true);
  const minor = view.getInt32(at + 4, true);
  const off = view.getBigUint64(at + 8, true);
  if (off > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`pointer offset ${off} exceeds 2^53`);
  if (major === -1 && minor === -1) return NULL_POINTER;
  return makePointer(major, minor, Number(off));
}

/**
 * Resolves between pointers and views. `@lightbeam/shm` installs one for the memory manager of
 * the current thread; without it every view resolves to the null pointer and no pointer can be
 * turned into bytes.
 */
export interface PointerResolver {
  /** The live view of `size` bytes at `p`, or `null` when `p` is in no known region. */
  toView(p: Pointer, size: number): Uint8Array | null;
  /** The pointer of the region containing `view`, or {@link NULL_POINTER}. */
  fromView(view: Uint8Array): Pointer;
  /** Frees the block starting at `p` (a moved bulk a transport sent by copy). */
  free?(p: Pointer): void;
}

let resolver: PointerResolver | null = null;

/**
 * Installs (or, with `null`, removes) the thread's pointer resolver. Called by `@lightbeam/shm`.
 *
 * @param r - resolver for this thread
 */
export function setPointerResolver(r: PointerResolver | null): void {
  resolver = r;
}

/** The thread's resolver, if a memory manager installed one. */
export function getPointerResolver(): PointerResolver | null {
  return resolver;
}

/**
 * Builds a `FullPtr` from a view, finding its shared-memory pointer by containment like C++
 * `FullPtr(T*)`; views outside every registered region get {@link NULL_POINTER}.
 *
 * @param view - bytes in private or shared memory
 */
export function fullPtrFromView(view: Uint8Array): FullPtr {
  const shm = resolver !== null && view.buffer instanceof SharedArrayBuffer ? resolver.fromView(view) : NULL_POINTER;
  return { ptr: view, shm };
}

/**
 * Builds a `FullPtr` from a pointer through the thread's resolver.
 *
 * @param p - a pointer into a registered region
 * @param size - how many bytes the view spans
 * @throws TypeError when no memory manager knows the pointer's region
 */
export function fullPtrFromPointer(p: Pointer, size: number): FullPtr {
  const view = resolver?.toView(p, size) ?? null;
  if (view === null) {
    throw new TypeError(
      `pointer {major: ${p.allocId.major}, minor: ${p.allocId.minor}, off: ${p.off}} is in no region this thread knows (attach the memory manager first)`,
    );
  }
  return { ptr: view, shm: p };
}
