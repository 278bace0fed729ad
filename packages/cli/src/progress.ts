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
  /** Moves the bar to `value`. */
  update(value: number): void;
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

  constructor(stream: NodeJS.WritableStream, private readonly bytes: boolean) {
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: true,
        format: '{label} [{bar}] {percentage}% | {shown} | ETA {eta_formatted}',
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number, label: string): void {
    this.bar?.stop();
    this.bar = this.multi.create(Math.max(total, 1), 0, { label, shown: this.show(0, total) });
  }

  update(value: number): void {
    const b = this.bar;
    if (b !== null) b.update(value, { shown: this.show(value, b.getTotal()) });
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
    return this.bytes ? `${formatBytes(value)} / ${formatBytes(total)}` : `${value} / ${total}`;
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
