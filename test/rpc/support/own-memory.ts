/**
 * Gives a describe block a shared memory of its own, detached after it, so the RPC tests leave
 * no memory manager behind in the mocha process for later suites that create their own.
 */
import { MemoryManager } from '@lightbeam/shm';

/** Call inside `describe`: creates this thread's memory unless one exists, detaches it after. */
export function withOwnMemory(): void {
  let mine: MemoryManager | null = null;
  before(() => {
    if (MemoryManager.current() === null) mine = MemoryManager.create({ regionBytes: 64 << 20 });
  });
  after(() => {
    mine?.detach();
    mine = null;
  });
}
