export { SlabAllocator } from './slab-allocator.js';
export type { SizeClassStats, SlabAllocatorOptions, SlabStats } from './slab-types.js';
export { CLASS_COUNT, MAX_CLASS_BYTES, MAX_REGION_BYTES, MIN_BLOCK_BYTES } from './slab-layout.js';
