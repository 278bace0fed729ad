/**
 * `lightbeam --help` for every subcommand, and one-line errors with non-zero exit codes for bad
 * arguments, run against the built CLI in real child processes.
 */
import { expect } from 'chai';
import { linesOf, runCli } from './support/run-cli.js';

describe('lightbeam arguments', function () {
  this.timeout(60000);

  it('prints the root help listing send, recv and bench, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).to.equal(0);
    for (const sub of ['send', 'recv', 'bench']) expect(r.stdout).to.match(new RegExp(`^\\s+${sub} `, 'm'));
  });

  for (const [sub, must] of [
    ['send', ['--to <host:port>', '<paths...>', '--timeout-ms']],
    ['recv', ['--listen <host:port>', '--out <dir>', '--count <n>', '--timeout-ms <ms>']],
    ['bench', ['--out <dir>', '--suite <name>']],
  ] as const) {
    it(`prints the help of ${sub} with its options, exit 0`, async () => {
      const r = await runCli([sub, '--help']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.contain(`Usage: lightbeam ${sub}`);
      for (const m of must) expect(r.stdout).to.contain(m);
      expect(r.stderr).to.equal('');
    });
  }

  it('lists every subcommand in the root help and says how addresses and errors look (issue #14)', async () => {
    const r = await runCli(['--help']);
    expect(r.code).to.equal(0);
    for (const sub of ['demo', 'demo-remote', 'send', 'recv', 'bridge', 'bench']) expect(r.stdout).to.match(new RegExp(`^\\s+${sub} `, 'm'));
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).to.include('host:port or tcp://host:port in every command');
    expect(text).to.include('errors are one line on stderr');
  });

  for (const sub of ['demo', 'demo-remote', 'send', 'recv', 'bridge']) {
    it(`prints the help of ${sub} without empty list defaults (issue #14)`, async () => {
      const r = await runCli([sub, '--help']);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).not.to.include('(default: [])');
    });
  }

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown subcommand', ['frobnicate'], /^lightbeam: unknown command 'frobnicate'/],
    ['a misspelt subcommand, with the suggestion on the same line (issue #14)', ['sned'], /^lightbeam: unknown command 'sned' \(did you mean send\?\)$/],
    ['a misspelt option, with the suggestion on the same line (issue #14)', ['recv', '--listen', '127.0.0.1:9', '--out', 'x', '--jsn'], /^lightbeam recv: unknown option '--jsn' \(did you mean --json\?\)$/],
    ['send without --to', ['send', 'x'], /^lightbeam send: required option '--to <host:port>' not specified$/],
    ['send without paths', ['send', '--to', '127.0.0.1:9'], /^lightbeam send: missing required argument 'paths'$/],
    ['send with a --to that is not host:port', ['send', '--to', 'nohost', 'x'], /^lightbeam send: --to: expected host:port or tcp:\/\/host:port, got "nohost"$/],
    ['send with port 0', ['send', '--to', '127.0.0.1:0', 'x'], /^lightbeam send: --to: port must be in 1\.\.65535/],
    ['send with a negative timeout', ['send', '--to', '127.0.0.1:9', '--timeout-ms', '-5', 'x'], /^lightbeam send: --timeout-ms must be an integer >= 1, got "-5"$/],
    ['recv without --out', ['recv', '--listen', '127.0.0.1:9'], /^lightbeam recv: required option '--out <dir>' not specified$/],
    ['recv with a port above 65535', ['recv', '--listen', '127.0.0.1:70000', '--out', 'x'], /^lightbeam recv: --listen: port must be in 1\.\.65535, got 70000/],
    ['recv with a non-numeric count', ['recv', '--listen', '127.0.0.1:9', '--out', 'x', '--count', 'many'], /^lightbeam recv: --count must be an integer >= 1, got "many"$/],
    ['recv with an unknown option', ['recv', '--listen', '127.0.0.1:9', '--out', 'x', '--bogus'], /^lightbeam recv: unknown option '--bogus'$/],
    // Issue #22 item 11: a value past the bound named the lower bound only.
    ['recv with a message bound past 2^53', ['recv', '--listen', '127.0.0.1:9', '--out', 'x', '--max-message-bytes', '99999999999999999999'], /^lightbeam recv: --max-message-bytes must be at most 4294967296, got "99999999999999999999"$/],
    ['send with a piece larger than a buffer', ['send', '--to', '127.0.0.1:9', '--message-bytes', '4294967297', 'x'], /^lightbeam send: --message-bytes must be at most 4294967296, got "4294967297"$/],
    ["recv with a timeout a timer cannot hold", ['recv', '--listen', '127.0.0.1:9', '--out', 'x', '--timeout-ms', '2147483648'], /^lightbeam recv: --timeout-ms must be at most 2147483647, got "2147483648"$/],
    ['send with a reply port above 65535', ['send', '--to', '127.0.0.1:9', '--reply-port', '70000', 'x'], /^lightbeam send: --reply-port must be at most 65535, got "70000"$/],
    ['bench with an unknown suite', ['bench', '--suite', 'no-such-suite', '--out', '/tmp/lightbeam-cli-test-bench-unknown'], /^lightbeam bench: unknown suite "no-such-suite"/],
  ];
  for (const [what, args, re] of bad) {
    it(`rejects ${what} with one line on stderr and exit code 2`, async () => {
      const r = await runCli(args);
      expect(r.code, r.stderr).to.equal(2);
      expect(linesOf(r.stderr)).to.have.length(1);
      expect(linesOf(r.stderr)[0]).to.match(re);
      expect(r.stdout).to.equal('');
    });
  }

  it('shows no made-up result in the help of demo (issue #22 item 11)', async () => {
    const r = await runCli(['demo', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.not.match(/\d+\.\d+x (faster|slower)/);
  });

  it('reports a missing file to send in one line, exit 1', async () => {
    const r = await runCli(['send', '--to', '127.0.0.1:9', '/nonexistent/lightbeam-test-file']);
    expect(r.code).to.equal(1);
    expect(linesOf(r.stderr)).to.deep.equal(['lightbeam send: no such file or folder: /nonexistent/lightbeam-test-file']);
  });
});
