// The kFabric bench's 64 B round trip, shared by bench/fabric.bench.ts (through round-trip.d.mts)
// and bench/fabric/profile-rtt.mjs, which runs under plain node: one send to the echo peer, its
// echo awaited on our server and read into one receive entry.
import { BULK_XFER, LbmMeta } from '@lightbeam/core';

export function roundTrip(client, server) {
  const out = new LbmMeta();
  out.send.push(client.expose(new Uint8Array(64).fill(1), 64, BULK_XFER));
  const m = new LbmMeta();
  // One receive entry for every round trip: the net peer makes no object per message either.
  const into = server.expose(new Uint8Array(64), 64, BULK_XFER);
  return async () => {
    const t0 = performance.now();
    await client.send(out, { timeoutMs: 10_000 });
    await server.waitMetadata(m, { timeoutMs: 10_000 });
    m.recv.push(into);
    await server.recvBulks(m);
    return (performance.now() - t0) * 1000;
  };
}
