/**
 * The allocator's misuse and exhaustion errors, each a `LightbeamError` with a stable code.
 */
import type { Pointer } from '@lightbeam/core';
import { ENOMEM, EINVAL, LightbeamError } from '@lightbeam/core';

/** Formats a pointer for messages: `{major: 0, minor: 1, off: 4096}`. */
export function describePointer(p: Pointer): string {
  const id = p?.allocId;
  return `{major: ${id?.major}, minor: ${id?.minor}, off: ${p?.off}}`;
}

/** `ERR_LBM_BAD_POINTER`: the pointer is in no known region or is not a block start. */
export function badPointer(p: Pointer, why: string): LightbeamError {
  return new LightbeamError('ERR_LBM_BAD_POINTER', `free/resolve of pointer ${describePointer(p)}: ${why}`, { errno: EINVAL });
}

/** `ERR_LBM_DOUBLE_FREE`: the block at the pointer is not allocated. */
export function doubleFree(p: Pointer): LightbeamError {
  return new LightbeamError('ERR_LBM_DOUBLE_FREE', `free of pointer ${describePointer(p)}: the block is already free (double free)`, {
    errno: EINVAL,
  });
}

/** `ERR_LBM_INVALID_ARGUMENT`: a size that no region can satisfy. */
export function invalidSize(size: unknown, why: string): LightbeamError {
  return new LightbeamError('ERR_LBM_INVALID_ARGUMENT', `allocate size must be ${why}, got ${String(size)}`, { errno: EINVAL });
}

/** `ERR_LBM_NOMEM`: exhaustion, errno `ENOMEM`; `advice` says which knobs decide it. */
export function noMemory(size: number, where: string, advice?: string): LightbeamError {
  return new LightbeamError('ERR_LBM_NOMEM', `cannot allocate ${size} bytes: ${where} is out of memory${advice === undefined ? '' : `: ${advice}`}`, { errno: ENOMEM });
}

/**
 * `ERR_LBM_NOMEM` of a memory manager whose every region is full, naming the knobs that decide
 * it: its size (`maxRegions` × `regionBytes`) and, since a producer far ahead of its consumer is
 * the usual cause, the channel bounds that make such a producer wait instead.
 */
export function managerExhausted(size: number, id: string, regions: number, maxRegions: number, regionBytes: number): LightbeamError {
  const mib = Math.round((regionBytes / (1024 * 1024)) * 10) / 10;
  return noMemory(
    size,
    `every region of memory manager ${id} (${regions} of maxRegions ${maxRegions}, regionBytes ${mib} MiB each)`,
    'raise maxRegions or regionBytes (MemoryManager.create), free the blocks the application holds, ' +
      'or bound what each channel may hold so producers wait instead: ShmServer options capacity (messages) and maxBytes (bytes, 64 MiB by default)',
  );
}

/** `ERR_LBM_NOMEM`: every thread slot of a region is held, so this thread cannot allocate there. */
export function noThreadSlot(slotCount: number, region: string): LightbeamError {
  return new LightbeamError(
    'ERR_LBM_NOMEM',
    `this thread cannot allocate in region ${region}: all ${slotCount} thread slots are held by other threads (live ones, or ones that exited unwatched: workers created in a thread that loaded @lightbeam/shm are watched, and MemoryManager.detach() frees a slot); raise threadSlots`,
    { errno: ENOMEM },
  );
}
