/**
 * Pairs of kFabric endpoints on loopback for the tests, and the skip that every fabric suite
 * applies when the addon is not built on this machine.
 */
import type { Client, OutgoingMessage } from '@lightbeam/core';
import { BULK_XFER, Transport, TransportFactory } from '@lightbeam/core';
import type { FabricServer } from '@lightbeam/fabric';
import { fabricAvailable, fabricUnavailableReason } from '@lightbeam/fabric';
import type { TransportPair } from '../../contract/transport-contract.js';

/** The providers the tests run over, with the protocol that selects each. */
export const PROVIDERS = [
  { label: 'tcp;ofi_rxm', protocol: 'tcp' },
  { label: 'shm', protocol: 'shm' },
] as const;

/** One of {@link PROVIDERS}. */
export type ProviderCase = (typeof PROVIDERS)[number];

let serial = 0;

/**
 * Skips the calling suite (in its `before`) when the addon is missing, naming why.
 *
 * @param ctx - mocha's context of the `before` hook
 */
export function skipWithoutFabric(ctx: Mocha.Context): void {
  if (!fabricAvailable) ctx.skip();
}

/** The reason printed in the title of skipped suites. */
export const SKIP_NOTE = fabricAvailable ? '' : ` (skipped: ${fabricUnavailableReason})`;

/**
 * A bound server on loopback: an ephemeral TCP port, or a unique shm name.
 *
 * @param p - provider case
 * @param options - server options
 */
export async function makeServer(p: ProviderCase, options: Record<string, unknown> = {}): Promise<{ server: FabricServer; addr: string; port: number }> {
  if (p.protocol === 'tcp') {
    const server = (await TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'tcp', 0, options)) as FabricServer;
    return { server, addr: '127.0.0.1', port: server.port };
  }
  const addr = `test-${process.pid}-${serial++}`;
  const server = (await TransportFactory.getServer(addr, Transport.kFabric, 'shm', 0, options)) as FabricServer;
  return { server, addr, port: 0 };
}

/**
 * A connected client and bound server, plus a second raw client for hostile frames.
 *
 * @param p - provider case
 * @param clientOptions - options of the client under test
 */
export async function makePair(p: ProviderCase, clientOptions: Record<string, unknown> = {}): Promise<FabricPair> {
  const { server, addr, port } = await makeServer(p);
  const client = await TransportFactory.getClient(addr, Transport.kFabric, p.protocol, port, clientOptions);
  const raw = await TransportFactory.getClient(addr, Transport.kFabric, p.protocol, port);
  return {
    client,
    server,
    raw,
    address: addr,
    cleanup: async () => {
      await Promise.all([client.close(), raw.close(), server.close()]);
    },
  };
}

/** A pair from {@link makePair}. */
export type FabricPair = TransportPair & { raw: Client };

/**
 * For each provider, a suite titled `fabric <label>: <title>` that is skipped without the addon
 * and closes, after each test, every pair its tests opened with `open` (makePair with the
 * client's options).
 *
 * @param title - the suite's title after the provider
 * @param body - the tests, given the provider and `open`
 */
export function describeEachProvider(title: string, body: (p: ProviderCase, open: (clientOptions?: Record<string, unknown>) => Promise<FabricPair>) => void): void {
  for (const p of PROVIDERS) {
    describe(`fabric ${p.label}: ${title}${SKIP_NOTE}`, function () {
      this.timeout(60_000);
      const opened: FabricPair[] = [];
      before(function () {
        skipWithoutFabric(this);
      });
      afterEach(async () => {
        await Promise.all(opened.splice(0).map((pair) => pair.cleanup()));
      });
      body(p, async (clientOptions = {}) => {
        const pair = await makePair(p, clientOptions);
        opened.push(pair);
        return pair;
      });
    });
  }
}

/**
 * Sends frames as a non-conforming peer would: the metadata frame verbatim, one data frame per
 * remaining frame, nothing validated.
 *
 * @param pair - a pair from {@link makePair}
 * @param frames - metadata frame, then data frames
 */
export async function sendRaw(pair: TransportPair, frames: Uint8Array[]): Promise<void> {
  const msg: OutgoingMessage = {
    meta: frames[0],
    xfer: frames.slice(1),
    bulks: frames.slice(1).map((f) => ({ data: null, size: f.byteLength, flags: BULK_XFER })),
  };
  const rc = await (pair as TransportPair & { raw: Client }).raw.sendRaw(msg, { timeoutMs: 5000 });
  if (rc !== 0) throw new Error(`raw send failed with ${rc}`);
}
