/**
 * `lightbeam demo`, the README's first command, run as a user runs it: the built CLI as a real
 * child process (non-TTY), which itself starts the remote side as a second process. Small sizes
 * keep each run short; most cases run act 2 (across hosts) once, the first one both acts three times.
 */
import { expect } from 'chai';
import { COMPARISON_ROW, PER_RUN_ROW, geometricMean, parseVerdict, spreadOf } from '@lightbeam/cli';
import { CliProcess, freePort, linesOf, runCli } from '../cli/support/run-cli.js';
import { alive } from '../support/process-alive.js';

const SMALL = ['demo', '--count', '200', '--size', '16384', '--workers', '2', '--timeout-ms', '10000', '--act', '2', '--runs', '1'];
const BOTH = ['demo', '--count', '200', '--size', '16384', '--workers', '2', '--timeout-ms', '10000', '--runs', '3', '--local-scale', '0.05'];
const OURS = 'lightbeam kShm + bridge';
const BASELINE = 'postMessage + zeromq.js';

/** The table row (split into trimmed cells) whose first cell is `name`. */
function row(stdout: string, name: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`| ${name} `));
  expect(line, `no table row "${name}" in:\n${stdout}`).to.not.equal(undefined);
  return (line as string).split('|').slice(1, -1).map((c) => c.trim());
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

const remotePid = (stdout: string): number => Number(/\(pid (\d+)\)/.exec(stdout)?.[1] ?? NaN);

/** The act-1 table row whose first two cells are `first`. */
function rowOf(stdout: string, first: readonly string[]): string[] {
  const cells = stdout
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    .find((c) => first.every((f, i) => c[i] === f));
  expect(cells, `no table row ${first.join(' / ')} in:\n${stdout}`).to.not.equal(undefined);
  return cells as string[];
}

/** `1.25x faster` as 1.25, `1.25x slower` as 0.8, `as fast (1.00x)` as 1. */
function signed(cell: string): number {
  const m = /^(\d+\.\d\d)x (faster|slower)$/.exec(cell);
  if (m === null) {
    expect(cell).to.match(/^as fast/);
    return 1;
  }
  return m[2] === 'faster' ? Number(m[1]) : 1 / Number(m[1]);
}

/** The closing sentence of an act. */
function sentenceOf(stdout: string, act: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`${act}: Lightbeam `));
  expect(line, `no sentence for ${act} in:\n${stdout}`).to.not.equal(undefined);
  return line as string;
}

/** The sentence says faster exactly when the speed-up is above 1, by the factor printed (to rounding). */
function agrees(sentence: string, speedup: number): void {
  const v = parseVerdict(sentence);
  expect(v, sentence).to.not.equal(null);
  const { factor, faster } = v as { factor: number; faster: boolean | null };
  // The numbers read back are rounded as printed: near 1 the direction is a coin toss of rounding.
  if (faster === null) expect(speedup, sentence).to.be.closeTo(1, 0.02);
  else if (Math.abs(speedup - 1) > 0.02) expect(faster, `${sentence} but the speed-up is ${speedup}`).to.equal(speedup > 1);
  const want = faster ? speedup : 1 / speedup;
  expect(factor, sentence).to.be.closeTo(want, 0.01 + 0.01 * want);
}

