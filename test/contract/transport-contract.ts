/**
 * The transport contract (docs/porting.md) as one reusable mocha suite. Every transport runs
 * it: the loopback test double, ZeroMQ over tcp/ipc/inproc, shared memory. It knows nothing of
 * any transport: endpoints come from `makePair`, messages may take real time to arrive (every
 * receive waits with a timeout), and transport differences are options.
 *
 * @example
 * ```ts
 * describeTransportContract('zeromq tcp', async () => {
 *   const server = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', port);
 *   const client = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', port);
 *   return { client, server, cleanup: async () => { await client.close(); await server.close(); } };
 * });
 * ```
 */
import type { ContractContext, TransportContractOptions, TransportPair } from './contract-context.js';
import { messageRules } from './contract-messages.js';
import { receiveRules } from './contract-receive.js';
import { waitingRules } from './contract-waiting.js';

export type { ContractContext, TransportContractOptions, TransportPair } from './contract-context.js';
export { RequestMeta } from './contract-context.js';

/**
 * Registers the contract suite for one transport.
 *
 * @param label - names the transport in the test titles, e.g. `zeromq tcp`
 * @param makePair - makes a fresh connected client and bound server for each test
 * @param options - what differs between transports (memory sharing, raw injection, timeouts)
 */
export function describeTransportContract(label: string, makePair: () => Promise<TransportPair>, options: TransportContractOptions = {}): void {
  describe(`transport contract: ${label}`, function () {
    const timeoutMs = options.timeoutMs ?? 5000;
    // Each test waits at most a few timeouts; mocha's own limit only catches a real hang.
    this.timeout(Math.max(30_000, 6 * timeoutMs));
    let current: TransportPair | undefined;
    const ctx: ContractContext = {
      opts: { ...options, sharesMemory: options.sharesMemory ?? false, copiesOnSend: options.copiesOnSend ?? true, timeoutMs },
      pair: () => {
        if (current === undefined) throw new Error('no transport pair: makePair failed or the test runs outside the suite');
        return current;
      },
    };

    beforeEach(async () => {
      current = await makePair();
    });

    afterEach(async () => {
      const pair = current;
      current = undefined;
      if (pair !== undefined) await pair.cleanup();
    });

    messageRules(ctx);
    receiveRules(ctx);
    waitingRules(ctx);
  });
}
