/**
 * Two hosts: two network namespaces joined by a veth pair (10.200.0.1/24 and 10.200.0.2/24 inside
 * the namespaces only), one bridge process in each. The link goes down for 3 seconds mid-stream:
 * delivery resumes, nothing is corrupted, nothing hangs. The namespaces are removed afterwards even
 * when the test fails. Needs root (CI runs as root); without `ip netns` the test fails, saying so.
 */
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import type { BridgeChild } from './support/bridge-process.js';
import { bridgeFixture, startBridge } from './support/bridge-process.js';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000 });
}

describe('bridge between two network namespaces over a veth pair', function () {
  this.timeout(120000);
  const tag = `${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  const nsA = `lbA${tag}`;
  const nsB = `lbB${tag}`;
  const vethA = `lva${tag}`.slice(0, 15);
  const vethB = `lvb${tag}`.slice(0, 15);
  const children: BridgeChild[] = [];

  before(() => {
    try {
      ip('netns', 'add', nsA);
    } catch (err) {
      const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
      throw new Error(`cannot create network namespaces here (ip netns needs root and iproute2): ${why}`);
    }
    ip('netns', 'add', nsB);
    ip('link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB);
    ip('link', 'set', vethA, 'netns', nsA);
    ip('link', 'set', vethB, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', '10.200.0.1/24', 'dev', vethA);
    ip('-n', nsB, 'addr', 'add', '10.200.0.2/24', 'dev', vethB);
    for (const [ns, dev] of [[nsA, vethA], [nsB, vethB]]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  });

  after(() => {
    for (const c of children.splice(0)) c.kill();
    // Deleting a namespace deletes the veth end inside it, and with it the pair.
    for (const ns of [nsA, nsB]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Never created (before failed early): nothing to remove.
      }
    }
  });

  it('resumes delivery after the link is down for 3 seconds mid-stream, every message intact', async () => {
    const n = 300;
    const b = await startBridge(
      ['--listen', 'tcp://10.200.0.2:9000', '--worker', bridgeFixture('receiver.mjs'), '--exit-with-workers'],
      { RX_CHANNEL: 'net', EXPECT: String(n), IDLE_MS: '20000' },
      ['ip', 'netns', 'exec', nsB],
    );
    children.push(b);
    const a = await startBridge(
      ['--peer', 'tcp://10.200.0.2:9000', '--channels', 'net', '--worker', bridgeFixture('sender.mjs'), '--exit-with-workers', '--send-timeout-ms', '15000'],
      { TX_CHANNEL: 'net', COUNT: String(n), SIZE: '30000', INTERVAL_MS: '20', SEND_TIMEOUT_MS: '20000' },
      ['ip', 'netns', 'exec', nsA],
    );
    children.push(a);
    await b.printed('"total":50', 30000);
    ip('-n', nsA, 'link', 'set', vethA, 'down');
    const before = b.lines('progress').length;
    await new Promise((r) => setTimeout(r, 3000));
    const during = b.lines('progress').length;
    ip('-n', nsA, 'link', 'set', vethA, 'up');
    expect(await a.exited(60000)).to.equal(0);
    expect(await b.exited(60000)).to.equal(0);
    const [r] = b.lines('received') as unknown as { total: number; bad: number; exposeBad: number; byTag: Record<string, { count: number; outOfOrder: number }> }[];
    expect(r).to.include({ total: n, bad: 0, exposeBad: 0 });
    expect(r.byTag.w0).to.include({ count: n, outOfOrder: 0 });
    expect(a.stats()!.egress).to.include({ forwarded: n, undelivered: 0 });
    // At most one progress line can have been in flight when the link went down.
    expect(during - before).to.be.at.most(1);
  });
});
