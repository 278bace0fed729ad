/**
 * Issue 22 item 7: option typos passed silently (`{ lnger: 500 }` was accepted and ignored) and
 * `getServer` answered the base `Server`, so `port` / `getEndpoint()` needed a cast. Now each
 * transport registers its option keys and its types: an unknown key is refused at once with the
 * key named, and the factory answers the transport's own classes.
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Client, Server, TransportProvider } from '@lightbeam/core';
import { LightbeamError, Transport, TransportFactory } from '@lightbeam/core';
import '@lightbeam/fabric';
import type { FabricServer } from '@lightbeam/fabric';
import { ShmClient, ShmServer } from '@lightbeam/shm';
import { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';

async function rejection(p: Promise<unknown>): Promise<LightbeamError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(LightbeamError);
    return err as LightbeamError;
  }
  throw new Error('expected a rejection');
}

/**
 * Never called: it exists for the compiler (the typecheck of test/ fails if a typo compiles, or
 * if a typed answer needs a cast again).
 */
export async function typedAtCompileTime(): Promise<void> {
  // @ts-expect-error a typo in a ZeroMQ client option is a compile error
  await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', 1, { lnger: 500 });
  // @ts-expect-error a typo in a shm server option is a compile error
  await TransportFactory.getServer('ch', Transport.kShm, undefined, undefined, { capacty: 16 });
  // @ts-expect-error a fabric client option on a fabric server is a compile error
  await TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'tcp', 0, { lingerMs: 5 });
  const zs: ZeroMqServer = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0);
  const port: number | null = zs.port;
  const endpoint: string | null = zs.getEndpoint();
  const zc: ZeroMqClient = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port ?? 1, { linger: 0, immediate: true });
  const ss: ShmServer = await TransportFactory.getServer('ch', Transport.kShm, undefined, undefined, { capacity: 16 });
  const sc: ShmClient = await TransportFactory.getClient('ch', Transport.kShm, undefined, undefined, { spinUs: 0 });
  const fs: FabricServer = await TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'tcp', 0, { metaSlots: 8 });
  void [endpoint, zc, ss, sc, fs];
}

describe('TransportFactory options are checked per transport (issue 22 item 7)', () => {
  const closers: Array<Client | Server> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c.close();
  });

  it('refuses a ZeroMQ client option typo, naming the key and the option it resembles, before opening a socket', async () => {
    const opts = { lnger: 500, immediat: true } as Record<string, unknown>;
    const err = await rejection(TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', 1, opts));
    expect(err.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(err.message).to.include('"lnger"').and.include('did you mean "linger"').and.include('zeromq');
  });

  it('refuses a shm server option typo (capacty), naming it, and creates no channel', async () => {
    const name = `opts-${process.pid}-${Date.now()}`;
    const err = await rejection(TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { capacty: 16 } as Record<string, unknown>));
    expect(err.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(err.message).to.include('unknown server option "capacty"').and.include('did you mean "capacity"');
    // The channel name is still free: nothing was created before the refusal.
    const server = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, { capacity: 16 });
    closers.push(server);
    expect(server).to.be.instanceOf(ShmServer);
  });

  it('refuses a client-only key on a server and a server-only key on a client', async () => {
    const onServer = await rejection(TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0, { immediate: true } as Record<string, unknown>));
    expect(onServer.message).to.include('unknown server option "immediate"');
    const onClient = await rejection(TransportFactory.getClient('ch', Transport.kShm, undefined, undefined, { capacity: 16 } as Record<string, unknown>));
    expect(onClient.message).to.include('unknown client option "capacity"');
    const fabric = await rejection(TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'tcp', 0, { lingerMs: 1 } as Record<string, unknown>));
    expect(fabric.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(fabric.message).to.include('"lingerMs"').and.include('fabric');
  });

  it('refuses to register a provider that does not list its option keys', () => {
    const bare = { createClient: async () => null, createServer: async () => null } as unknown as TransportProvider;
    let err: unknown = null;
    try {
      TransportFactory.register('lightbeam-test-bare' as Transport, bare);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LightbeamError);
    expect((err as LightbeamError).message).to.include('clientOptionKeys');
    expect(TransportFactory.isLoaded('lightbeam-test-bare' as Transport)).to.equal(false);
  });

  it('refuses options that are not an object', async () => {
    for (const bad of [42, 'linger', null, [1]]) {
      const err = await rejection(TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', 1, bad as unknown as Record<string, unknown>));
      expect(err.code, String(bad)).to.equal('ERR_LBM_INVALID_ARGUMENT');
      expect(err.message).to.include('client options must be an object');
    }
  });

  it('accepts every documented key and answers the transport classes, typed (no cast for port / getEndpoint)', async () => {
    const before = readdirSync(tmpdir()).length;
    const server = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0, { linger: 0, highWaterMark: 10, acceptBatches: true, limits: {} });
    closers.push(server);
    expect(server).to.be.instanceOf(ZeroMqServer);
    expect(server.getEndpoint()).to.equal(`tcp://127.0.0.1:${server.port}`);
    const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', server.port ?? undefined, { linger: 0, immediate: true, copyXfer: true });
    closers.push(client);
    expect(client).to.be.instanceOf(ZeroMqClient);
    const shm = await TransportFactory.getClient('nobody-here', Transport.kShm, undefined, undefined, { spinUs: 0, peerTimeoutMs: 100 });
    closers.push(shm);
    expect(shm).to.be.instanceOf(ShmClient);
    expect(readdirSync(tmpdir()).length).to.equal(before);
  });
});
