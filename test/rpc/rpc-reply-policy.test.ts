/**
 * Issue 22.13: an RpcServer over ZeroMQ connects to the `replyTo` a request names, so by default
 * it replies only to loopback, its own bind host, hosts listed in `replyHosts`, and ipc/inproc
 * addresses only for requests that came over that same protocol. Refusals are counted.
 */
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, RpcServerOptions } from '@lightbeam/core';
import { LbmMeta, RpcClient, RpcEnvelope, RpcServer, Transport, connectReply, encodeMeta } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';

/** Waits (bounded: 10 s) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).to.equal(true);
}

/** Reply clients the server holds open. */
function openReplyClients(server: RpcServer): number {
  return (server as unknown as { replies: { open: number } }).replies.open;
}

describe('RPC reply address policy over ZeroMQ (issue 22.13)', function () {
  this.timeout(30_000);
  let server: RpcServer | undefined;
  let raw: Client | undefined;
  let caller: RpcClient | undefined;
  afterEach(async () => {
    await Promise.all([raw?.close(), caller?.close()]);
    await server?.close();
    server = raw = caller = undefined;
  });

  async function tcpServer(options: RpcServerOptions = {}): Promise<RpcServer> {
    const s = await RpcServer.listen(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: 0, replyClientOptions: { linger: 0 }, ...options });
    s.handle('ok', () => new LbmMeta());
    const endpoint = (s.server as unknown as { getEndpoint(): string }).getEndpoint();
    raw = await connectReply(Transport.kZeroMq, endpoint);
    return s;
  }

  /** Sends a request `ok` naming `replyTo`, as any peer reaching the port could. */
  async function request(callId: number, replyTo: string): Promise<void> {
    const env = Object.assign(new RpcEnvelope(), { callId, method: 'ok', replyTo });
    const rc = await (raw as Client).sendRaw({ meta: encodeMeta(env), xfer: [], bulks: [] }, { timeoutMs: 5000 });
    expect(rc).to.equal(0);
  }

  it('refuses, counts and never connects to a tcp host that is not loopback or its own', async () => {
    server = await tcpServer();
    // TEST-NET addresses: never anybody's host.
    await request(1, 'tcp://192.0.2.1:9');
    await request(2, 'tcp://[2001:db8::1]:9');
    await until(() => server!.stats.replyToRefused === 2);
    expect(server.stats.handled).to.equal(0);
    expect(openReplyClients(server)).to.equal(0);
    // A caller on loopback is still answered.
    caller = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: (server.server as unknown as { port: number }).port });
    await caller.call('ok', new LbmMeta(), { timeoutMs: 10_000 });
    expect(server.stats.replyToRefused).to.equal(2);
  });

  it('refuses ipc and inproc reply addresses named by a tcp request', async () => {
    server = await tcpServer();
    await request(1, `ipc://${join(tmpdir(), 'lbm-rpc-victim.sock')}`);
    await request(2, 'inproc://lbm-rpc-victim');
    await request(3, 'not a url');
    await until(() => server!.stats.replyToRefused === 3);
    expect(openReplyClients(server)).to.equal(0);
    expect(server.stats.malformed).to.equal(0);
  });

  it('admits the hosts of replyHosts, and any with "*"', async () => {
    server = await tcpServer({ replyHosts: ['192.0.2.1'] });
    await request(1, 'tcp://192.0.2.1:9');
    await request(2, 'tcp://192.0.2.2:9');
    await until(() => server!.stats.handled === 1 && server!.stats.replyToRefused === 1);
    await server.close();
    await raw?.close();
    server = await tcpServer({ replyHosts: ['*'] });
    await request(1, 'tcp://192.0.2.2:9');
    await until(() => server!.stats.handled === 1);
    expect(server.stats.replyToRefused).to.equal(0);
  });

  it('an acceptReplyTo of the application replaces the default policy', async () => {
    const seen: string[] = [];
    server = await tcpServer({ acceptReplyTo: (r) => (seen.push(r), r.startsWith('inproc://')) });
    await request(1, 'inproc://lbm-rpc-allowed');
    await request(2, 'tcp://127.0.0.1:9');
    await until(() => server!.stats.handled === 1 && server!.stats.replyToRefused === 1);
    expect(seen).to.deep.equal(['inproc://lbm-rpc-allowed', 'tcp://127.0.0.1:9']);
  });

  it('counts a duplicate call id apart from malformed messages and refusals', async () => {
    server = await tcpServer();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.handle('hold', async () => {
      await gate;
      return new LbmMeta();
    });
    caller = await RpcClient.connect(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: (server.server as unknown as { port: number }).port });
    const env = Object.assign(new RpcEnvelope(), { callId: 5, method: 'hold', replyTo: caller.replyTo });
    for (let i = 0; i < 2; i++) expect(await (raw as Client).sendRaw({ meta: encodeMeta(env), xfer: [], bulks: [] }, { timeoutMs: 5000 })).to.equal(0);
    await until(() => server!.stats.duplicates === 1);
    release();
    await until(() => server!.stats.handled === 1);
    expect([server.stats.malformed, server.stats.replyToRefused]).to.deep.equal([0, 0]);
  });

  it('answers ipc callers of a server bound over ipc', async () => {
    const path = join(tmpdir(), `lbm-zmq-policy-${process.pid}.sock`);
    server = await RpcServer.listen(Transport.kZeroMq, path, { protocol: 'ipc' });
    server.handle('ok', () => new LbmMeta());
    caller = await RpcClient.connect(Transport.kZeroMq, path, { protocol: 'ipc' });
    await caller.call('ok', new LbmMeta(), { timeoutMs: 10_000 });
    expect(server.stats.replyToRefused).to.equal(0);
  });
});
