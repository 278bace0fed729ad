import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client, EndpointSpec, Server, TransportProvider } from '@lightbeam/core';
import { DEFAULT_PORT, DEFAULT_PROTOCOL, LightbeamError, TRANSPORT_PACKAGES, Transport, TransportFactory } from '@lightbeam/core';
import { createLoopbackPair } from '../support/loopback-transport.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A provider that records the specs it is given and hands out loopback endpoints. Registered
 * under an id of its own, so the real transports other test files load are never replaced.
 */
const TEST_ID = 'lightbeam-test-recorder' as Transport;
const seen: Array<[string, EndpointSpec]> = [];
const recorder: TransportProvider = {
  async createClient(spec): Promise<Client> {
    seen.push(['client', spec]);
    return createLoopbackPair().client;
  },
  async createServer(spec): Promise<Server> {
    seen.push(['server', spec]);
    return createLoopbackPair({ address: `${spec.protocol}://${spec.addr}:${spec.port}` }).server;
  },
  clientOptionKeys: [],
  serverOptionKeys: ['hwm'],
};

async function rejection(p: Promise<unknown>): Promise<LightbeamError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(LightbeamError);
    return err as LightbeamError;
  }
  throw new Error('expected a rejection');
}

describe('TransportFactory', () => {
  before(() => TransportFactory.register(TEST_ID, recorder));
  beforeEach(() => {
    seen.length = 0;
  });

  it('rejects a transport whose package is not loaded, naming the package to import (fresh process)', async function () {
    this.timeout(30_000);
    // A child process imports only @lightbeam/core, so no transport package has registered.
    const script = `
      import { Transport, TransportFactory } from '@lightbeam/core';
      const out = [];
      for (const t of [Transport.kZeroMq, Transport.kShm]) {
        for (const get of ['getClient', 'getServer']) {
          try { await TransportFactory[get]('127.0.0.1', t); out.push({ t, get, ok: true }); }
          catch (e) { out.push({ t, get, code: e.code, message: e.message, loaded: TransportFactory.isLoaded(t) }); }
        }
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, timeout: 20_000 });
    const results = JSON.parse(stdout) as Array<{ t: Transport; get: string; code?: string; message?: string; loaded?: boolean }>;
    expect(results).to.have.length(4);
    for (const r of results) {
      expect(r.code, `${r.get}(${r.t})`).to.equal('ERR_LBM_TRANSPORT_NOT_LOADED');
      expect(r.message).to.include(TRANSPORT_PACKAGES[r.t]);
      expect(r.loaded).to.equal(false);
    }
  });

  it('rejects an unknown transport id with ERR_LBM_TRANSPORT_NOT_LOADED naming it', async () => {
    const err = await rejection(TransportFactory.getServer('127.0.0.1', 'carrier-pigeon' as Transport));
    expect(err.code).to.equal('ERR_LBM_TRANSPORT_NOT_LOADED');
    expect(err.message).to.include('carrier-pigeon');
  });

  it('names each transport package', () => {
    expect(TRANSPORT_PACKAGES).to.deep.equal({ zeromq: '@lightbeam/zmq-bridge', shm: '@lightbeam/shm', fabric: '@lightbeam/fabric' });
    expect(Transport).to.deep.equal({ kZeroMq: 'zeromq', kShm: 'shm', kFabric: 'fabric' });
  });

  it('passes the tcp / 8192 defaults to the provider when protocol and port are omitted', async () => {
    expect([DEFAULT_PROTOCOL, DEFAULT_PORT]).to.deep.equal(['tcp', 8192]);
    const server = await TransportFactory.getServer('127.0.0.1', TEST_ID);
    const client = await TransportFactory.getClient('127.0.0.1', TEST_ID, '');
    expect(seen).to.deep.equal([
      ['server', { addr: '127.0.0.1', protocol: 'tcp', port: 8192, options: {} }],
      ['client', { addr: '127.0.0.1', protocol: 'tcp', port: 8192, options: {} }],
    ]);
    expect(server.getAddress()).to.equal('tcp://127.0.0.1:8192');
    await client.close();
    await server.close();
  });

  it('passes port 0 through to the provider (an ephemeral port), not the default 8192', async () => {
    const server = await TransportFactory.getServer('127.0.0.1', TEST_ID, 'tcp', 0);
    expect(seen).to.deep.equal([['server', { addr: '127.0.0.1', protocol: 'tcp', port: 0, options: {} }]]);
    await server.close();
  });

  it('passes an explicit protocol, port and options through unchanged', async () => {
    const server = await TransportFactory.getServer('lb', TEST_ID, 'ipc', 65535, { hwm: 5 } as Record<string, unknown>);
    expect(seen).to.deep.equal([['server', { addr: 'lb', protocol: 'ipc', port: 65535, options: { hwm: 5 } }]]);
    await server.close();
  });

  for (const port of [-1, 65536, 1.5, NaN, 2 ** 40]) {
    it(`rejects port ${port} with ERR_LBM_INVALID_ARGUMENT before reaching the provider`, async () => {
      const err = await rejection(TransportFactory.getClient('127.0.0.1', TEST_ID, 'tcp', port));
      expect(err.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
      expect(err.message).to.include('port');
      expect(seen).to.deep.equal([]);
    });
  }

  for (const addr of ['', undefined, 42, null]) {
    it(`rejects addr ${JSON.stringify(addr)} with ERR_LBM_INVALID_ARGUMENT before reaching the provider`, async () => {
      const err = await rejection(TransportFactory.getServer(addr as unknown as string, TEST_ID));
      expect(err.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
      expect(err.message).to.include('addr');
      expect(seen).to.deep.equal([]);
    });
  }
});
