// Preloaded by breakdown.mjs (HOOKS=1) into the main thread of each process: counts the async
// resources the thread makes, by type (PROMISE, Immediate, Timeout, TickObject, ...), and its
// Atomics.waitAsync and Atomics.notify calls; prints them as one JSON line on stderr at exit.
import { createHook } from 'node:async_hooks';
import { threadId } from 'node:worker_threads';

const counts = {};
const bump = (k) => (counts[k] = (counts[k] ?? 0) + 1);
createHook({ init: (_id, type) => bump(type) }).enable();
const waitAsync = Atomics.waitAsync;
Atomics.waitAsync = function (...args) {
  const r = waitAsync.apply(Atomics, args);
  bump(r.async ? 'waitAsync parked' : `waitAsync ${r.value}`);
  return r;
};
const notify = Atomics.notify;
Atomics.notify = function (...args) {
  const n = notify.apply(Atomics, args);
  bump(n > 0 ? 'notify woke' : 'notify none');
  return n;
};
process.on('exit', () => process.stderr.write(`${JSON.stringify({ hooks: true, thread: `t${threadId}`, counts })}\n`));
// Garbage collections of this thread, by kind (young: 1, full: 4, ...), and their time.
const { PerformanceObserver } = await import('node:perf_hooks');
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    bump(`gc kind ${e.detail?.kind ?? e.kind}`);
    counts['gc ms'] = (counts['gc ms'] ?? 0) + e.duration;
  }
}).observe({ entryTypes: ['gc'] });
// HOOKS_STACKS=1: also counts where promises are made (the first frames of our code), one in 16.
if (process.env.HOOKS_STACKS === '1') {
  let n = 0;
  createHook({
    init: (_id, type) => {
      if (type !== 'PROMISE' || (n++ & 15) !== 0) return;
      const frames = (new Error().stack ?? '').split('\n').slice(2).filter((l) => !l.includes('node:internal') && !l.includes('breakdown-hooks'));
      bump(`at ${frames.slice(0, 2).map((l) => l.trim().replace(/^at /, '').replace(/\(file:\/\/.*\/packages\//, '(').replace(/:\d+\)$/, ')')).join(' < ')} x16`);
    },
  }).enable();
}