describe('lightbeam demo', function () {
  this.timeout(120000);

  it('runs both acts three times, every message verified, and ends each act with a sentence that agrees with its numbers', async () => {
    const r = await runCli(BOTH);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.not.match(/\x1b\[/); // no cursor movements when stdout is not a terminal

    // Act 1: every path of every workload verified, none wrong.
    for (const w of ['records 256 B', 'pipeline 4 KiB', 'pipeline 1 MiB', 'stages 1 KiB', 'fan-out 1 MiB', 'fan-out 8 MiB']) {
      for (const p of ['lightbeam', 'postMessage clone', 'postMessage transfer']) {
        const cells = rowOf(r.stdout, [w, p]);
        const [got, want] = cells[5].split('/');
        expect(got, `${w} ${p} verified`).to.equal(want);
        expect(cells[6], `${w} ${p} mismatches`).to.equal('0');
        if (p === 'lightbeam') continue;
        expect(cells[7]).to.match(/^\d+\.\d\dx (faster|slower)$|^as fast/);
        expect(cells[8]).to.match(/^\d+\.\d\dx (faster|slower) \(|^as fast/);
        // Issue #22 item 5: the ratio of the median times agrees with the two medians printed,
        // to their rounding to whole milliseconds.
        const msOf = (c: string[]): number => Number(/^(\d+) ms/.exec(c[2])?.[1]);
        const o = msOf(rowOf(r.stdout, [w, 'lightbeam']));
        const t = msOf(cells);
        const f = signed(cells[7]);
        expect(f, `${cells[7]} beside ${t} ms against ${o} ms`).to.be.within((t - 0.5) / (o + 0.5) - 0.006, (t + 0.5) / Math.max(o - 0.5, 0.5) + 0.006);
      }
    }
    // The sentence states the median over the runs of the per-run geometric means it prints.
    const perRun = [...r.stdout.matchAll(/^act 1 run \d+\/3: (.*) \(Lightbeam against/gm)].map((m) =>
      geometricMean([...m[1].matchAll(/(\d+\.\d\d)x (faster|slower)|as fast \((1\.00)x\)/g)].map((x) => (x[3] !== undefined ? 1 : x[2] === 'faster' ? Number(x[1]) : 1 / Number(x[1])))),
    );
    expect(perRun).to.have.length(3);
    agrees(sentenceOf(r.stdout, 'Act 1'), spreadOf(perRun).median);

    // Act 2: three runs of each path, the far side's verdict for each.
    for (const name of [OURS, BASELINE]) expect(r.stdout.split(`, ${name}: 200/200 verified by the remote side, 0 mismatches, 0 lost`)).to.have.length(4);
    for (const name of [OURS, BASELINE]) {
      const cells = row(r.stdout, name);
      expect(cells[1]).to.equal('200/200');
      expect(cells[2]).to.equal('3.13 MiB');
      expect(cells[8], 'mismatches').to.equal('0');
      expect(cells[9], 'lost').to.equal('0');
      expect(cells[6]).to.match(/^\d+(\.\d+)? ms \(\d+(\.\d+)? ms-\d+(\.\d+)? ms\)$/); // p50, median (range)
    }
    const times = (name: string): number[] =>
      r.stdout
        .split('\n')
        .filter((l) => /^run \d+\/3, /.test(l) && l.includes(`, ${name}: `))
        .map((l) => Number(/, (\d+\.\d) ms$/.exec(l)?.[1]));
    const ours = times(OURS);
    const base = times(BASELINE);
    expect(ours).to.have.length(3);
    const speedup = spreadOf(ours.map((t, i) => base[i] / t)).median;
    const cmp = row(r.stdout, PER_RUN_ROW);
    // The comparison rows say the direction in words, the same way as the sentence.
    expect(cmp[3]).to.match(/^\d+\.\d\dx (faster|slower)$|^as fast/);
    expect(cmp[6]).to.match(/^\d+\.\d\dx (lower|higher)$|^as good/);
    // Issue #22 item 5: the row of the medians' ratios agrees with the medians printed above it.
    const ofMedians = row(r.stdout, COMPARISON_ROW);
    const perSecond = (name: string): number => Number(row(r.stdout, name)[5]);
    expect(signed(ofMedians[5])).to.be.closeTo(perSecond(OURS) / perSecond(BASELINE), 0.006 + 0.005 * signed(ofMedians[5]));
    agrees(sentenceOf(r.stdout, 'Act 2'), speedup);
    expect(r.stdout).to.contain('OK: every message of both paths verified by the remote side');
    // The remote side it started is gone.
    expect(await waitGone(remotePid(r.stdout), 5000)).to.equal(true);
  });

  it('exits 1 with one line when the remote side finds corrupted payloads (--corrupt-every)', async () => {
    const r = await runCli([...SMALL, '--corrupt-every', '50']);
    expect(r.code).to.equal(1);
    // 200 messages, every 50th damaged after its checksum: 4 per path, each caught remotely.
    expect(r.stdout).to.contain(`${OURS}: 200/200 verified by the remote side, 4 mismatches, 0 lost`);
    expect(r.stdout).to.contain(`${BASELINE}: 200/200 verified by the remote side, 4 mismatches, 0 lost`);
    expect(row(r.stdout, OURS)[8]).to.equal('4');
    const err = linesOf(r.stderr);
    expect(err).to.have.length(1);
    expect(err[0]).to.match(/^lightbeam demo: lightbeam kShm \+ bridge: 4 mismatches, 0 lost, 0 unexpected of 200 messages \(first: message 49: bytes hash to 0x[0-9a-f]{8} but the message says 0x[0-9a-f]{8}\)$/);
  });

  for (const [args, re] of [
    [['--count', '-1'], /--count/],
    [['--count', '0'], /--count must be an integer >= 1/],
    [['--size', '1001'], /--size must be a multiple of 4 bytes/],
    [['--size', '64q'], /--size must be a multiple of 4 bytes/],
    [['--workers', '0'], /--workers must be an integer >= 1/],
    [['--remote', 'nohostport'], /--remote: expected host:port/],
    [['--runs', '0'], /--runs must be an integer >= 1/],
    [['--act', '3'], /--act must be 1, 2 or both/],
    [['--local-scale', 'x'], /--local-scale must be a number/],
  ] as const) {
    it(`refuses ${args.join(' ')} with exit code 2 and one line`, async () => {
      const r = await runCli(['demo', ...args]);
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal('');
      const err = linesOf(r.stderr);
      expect(err).to.have.length(1);
      expect(err[0]).to.match(/^lightbeam demo: /);
      expect(err[0]).to.match(re);
    });
  }

  it('exits 1 with one line when --remote is unreachable', async () => {
    const port = await freePort();
    const r = await runCli(['demo', '--act', '2', '--remote', `127.0.0.1:${port}`, '--count', '10']);
    expect(r.code).to.equal(1);
    const err = linesOf(r.stderr);
    expect(err).to.have.length(1);
    expect(err[0]).to.equal(`lightbeam demo: cannot reach the demo remote at 127.0.0.1:${port}: connection refused (is "lightbeam demo-remote --listen <addr>:${port}" running there?)`);
  });

  it('runs against a separately started demo-remote (--remote), which then leaves with --once', async () => {
    const port = await freePort();
    const remote = new CliProcess(['demo-remote', '--listen', `127.0.0.1:${port}`, '--once']);
    try {
      await remote.waitForStdout(/ready: control port/);
      const r = await runCli(['demo', '--act', '2', '--runs', '1', '--remote', `127.0.0.1:${port}`, '--count', '100', '--size', '4096', '--workers', '1']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain(`remote side 127.0.0.1:${port} (pid ${remote.child.pid})`);
      expect(r.stdout).to.contain(`${OURS}: 100/100 verified by the remote side, 0 mismatches, 0 lost`);
      expect(r.stdout).to.not.contain('started a second process');
      const rr = await remote.done(10000);
      expect(rr.code, rr.stderr).to.equal(0);
    } finally {
      remote.kill();
    }
  });

  it('kills its remote side and exits 130 on Ctrl-C', async () => {
    const demo = new CliProcess(['demo', '--act', '2', '--count', '1000000', '--size', '4096', '--workers', '1']);
    try {
      const line = await demo.waitForStdout(/remote side 127\.0\.0\.1:\d+ \(pid \d+\)/);
      const pid = remotePid(line);
      expect(alive(pid)).to.equal(true);
      demo.child.kill('SIGINT');
      const r = await demo.done(10000);
      expect(r.code).to.equal(130);
      expect(linesOf(r.stderr)).to.deep.equal(['lightbeam demo: interrupted']);
      expect(await waitGone(pid, 5000)).to.equal(true);
    } finally {
      demo.kill();
    }
  });

  it('exits 1 with one line, in bounded time, when the remote side dies mid-run', async () => {
    // --timeout-ms bounds the steps of a run, not the remote side's start-up (issue 14).
    const demo = new CliProcess(['demo', '--act', '2', '--count', '1000000', '--size', '4096', '--workers', '1', '--timeout-ms', '2000']);
    try {
      const pid = remotePid(await demo.waitForStdout(/remote side 127\.0\.0\.1:\d+ \(pid \d+\)/));
      // Plain progress lines (stdout is not a terminal): the run is under way.
      await demo.waitForStdout(/^lightbeam kShm \+ bridge: \d+\/1000000 sent$/);
      process.kill(pid, 'SIGKILL');
      const r = await demo.done(30000);
      expect(r.code).to.equal(1);
      const err = linesOf(r.stderr);
      expect(err).to.have.length(1);
      expect(err[0]).to.match(/^lightbeam demo: kShm worker on work-0 failed: .* did not take message \d+ within 2000 ms \(ETIMEDOUT: Operation timed out\); is the remote side still up\?$/);
    } finally {
      demo.kill();
    }
  });
});
