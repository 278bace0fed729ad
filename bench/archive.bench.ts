/**
 * The metadata archive against JSON: encode + decode of one message's metadata (2 bulk
 * descriptors, 3 custom fields: i32, string, string), side by side in one run.
 *
 * Run: `npx tsx bench/archive.bench.ts` (after `pnpm run build`). Goal: at least 3x JSON.
 * `LBM_BENCH_ROUNDS` (default 7) sets the number of alternating rounds; the figures are medians.
 */
import { Bench } from 'tinybench';
import type { Archive } from '@lightbeam/core';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, decodeMeta, encodeMeta, expose } from '@lightbeam/core';
import { printRatioTable, runRounds, taskRate } from './support/ratio-table.js';
import { writeBenchResult } from './support/report-format.js';
import { summary } from './support/rounds.js';

/** The benchmark's message: what a typical request carries. */
class RequestMeta extends LbmMeta {
  requestId = 0;
  operation = '';
  path = '';
  override serialize(ar: Archive): void {
    super.serialize(ar);
    this.requestId = ar.i32(this.requestId);
    this.operation = ar.string(this.operation);
    this.path = ar.string(this.path);
  }
}

const meta = new RequestMeta();
meta.send.push(expose(new Uint8Array(4096), 4096, BULK_XFER), expose(new Uint8Array(64), 64, BULK_EXPOSE));
meta.requestId = 42;
meta.operation = 'write_block';
meta.path = '/data/set-7/block-000123';

/** The same information as JSON would carry it (descriptors without data, as on the wire). */
const plain = {
  send: meta.send.map((b) => ({ size: b.size, flags: b.flags })),
  recv: [] as Array<{ size: number; flags: number }>,
  requestId: meta.requestId,
  operation: meta.operation,
  path: meta.path,
};

// Both sides must really round-trip before they are timed.
const check = new RequestMeta();
if (decodeMeta(encodeMeta(meta), check) !== 0 || check.path !== meta.path || check.send[1].size !== 64) throw new Error('archive round trip failed');
if (JSON.parse(JSON.stringify(plain)).path !== meta.path) throw new Error('JSON round trip failed');

/** Operations per task call: keeps the timer's own cost out of a sub-microsecond operation. */
const BATCH = 200;
let sink = 0;

const archiveTask = `archive encode+decode bulks=2 fields=3 frame=${encodeMeta(meta).byteLength}B`;
const jsonTask = `JSON stringify+parse bulks=2 fields=3 text=${JSON.stringify(plain).length}B`;
const ROUNDS = Number(process.env.LBM_BENCH_ROUNDS ?? 7);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new RangeError(`LBM_BENCH_ROUNDS must be an integer >= 1, got ${process.env.LBM_BENCH_ROUNDS}`);

// Short alternating rounds rather than one long run per task: the machine is shared, and a load
// change during one long task would skew the ratio.
const rounds = await runRounds(ROUNDS, () =>
  new Bench({ name: 'archive', time: 150, warmupTime: 50 })
    .add(archiveTask, () => {
      for (let i = 0; i < BATCH; i++) {
        const out = new RequestMeta();
        sink += decodeMeta(encodeMeta(meta), out) + out.requestId;
      }
    })
    .add(jsonTask, () => {
      for (let i = 0; i < BATCH; i++) {
        const out = JSON.parse(JSON.stringify(plain)) as typeof plain;
        sink += out.requestId;
      }
    }),
);

console.log(`archive: ${ROUNDS} rounds, ${BATCH} operations per sample, Node ${process.version} (sink ${sink > 0 ? 'ok' : 'empty'})`);
const ratios = printRatioTable(rounds, [{ label: 'archive vs JSON (encode+decode)', subject: archiveTask, peer: jsonTask }], {
  [archiveTask]: { batch: BATCH },
  [jsonTask]: { batch: BATCH },
});
const ratio = ratios['archive vs JSON (encode+decode)'];
console.log(`archive / JSON = ${ratio.toFixed(2)}x, median of ${ROUNDS} rounds (goal >= 3x: ${ratio >= 3 ? 'met' : 'NOT met'})`);

// The result file: medians over the rounds; the ratio is the median of the per-round ratios.
const rate = (name: string): number => summary(rounds.map((b) => taskRate(b.getTask(name)!, { batch: BATCH }).opsPerSec)).median;
const frame = encodeMeta(meta).byteLength;
const measure = 'metadata encode+decode (2 bulks, 3 fields)';
await writeBenchResult('archive', [
  { task: archiveTask, side: 'ours', impl: 'lightbeam archive', messageBytes: frame, opsPerSec: rate(archiveTask), bytesPerSec: rate(archiveTask) * frame, measure, unit: 'encode+decode' },
  {
    task: jsonTask,
    side: 'peer',
    impl: 'JSON stringify+parse',
    messageBytes: frame,
    opsPerSec: rate(jsonTask),
    bytesPerSec: rate(jsonTask) * JSON.stringify(plain).length,
    ratio,
    measure,
    unit: 'encode+decode',
    vs: archiveTask,
    goal: 3,
  },
]);
