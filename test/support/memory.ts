/**
 * A fresh shared memory for a test: whatever manager an earlier test file left attached to this
 * thread (files that share one across their tests keep it) is detached first, so each test that
 * asks for its own memory gets it whatever ran before.
 */
import { MemoryManager } from '@lightbeam/shm';
import type { MemoryManagerOptions } from '@lightbeam/shm';

/**
 * Detaches this thread's manager, if any, and creates a new one.
 *
 * @param options - as for `MemoryManager.create`
 */
export function freshMemory(options: MemoryManagerOptions = {}): MemoryManager {
  MemoryManager.current()?.detach();
  return MemoryManager.create(options);
}
