/**
 * The ZeroMQ examples, each run as a real child process (`node --import tsx examples/x.ts`) on a
 * random port, with assertions on what it prints and on its exit code.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';
import type { Child } from '../zmq/support/child.js';
import { startNode } from '../zmq/support/child.js';

const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const randomPort = (): number => 20000 + Math.floor(Math.random() * 40000);

function runExample(name: string, env: Record<string, string>): Child {
  return startNode(['--import', 'tsx', example(name)], env);
}

/**
 * Runs a group of example processes on random ports; when one of them lost its port to another
 * process on this shared machine (EADDRINUSE), tries again with fresh ports (at most 3 times).
 */
async function runOnFreshPorts(start: () => Child[]): Promise<{ children: Child[]; codes: Array<number | string> }> {
  for (let attempt = 1; ; attempt++) {
    const children = start();
    const codes = await Promise.all(children.map((c) => c.exited(60_000)));
    const clash = children.some((c) => c.stderr().includes('EADDRINUSE'));
    if (!clash || attempt === 3) return { children, codes };
  }
}

describe('ZeroMQ examples (child processes)', function () {
  this.timeout(90_000);

  it('basic.ts prints the round trip and exits 0', async () => {
    const { children: [child], codes } = await runOnFreshPorts(() => [runExample('basic.ts', { LBM_PORT: String(randomPort()) })]);
    expect(codes[0], child.stderr()).to.equal(0);
    expect(child.stdout()).to.include('server  <- "Hello, Lightbeam!"').and.include('OK: two-phase');
  });

  it('basic.ts exits non-zero and says why when its port is taken', async () => {
    const blocker = await ZeroMqServer.create('127.0.0.1', 'tcp', 0);
    try {
      const child = runExample('basic.ts', { LBM_PORT: String(blocker.port) });
      expect(await child.exited(60_000)).to.equal(1);
      expect(child.stderr()).to.match(/FAILED: cannot bind tcp:\/\/127\.0\.0\.1:\d+: .*address already in use/i);
    } finally {
      await blocker.close();
    }
  });

  it('custom-metadata.ts prints the custom fields and both chunks', async () => {
    const { children: [child], codes } = await runOnFreshPorts(() => [runExample('custom-metadata.ts', { LBM_PORT: String(randomPort()) })]);
    expect(codes[0], child.stderr()).to.equal(0);
    expect(child.stdout().trim().split('\n')).to.deep.equal([
      'Request ID: 42',
      'Operation: write',
      'Client: client_01',
      'Number of bulks: 2',
      'Chunk 0: First chunk',
      'Chunk 1: Second chunk',
    ]);
  });

  it('multiple-bulks.ts receives four XFER bulks, truncates the last, and leaves EXPOSE data behind', async () => {
    const { children: [child], codes } = await runOnFreshPorts(() => [runExample('multiple-bulks.ts', { LBM_PORT: String(randomPort()) })]);
    expect(codes[0], child.stderr()).to.equal(0);
    const out = child.stdout();
    expect(out).to.include('bulk 1: size 17, flags 2 -> "Chunk 2 is longer"');
    expect(out).to.include('bulk 3: size 13, flags 2 -> "Final chunk "');
    expect(out).to.include('bulk 4: size 19, flags 1 -> (EXPOSE');
  });

  it('multi-threaded-server.ts receives every message on the server thread', async () => {
    const { children: [child], codes } = await runOnFreshPorts(() => [runExample('multi-threaded-server.ts', { LBM_PORT: String(randomPort()) })]);
    expect(codes[0], child.stderr()).to.equal(0);
    for (let i = 0; i < 5; i++) expect(child.stdout()).to.include(`server thread received: message ${i} from the main thread`);
    expect(child.stdout()).to.include('OK: 5 messages');
  });

  it('distributed.ts over 4 ranks from Open MPI variables: rank 0 reaches every other rank', async () => {
    const { children: ranks, codes } = await runOnFreshPorts(() => {
      const base = String(randomPort() - 10);
      return [0, 1, 2, 3].map((r) => runExample('distributed.ts', { OMPI_COMM_WORLD_RANK: String(r), OMPI_COMM_WORLD_SIZE: '4', LBM_BASE_PORT: base }));
    });
    expect(codes, ranks.map((c) => c.stderr()).join('\n')).to.deep.equal([0, 0, 0, 0]);
    expect(ranks[0].stdout()).to.include('Rank 0 of 4 (Open MPI)');
    for (let r = 1; r < 4; r++) expect(ranks[r].stdout().trim()).to.equal(`Rank ${r} received: Message to rank ${r}`);
  });

  it('distributed.ts reads Slurm variables as well', async () => {
    const { children: ranks, codes } = await runOnFreshPorts(() => {
      const base = String(randomPort() - 10);
      return [0, 1].map((r) => runExample('distributed.ts', { SLURM_PROCID: String(r), SLURM_NTASKS: '2', LBM_BASE_PORT: base }));
    });
    expect(codes, ranks.map((c) => c.stderr()).join('\n')).to.deep.equal([0, 0]);
    expect(ranks[1].stdout().trim()).to.equal('Rank 1 received: Message to rank 1');
  });
});
