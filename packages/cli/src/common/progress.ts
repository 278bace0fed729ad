/**
 * Progress display: a cli-progress bar when stdout is a terminal, plain lines otherwise (logs,
 * CI, pipes), so captured output never contains cursor movements.
 */
import cliProgress from 'cli-progress';

/** What the commands report progress through. */
export interface Progress {
  /**
   * Starts (or restarts) the bar.
   * @param total - the value at 100 %
   * @param label - what is being counted
   */
  start(total: number, label: string): void;
  /**
   * Moves the bar to `value`.
   * @param eta - the time to go as shown; by default the bar's own estimate from its rate so far
   */
  update(value: number, eta?: string): void;
  /** Prints a line of output above the bar (or just prints it). */
  log(line: string): void;
  /** Removes the bar; later `log` lines print plainly. */
  stop(): void;
}

/** Formats a byte count for people: `1.5 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

class PlainProgress implements Progress {
  constructor(private readonly out: NodeJS.WritableStream) {}
  start(): void {}
  update(): void {}
  log(line: string): void {
    this.out.write(`${line}\n`);
  }
  stop(): void {}
}

class BarProgress implements Progress {
  private readonly multi: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | null = null;
  private startedAt = 0;

  constructor(stream: NodeJS.WritableStream, private readonly bytes: boolean) {
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: true,
        // Our own ETA token: cli-progress's own prints "NFs" until its rate settles.
        format: '{label} [{bar}] {percentage}% | {shown} | ETA {etaText}',
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number, label: string): void {
    this.bar?.stop();
    this.startedAt = performance.now();
    this.bar = this.multi.create(Math.max(total, 1), 0, { label, shown: this.show(0, total), etaText: 'estimating' });
  }

  update(value: number, eta?: string): void {
    const b = this.bar;
    if (b !== null) b.update(value, { shown: this.show(value, b.getTotal()), etaText: eta ?? this.ownEta(value, b.getTotal()) });
  }

  /** Elapsed time scaled by what is left; nothing to say before the first unit is done. */
  private ownEta(value: number, total: number): string {
    if (!(value > 0)) return 'estimating';
    const s = Math.round((((performance.now() - this.startedAt) / value) * Math.max(0, total - value)) / 1000);
    return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  }

  log(line: string): void {
    if (this.bar === null) process.stdout.write(`${line}\n`);
    else this.multi.log(`${line}\n`);
  }

  stop(): void {
    // MultiBar prints logged lines on its next redraw: redraw once so none is lost at stop.
    if (this.bar !== null) this.multi.update();
    this.multi.stop();
    this.bar = null;
  }

  private show(value: number, total: number): string {
    // Whole units: a step-counting bar moves by fractions of a step between updates.
    return this.bytes ? `${formatBytes(value)} / ${formatBytes(total)}` : `${Math.floor(value)} / ${total}`;
  }
}

/**
 * The progress display for this process: a bar when stdout is a TTY and `enabled`, plain lines
 * otherwise.
 *
 * @param opts - `bytes` to show values as byte counts; `enabled: false` to force plain lines;
 *   `out` for where plain lines go (stderr when stdout is kept for machine-readable lines)
 */
export function createProgress(opts: { bytes: boolean; enabled?: boolean; out?: NodeJS.WritableStream }): Progress {
  const tty = process.stdout.isTTY === true && opts.enabled !== false;
  return tty ? new BarProgress(process.stdout, opts.bytes) : new PlainProgress(opts.out ?? process.stdout);
}
