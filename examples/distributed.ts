/**
 * The guide's "Distributed MPI Communication", one to one, without MPI itself: the rank and world
 * size come from the launcher's environment (Open MPI, PMI, PMIx, Slurm), each rank binds a server
 * on `basePort + rank`, and rank 0 sends "Message to rank i" to every other rank, which prints it.
 *
 * Run: `mpirun -n 4 npx tsx examples/distributed.ts [--base-port 9000] [--hosts h0,h1,...]`
 * (or LBM_BASE_PORT / LBM_HOSTS; rank r lives on hosts[r % hosts.length], default 127.0.0.1).
 */
import { BULK_XFER, LbmMeta, Transport, TransportFactory, strerror } from '@lightbeam/core';
import type { Client } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';
import { intArg, run, strArg } from './zmq-example-args.js';

/** Rank and size from the first launcher whose variables are set. */
function worldFromEnv(): { rank: number; size: number; source: string } {
  const env = process.env;
  const launchers: Array<[string, string | undefined, string | undefined]> = [
    ['Open MPI', env.OMPI_COMM_WORLD_RANK, env.OMPI_COMM_WORLD_SIZE],
    ['PMI', env.PMI_RANK, env.PMI_SIZE],
    ['PMIx', env.PMIX_RANK, env.PMIX_SIZE ?? env.OMPI_COMM_WORLD_SIZE],
    ['Slurm', env.SLURM_PROCID, env.SLURM_NTASKS],
  ];
  for (const [source, rank, size] of launchers) {
    if (rank === undefined) continue;
    const r = Number(rank);
    const s = Number(size ?? intArg('--size', 'LBM_WORLD_SIZE', 0));
    if (!Number.isInteger(r) || !Number.isInteger(s) || s < 1 || r < 0 || r >= s) throw new Error(`${source} gave rank ${rank} of size ${size}: not a valid world`);
    return { rank: r, size: s, source };
  }
  return { rank: 0, size: 1, source: 'no launcher (single process)' };
}

run(async () => {
  const { rank, size, source } = worldFromEnv();
  const basePort = intArg('--base-port', 'LBM_BASE_PORT', 9000);
  const hosts = strArg('--hosts', 'LBM_HOSTS', '127.0.0.1').split(',').filter((h) => h !== '');
  const hostOf = (r: number): string => hosts[r % hosts.length];

  // Each rank creates a server on a unique port.
  const server = await TransportFactory.getServer(hostOf(rank), Transport.kZeroMq, 'tcp', basePort + rank);
  try {
    if (rank === 0) {
      console.log(`Rank 0 of ${size} (${source}): sending to ${size - 1} rank(s)`);
      const clients: Client[] = [];
      // A long linger: peers may still be starting; their messages wait in our queue meanwhile.
      for (let i = 1; i < size; i++) clients.push(await TransportFactory.getClient(hostOf(i), Transport.kZeroMq, 'tcp', basePort + i, { linger: 10_000 }));
      for (let i = 1; i < size; i++) {
        const msg = new TextEncoder().encode(`Message to rank ${i}`);
        const meta = new LbmMeta();
        meta.send.push(clients[i - 1].expose(msg, msg.length, BULK_XFER));
        const rc = await clients[i - 1].send(meta, { timeoutMs: 10_000 });
        if (rc !== 0) throw new Error(`Send failed to rank ${i}: ${strerror(rc)}`);
      }
      await Promise.all(clients.map((c) => c.close()));
    } else {
      // Other ranks receive from rank 0.
      const meta = new LbmMeta();
      const rc = await server.waitMetadata(meta, { timeoutMs: 30_000 });
      if (rc !== 0) throw new Error(`Rank ${rank}: waitMetadata failed: ${strerror(rc)}`);
      const buffer = new Uint8Array(meta.send[0].size);
      meta.recv.push(server.expose(buffer, buffer.length, meta.send[0].flags));
      const brc = await server.recvBulks(meta);
      if (brc !== 0) throw new Error(`Rank ${rank}: recvBulks failed: ${strerror(brc)}`);
      console.log(`Rank ${rank} received: ${new TextDecoder().decode(buffer)}`);
    }
  } finally {
    await server.close();
  }
});
