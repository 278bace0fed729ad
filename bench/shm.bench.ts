/**
 * The shared-memory transport (`Transport.kShm`) against its peers, every figure the median over
 * `LBM_BENCH_ROUNDS` (default 7) interleaved rounds with its min-max: each round runs every case
 * of a section once, ours and the peers alike, in an order that rotates from round to round, so
 * a burst of load on this shared 2-core machine spreads over all of them instead of landing on
 * one (bench/support/rounds.ts, bench/support/rotated-rounds.ts).
 *
 * Sections (`LBM_BENCH_ONLY=rt,rate,gc,xfer,expose,pipeline` selects some):
 * - `rt`: round trip of a 64 B message, main<->worker and worker<->worker, p50 per run. Ours on
 *   the synchronous API spinning (`sendNow` / `recvMetadataNow`; an XFER bulk, and an EXPOSE of a
 *   slab block, the descriptor-only message a descriptor ring carries), the async API in a tight
 *   loop (`send` + `waitMetadata`, default `spinUs`), parked on the blocking receive
 *   (`waitMetadataSync`, `spinUs: 0`) and parked on the async API (`waitMetadata`, `spinUs: 0`).
 *   Peers: a bare SharedArrayBuffer ring (bench/shm/bare-ring.mjs), `postMessage` with 'message'
 *   events, `postMessage` with both ends spinning on `receiveMessageOnPort`, and raw Atomics
 *   ping-pongs (spin, `Atomics.wait`, `Atomics.waitAsync`).
 * - `rate`: one-way 64 B messages main -> worker: `sendNow` bursts into a draining sink, and
 *   `await send` into a `waitMetadata` sink, against `postMessage` (transfer and copy). Every
 *   stream has at most 32 messages in flight: ours through a 32-slot ring, the peers because the
 *   sender waits for the sink's acknowledgements (a SharedArrayBuffer counter); a flood without
 *   flow control would measure the port's queue, not the transport.
 * - `gc`: young GCs per 100k messages on the synchronous path, counted on both threads over
 *   loops that read no clock per message (Node 20's `performance.now()` allocates).
 * - `xfer`, `expose`, `pipeline`: the bulk-data figures of issue 11 (1 MiB XFER against a
 *   flow-controlled `postMessage` copy and a same-thread memcpy of one cache-resident buffer;
 *   EXPOSE hand-off at 1 KiB and 1 MiB; the piscina pipeline against plain piscina). Their shm
 *   sinks spin on `recvMetadataNow`, so the figures show the data path, not wake-ups.
 *
 * Every Lightbeam end reuses its metas and bulks and allocates nothing per message on the
 * synchronous path (bench/shm/roles.mjs); every message carries a sequence number that the other
 * end checks. Every loop is bounded in count and time.
 *
 * Run: `npx tsx bench/shm.bench.ts` (after `pnpm run build`); `LBM_BENCH_HOG=1` runs every section
 * beside one busy-looping process (printed only: no result file is written for such a run).
 *
 * Goals (issue 10): active round trip <= 2x the bare ring, >= 20x faster than event-driven
 * `postMessage`, >= 5x faster than spinning `postMessage`, stretch p50 <= 1 us; async API <= 3x
 * the synchronous one; parked <= 1.2x raw `Atomics.wait` (blocking receive) and
 * `Atomics.waitAsync` (async API); small-message rate >= 10x `postMessage` transfer (sync API),
 * >= 4x (async API); <= 1 young GC per 100k messages. Issue 11: 1 MiB XFER >= 4x `postMessage`
 * copy and >= 0.5x memcpy; EXPOSE hand-off 1 MiB within 10% of 1 KiB.
 */
import { loadavg } from 'node:os';
import { ROUNDS, goals, manager, results } from './shm/context.js';
import { bulkXfer, exposeHandoff, pipeline } from './shm/bulk.js';
import { roundTrips } from './shm/round-trips.js';
import { smallRate } from './shm/streams.js';
import { youngGcs } from './shm/young-gcs.js';
import { hogFromEnv } from './support/hog.js';
import { writeBenchResult } from './support/report-format.js';

const only = process.env.LBM_BENCH_ONLY?.split(',');
const sections: Array<[string, () => Promise<void>]> = [
  ['rt', roundTrips],
  ['rate', smallRate],
  ['gc', youngGcs],
  ['xfer', bulkXfer],
  ['expose', exposeHandoff],
  ['pipeline', pipeline],
];
const unknown = only?.filter((s) => !sections.some(([name]) => name === s)) ?? [];
if (unknown.length > 0) throw new Error(`LBM_BENCH_ONLY names unknown sections ${unknown.join(', ')}; known: ${sections.map(([n]) => n).join(', ')}`);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const hog = await hogFromEnv('shm');
const started = performance.now();
console.log(`shm: Node ${process.version}, ${ROUNDS} interleaved rounds per section, load average at start ${load()}`);
for (const [name, run] of sections) {
  if (only !== undefined && !only.includes(name)) continue;
  const t0 = performance.now();
  await run();
  console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\ngoals (figures: median over ${ROUNDS} rounds (min-max); ratio: the ratio of the two medians, with the min-max of the per-round ratios)`);
console.table(goals.map((g) => ({ goal: g.goal, peer: g.peer, ours: g.ours, ratio: g.ratio, met: g.met ? 'met' : 'NOT met' })));
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; load average at end ${load()}`);
// A run beside the hog is a stress figure, not the suite's result: it does not replace shm.json.
if (hog === null) await writeBenchResult('shm', results);
await hog?.stop();
manager.detach();
