/**
 * The shared transport contract over `Transport.kShm` (client and server in this thread; the
 * cross-thread cases are in transport-threads.test.ts). EXPOSE bulks are placed in the slab, so
 * they must arrive as live views of the very same bytes.
 */
import { BULK_XFER, Transport, TransportFactory } from '@lightbeam/core';
import type { OutgoingMessage } from '@lightbeam/core';
import { MemoryManager, ShmClient } from '@lightbeam/shm';
import type { TransportPair } from '../contract/transport-contract.js';
import { describeTransportContract } from '../contract/transport-contract.js';

let manager: MemoryManager | null = null;
let serial = 0;

function memory(): MemoryManager {
  manager ??= MemoryManager.current() ?? MemoryManager.create({ regionBytes: 32 << 20 });
  return manager;
}

async function makePair(serverOptions: Record<string, unknown>): Promise<TransportPair> {
  memory();
  const name = `contract-${process.pid}-${serial++}`;
  const server = await TransportFactory.getServer(name, Transport.kShm, undefined, undefined, serverOptions);
  const client = await TransportFactory.getClient(name, Transport.kShm);
  return {
    client,
    server,
    address: name,
    cleanup: async () => {
      await Promise.all([client.close(), server.close()]);
    },
  };
}

/** Writes frames into the ring as a non-conforming peer: one staged entry per data frame. */
async function sendRaw(pair: TransportPair, frames: Uint8Array[]): Promise<void> {
  const msg: OutgoingMessage = {
    meta: frames[0],
    xfer: frames.slice(1),
    bulks: frames.slice(1).map((f) => ({ data: null, size: f.byteLength, flags: BULK_XFER })),
  };
  const rc = await (pair.client as ShmClient).sendRaw(msg, { timeoutMs: 1000 });
  if (rc !== 0) throw new Error(`raw send failed with ${rc}`);
}

function placeExposed(_pair: TransportPair, bytes: Uint8Array): Uint8Array {
  const m = memory();
  const view = m.toFullPtr(m.allocateOrThrow(Math.max(1, bytes.byteLength)), bytes.byteLength).ptr;
  view.set(bytes);
  return view;
}

const options = { sharesMemory: true, placeExposed, sendRaw, copiesOnSend: true };
describe('shm transport contract', () => {
  // This file's memory is detached when its suites end, so the next file's manager is the thread's.
  after(() => {
    manager?.detach();
    manager = null;
  });
  describeTransportContract('shm (inline slots, spinning)', () => makePair({ capacity: 64 }), options);
  describeTransportContract('shm (block envelopes, parking)', () => makePair({ capacity: 32, slotBytes: 64, spinUs: 0 }), options);
});
