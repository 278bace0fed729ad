/**
 * Two (or three) bridge processes on tcp loopback: worker threads in process A send through A's
 * bridge to worker threads in process B; every message is verified by checksum on arrival.
 */
import { expect } from 'chai';
import type { BridgeChild } from './support/bridge-process.js';
import { bridgeFixture, startBridge } from './support/bridge-process.js';

const SENDER = bridgeFixture('sender.mjs');
const RECEIVER = bridgeFixture('receiver.mjs');

interface Received {
  total: number;
  bad: number;
  exposeBad: number;
  byTag: Record<string, { count: number; outOfOrder: number }>;
}

describe('bridge between processes (tcp loopback)', () => {
  const children: BridgeChild[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill();
  });

  async function receiverProcess(channels: string[], expect: number, extra: string[] = [], env: Record<string, string> = {}): Promise<BridgeChild> {
    const workers = channels.flatMap(() => ['--worker', RECEIVER]);
    const b = await startBridge(['--listen', 'tcp://127.0.0.1:0', '--exit-with-workers', ...workers, ...extra], {
      RX_CHANNEL: channels.join(','),
      EXPECT: String(expect),
      IDLE_MS: '8000',
      ...env,
    });
    children.push(b);
    // The ingress drops what exceeds its small queue for a channel nobody serves yet: start
    // sending only once every receiving worker has bound its channel.
    for (const c of channels) await b.printed(`"kind":"listening","channel":"${c}"`, 30000);
    return b;
  }

  async function senderProcess(port: number, channels: string[], env: Record<string, string>, extra: string[] = []): Promise<BridgeChild> {
    const workers = channels.flatMap(() => ['--worker', SENDER]);
    const a = await startBridge(['--peer', `tcp://127.0.0.1:${port}`, '--channels', channels.join(','), '--exit-with-workers', ...workers, ...extra], {
      TX_CHANNEL: channels.join(','),
      ...env,
    });
    children.push(a);
    return a;
  }

  function received(b: BridgeChild): Received[] {
    return b.lines('received') as unknown as Received[];
  }

  it('carries every message from workers in A to a worker in B intact, EXPOSE bulks as descriptors only', async () => {
    const n = 150;
    const b = await receiverProcess(['data'], n);
    const a = await senderProcess(b.port!, ['data'], { COUNT: String(n), SIZE: '70000' });
    expect(await a.exited(60000)).to.equal(0);
    expect(await b.exited(60000)).to.equal(0);
    expect(a.lines('sent')).to.deep.equal([{ kind: 'sent', tag: 'w0', sent: n, count: n, codes: {} }]);
    const [r] = received(b);
    expect(r).to.include({ total: n, bad: 0, exposeBad: 0 });
    expect(r.byTag.w0).to.include({ count: n, outOfOrder: 0 });
    expect(a.stats()!.egress).to.include({ received: n, forwarded: n, undelivered: 0 });
    expect(b.stats()!.ingress).to.include({ delivered: n, malformed: 0, mismatched: 0, undelivered: 0 });
  });

  it('multiplexes four channels over one connection, each to its own worker', async () => {
    const n = 80;
    const chans = ['c0', 'c1', 'c2', 'c3'];
    const b = await receiverProcess(chans, n);
    const a = await senderProcess(b.port!, chans, { COUNT: String(n), SIZE: '100,5000,129,300000' });
    expect(await a.exited(60000)).to.equal(0);
    expect(await b.exited(60000)).to.equal(0);
    const rs = received(b);
    expect(rs).to.have.length(4);
    for (const r of rs) {
      expect(r).to.include({ total: n, bad: 0, exposeBad: 0 });
      expect(Object.values(r.byTag)[0]).to.include({ count: n, outOfOrder: 0 });
    }
    expect(a.stats()!.egress.forwarded).to.equal(4 * n);
  });

  it('fans one channel in from two egress processes', async () => {
    const n = 100;
    const b = await receiverProcess(['fan'], 2 * n);
    const [a1, a2] = await Promise.all([
      senderProcess(b.port!, ['fan'], { COUNT: String(n), SIZE: '2000', TAG: 'hostA' }),
      senderProcess(b.port!, ['fan'], { COUNT: String(n), SIZE: '40000', TAG: 'hostC' }),
    ]);
    expect(await a1.exited(60000)).to.equal(0);
    expect(await a2.exited(60000)).to.equal(0);
    expect(await b.exited(60000)).to.equal(0);
    const [r] = received(b);
    expect(r).to.include({ total: 2 * n, bad: 0, exposeBad: 0 });
    expect(r.byTag.hostA0).to.include({ count: n, outOfOrder: 0 });
    expect(r.byTag.hostC0).to.include({ count: n, outOfOrder: 0 });
  });

  it('survives the far process being killed mid-stream: sends settle, delivery resumes with a new far process, nothing corrupted', async () => {
    const b1 = await receiverProcess(['kill'], 100000);
    const port = b1.port!;
    const a = await senderProcess(port, ['kill'], { COUNT: '400', SIZE: '20000', INTERVAL_MS: '10', SEND_TIMEOUT_MS: '3000' }, ['--send-timeout-ms', '1000', '--hwm', '50']);
    await b1.printed('"total":50', 30000);
    b1.kill();
    await b1.exited(10000);
    // A keeps streaming into a dead peer for a while: its sends settle (queued up to the HWM, then reported).
    await new Promise((r) => setTimeout(r, 1500));
    const b2 = await startBridge(['--listen', `tcp://127.0.0.1:${port}`, '--exit-with-workers', '--worker', RECEIVER], {
      RX_CHANNEL: 'kill',
      EXPECT: '100000',
      IDLE_MS: '3000',
    });
    children.push(b2);
    expect(await a.exited(60000)).to.equal(0);
    expect(await b2.exited(60000)).to.equal(0);
    const [r] = received(b2);
    const s = a.stats()!.egress;
    expect(r.total, 'delivery resumed').to.be.greaterThan(0);
    expect(r).to.include({ bad: 0, exposeBad: 0 });
    expect(r.byTag.w0.outOfOrder).to.equal(0);
    expect(s.received).to.equal(s.forwarded + s.undelivered);
    expect(r.total).to.be.at.most(s.forwarded);
  });

  it('reports or delivers every message when the sending bridge is closed with messages in flight', async () => {
    const b = await receiverProcess(['inflight'], 100000, [], { IDLE_MS: '3000' });
    const a = await senderProcess(b.port!, ['inflight'], { COUNT: '100000', SIZE: '50000' }, ['--drain-ms', '200']);
    await b.printed('"total":100', 30000);
    a.proc.kill('SIGTERM');
    expect(await a.exited(30000)).to.equal(0);
    expect(await b.exited(30000)).to.equal(0);
    const s = a.stats()!.egress;
    const [r] = received(b);
    expect(s.received).to.equal(s.forwarded + s.undelivered);
    expect(r).to.include({ total: s.forwarded, bad: 0, exposeBad: 0 });
    expect(r.byTag.w0.outOfOrder).to.equal(0);
  });
});
