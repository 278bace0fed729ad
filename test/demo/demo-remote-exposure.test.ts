/**
 * Issue #13 item 6: `lightbeam demo-remote` without `--listen` binds loopback only (it used to bind
 * 0.0.0.0 on ports 9700-9702, with no authentication); a wider bind is asked for and warned about.
 * And what reaches its ports from outside cannot stop it: a message whose recv vector claims
 * BULK_XFER is dropped and the next demo run still verifies everything; a frame larger than a port
 * ever needs is dropped by ZeroMQ before it is read (item 2).
 */
import { connect } from 'node:net';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { expect } from 'chai';
import { BULK_XFER, encodeMeta } from '@lightbeam/core';
import { DemoMeta, RESULTS_CHANNEL } from '@lightbeam/cli';
import { encodeRoute } from '@lightbeam/zmq-bridge';
import { Dealer, Push } from 'zeromq';
import { sendAndSeeDropped } from '../zmq/support/dropped.js';
import { CliProcess, freePort, runCli } from '../cli/support/run-cli.js';

const DEFAULT_PORTS = [9700, 9701, 9702];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(3000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** A non-loopback IPv4 address of this host, if it has one. */
function outsideAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

describe('lightbeam demo-remote exposure (issue #13 item 6)', function () {
  this.timeout(60000);
  const procs: CliProcess[] = [];

  afterEach(() => {
    for (const p of procs.splice(0)) p.kill();
  });

  it('binds 127.0.0.1 on ports 9700-9702 when --listen is not given', async function () {
    for (const p of DEFAULT_PORTS) if (!(await portFree(p))) this.skip();
    const remote = new CliProcess(['demo-remote', '--once']);
    procs.push(remote);
    const ready = await remote.waitForStdout(/ready: control port/);
    const outside = outsideAddress();
    if (outside !== null) {
      for (const p of DEFAULT_PORTS) expect(await accepts(outside, p), `${outside}:${p}`).to.equal(false);
    }
    expect(await accepts('127.0.0.1', 9700)).to.equal(true);
    expect(ready).to.contain('(bound tcp://127.0.0.1:9700, tcp://127.0.0.1:9701, tcp://127.0.0.1:9702)');
    expect(remote.stdout).to.not.contain('warning');
  });

  it('warns when told to listen beyond loopback', async () => {
    const remote = new CliProcess(['demo-remote', '--listen', '0.0.0.0:0', '--once']);
    procs.push(remote);
    await remote.waitForStdout(/ready: control port/);
    await remote.waitForStdout(/^warning: listening beyond loopback on 0\.0\.0\.0 without authentication/);
  });

  it('has ZeroMQ drop frames larger than each port needs, before reading them (issue #13 item 2)', async () => {
    const remote = new CliProcess(['demo-remote', '--listen', '127.0.0.1:0', '--once']);
    procs.push(remote);
    const ready = await remote.waitForStdout(/ready: control port/);
    const [control, bridge, baseline] = /control port (\d+), bridge port (\d+), baseline port (\d+)/.exec(ready)!.slice(1).map(Number);
    const big = new Uint8Array(9 * 1024 * 1024);
    expect(await sendAndSeeDropped(new Dealer({ linger: 0 }), `tcp://127.0.0.1:${control}`, [new Uint8Array(0), big]), 'control').to.equal(true);
    expect(await sendAndSeeDropped(new Push({ linger: 0 }), `tcp://127.0.0.1:${bridge}`, [encodeRoute(RESULTS_CHANNEL), big]), 'bridge').to.equal(true);
    expect(await sendAndSeeDropped(new Push({ linger: 0 }), `tcp://127.0.0.1:${baseline}`, [new Uint8Array(20), big]), 'baseline').to.equal(true);
  });

  it('drops a message to its bridge whose recv vector claims BULK_XFER, and verifies the next run', async () => {
    const port = await freePort();
    const remote = new CliProcess(['demo-remote', '--listen', `127.0.0.1:${port}`, '--once']);
    procs.push(remote);
    const ready = await remote.waitForStdout(/ready: control port/);
    const bridgePort = Number(/bridge port (\d+)/.exec(ready)![1]);
    const hostile = new DemoMeta();
    const data = new Uint8Array(64);
    hostile.send.push({ data: null, size: data.byteLength, flags: BULK_XFER });
    hostile.recv.push({ data: null, size: data.byteLength, flags: BULK_XFER });
    const push = new Push({ linger: 1000 });
    push.connect(`tcp://127.0.0.1:${bridgePort}`);
    await push.send([encodeRoute(RESULTS_CHANNEL), encodeMeta(hostile), data]);
    push.close();
    const r = await runCli(['demo', '--act', '2', '--remote', `127.0.0.1:${port}`, '--count', '50', '--size', '4096', '--workers', '1'], { timeoutMs: 50000 });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/: 50\/50 verified by the remote side, 0 mismatches, 0 lost/);
    const rr = await remote.done(10000);
    expect(rr.code, rr.stderr).to.equal(0);
  });
});
