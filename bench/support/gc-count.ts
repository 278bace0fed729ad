/**
 * Young-GC counting for the TypeScript benches. The implementation is the plain
 * `gc-count.mjs` next to this file, so worker threads import the very same code without a
 * TypeScript loader.
 */
export { GcCounter } from './gc-count.mjs';
export type { GcCount } from './gc-count.mjs';
