/**
 * `lightbeam bridge` as a command: help, one-line errors and exit codes for bad input.
 */
import { expect } from 'chai';
import { Pull } from 'zeromq';
import { spawnBridge } from './support/bridge-process.js';

describe('lightbeam bridge command', () => {
  it('prints help naming the options and the worker contract', async () => {
    const c = spawnBridge(['--help']);
    expect(await c.exited(20000)).to.equal(0);
    for (const text of ['--listen', '--peer', '--channels', '--worker', '--curve-secret-key', 'workerData.lightbeamShm', 'data null']) {
      expect(c.stdout()).to.include(text);
    }
  });

  for (const [name, args, message] of [
    ['a bad listen address', ['--listen', 'tcp://127.0.0.1'], 'listen: missing host or port'],
    ['a bad peer protocol', ['--peer', 'udp://1.2.3.4:5', '--channels', 'a'], 'unknown protocol udp'],
    ['a peer without channels', ['--peer', 'tcp://127.0.0.1:5555'], '--peer needs --channels'],
    ['no address at all', [], 'give --listen, --peer, or both'],
    ['half a CURVE key pair', ['--listen', 'tcp://127.0.0.1:0', '--curve-secret-key', 'x'], 'CURVE needs both'],
  ] as const) {
    it(`exits 2 with one line for ${name}`, async () => {
      const c = spawnBridge([...args]);
      expect(await c.exited(20000)).to.equal(2);
      const lines = c.stderr().trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^lightbeam bridge: /);
      expect(lines[0]).to.include(message);
    });
  }

  it('exits 1 with one line when the port is in use', async () => {
    const holder = new Pull();
    await holder.bind('tcp://127.0.0.1:*');
    const port = /:(\d+)$/.exec(holder.lastEndpoint!)![1];
    try {
      const c = spawnBridge(['--listen', `tcp://127.0.0.1:${port}`]);
      expect(await c.exited(20000)).to.equal(1);
      const lines = c.stderr().trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^lightbeam bridge: cannot bind tcp:\/\/127\.0\.0\.1:\d+: .*in use/i);
    } finally {
      holder.close();
    }
  });

  it('exits 1 when the listen address is not local', async () => {
    const c = spawnBridge(['--listen', 'tcp://203.0.113.9:0']);
    expect(await c.exited(20000)).to.equal(1);
    expect(c.stderr()).to.match(/^lightbeam bridge: cannot bind tcp:\/\/203\.0\.113\.9:\*: /);
  });
});
