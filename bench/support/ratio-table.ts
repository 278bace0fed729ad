/**
 * Shared reporting for benchmarks: per-operation rates from tinybench tasks (tasks may run a
 * batch of operations per call, to keep timer overhead out of sub-microsecond measurements) and
 * a table that sets each subject beside its peer with the ratio.
 */
import type { Bench, Task } from 'tinybench';

/** One subject measured against one peer. */
export interface RatioRow {
  /** What the row compares, e.g. `archive encode+decode vs JSON`. */
  label: string;
  /** Name of the measured task. */
  subject: string;
  /** Name of the task it is compared with. */
  peer: string;
}

/** Per-operation figures of one task. */
export interface TaskRate {
  /** Task name. */
  name: string;
  /** Operations per second (calls per second times the batch size). */
  opsPerSec: number;
  /** Mean nanoseconds per operation. */
  nsPerOp: number;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  /** Bytes per second, when the task declared bytes per operation. */
  bytesPerSec?: number;
}

/** How many operations each call of a task performs, and how many bytes each moves. */
export interface TaskShape {
  /**
   * Operations per task call.
   * @defaultValue 1
   */
  batch?: number;
  /** Bytes each operation moves, for a bytes/s column. */
  bytesPerOp?: number;
}

/**
 * Per-operation figures of a finished task.
 *
 * @param task - a task after `bench.run()`
 * @param shape - batch size and bytes per operation
 * @throws Error when the task did not complete (its error is the cause)
 */
export function taskRate(task: Task, shape: TaskShape = {}): TaskRate {
  const r = task.result;
  if (r.state !== 'completed') {
    throw new Error(`benchmark task "${task.name}" ended in state ${r.state}`, { cause: 'error' in r ? r.error : undefined });
  }
  const batch = shape.batch ?? 1;
  const msPerOp = r.period / batch;
  const rate: TaskRate = { name: task.name, opsPerSec: 1000 / msPerOp, nsPerOp: msPerOp * 1e6, rme: r.latency.rme };
  if (shape.bytesPerOp !== undefined) rate.bytesPerSec = rate.opsPerSec * shape.bytesPerOp;
  return rate;
}

/** `1234567` as `1.23 M`, for tables people read. */
export function human(n: number, unit = ''): string {
  const steps: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [div, prefix] of steps) if (Math.abs(n) >= div) return `${(n / div).toFixed(2)} ${prefix}${unit}`;
  return `${n.toFixed(2)} ${unit}`.trim();
}

/**
 * Runs a bench `rounds` times, building it afresh each round, so subject and peer alternate in
 * short slices: on a shared machine a load change then hits both sides instead of one.
 *
 * @param rounds - how many rounds
 * @param build - makes one round's bench (same task names every round)
 * @returns the finished benches, one per round
 */
export async function runRounds(rounds: number, build: () => Bench): Promise<Bench[]> {
  const out: Bench[] = [];
  for (let i = 0; i < rounds; i++) {
    const bench = build();
    await bench.run();
    out.push(bench);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Prints every task's rate (the median over rounds), then one line per subject/peer pair with
 * two ratios, each named (subject ops/s ÷ peer ops/s; above 1 means the subject is faster): the
 * ratio of the two medians printed beside it, and the median of the per-round ratios (the fair
 * statistic when rounds are paired, which may differ from the first), with its range.
 *
 * @param benches - one bench, or the rounds of {@link runRounds}, after `run()`
 * @param rows - the comparisons to print
 * @param shapes - batch size and bytes per operation by task name
 * @returns the median ratio of each row, by label
 */
export function printRatioTable(benches: Bench | readonly Bench[], rows: readonly RatioRow[], shapes: Readonly<Record<string, TaskShape>> = {}): Record<string, number> {
  const rounds = Array.isArray(benches) ? (benches as readonly Bench[]) : [benches as Bench];
  const perRound = rounds.map((b) => new Map(b.tasks.map((t) => [t.name, taskRate(t, shapes[t.name])])));
  const names = [...perRound[0].keys()];
  const rate = (name: string): TaskRate => {
    const all = perRound.map((m) => m.get(name)).filter((r): r is TaskRate => r !== undefined);
    if (all.length === 0) throw new Error(`task "${name}" did not run`);
    const ops = median(all.map((r) => r.opsPerSec));
    const out: TaskRate = { name, opsPerSec: ops, nsPerOp: 1e9 / ops, rme: median(all.map((r) => r.rme)) };
    const bytes = shapes[name]?.bytesPerOp;
    if (bytes !== undefined) out.bytesPerSec = ops * bytes;
    return out;
  };
  console.table(
    names.map(rate).map((r) => ({
      task: r.name,
      'ops/s': human(r.opsPerSec),
      'ns/op': r.nsPerOp.toFixed(1),
      '±%': r.rme.toFixed(2),
      ...(r.bytesPerSec === undefined ? {} : { 'bytes/s': human(r.bytesPerSec, 'B') }),
    })),
  );
  const ratios: Record<string, number> = {};
  console.table(
    rows.map((row) => {
      const each = perRound.map((m) => {
        const s = m.get(row.subject);
        const p = m.get(row.peer);
        if (s === undefined || p === undefined) throw new Error(`ratio row "${row.label}" names a task that did not run`);
        return s.opsPerSec / p.opsPerSec;
      });
      const ratio = median(each);
      ratios[row.label] = ratio;
      const subject = rate(row.subject).opsPerSec;
      const peer = rate(row.peer).opsPerSec;
      return {
        comparison: row.label,
        subject: human(subject, 'op/s'),
        peer: human(peer, 'op/s'),
        'ratio of these medians': `${(subject / peer).toFixed(2)}x`,
        'median of per-round ratios': `${ratio.toFixed(2)}x`,
        ...(each.length > 1 ? { 'per-round ratios (min..max)': `${Math.min(...each).toFixed(2)}..${Math.max(...each).toFixed(2)}` } : {}),
      };
    }),
  );
  return ratios;
}
