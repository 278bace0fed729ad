/**
 * The RPC examples, each run as a real child process (`node --import tsx examples/x.ts`) with
 * assertions on what it prints and its exit code.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { startNode } from '../zmq/support/child.js';

const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

async function runExample(name: string): Promise<{ code: number | string; lines: string[]; stderr: string }> {
  const child = startNode(['--import', 'tsx', example(name)]);
  const code = await child.exited(60_000);
  return { code, lines: child.stdout().trim().split('\n'), stderr: child.stderr() };
}

describe('RPC examples (child processes)', function () {
  this.timeout(90_000);

  it('rpc.ts: replies, a handler failure and a timeout, over ZeroMQ and shared memory', async () => {
    const { code, lines, stderr } = await runExample('rpc.ts');
    expect(code, stderr).to.equal(0);
    const expected: string[] = [];
    for (const t of ['zmq', 'shm']) {
      expected.push(`[${t}] checksum of 13 bytes: 1170`, `[${t}] checksum failed with ERR_LBM_RPC_HANDLER`, `[${t}] sleep failed with ERR_LBM_RPC_TIMEOUT`);
    }
    expect(lines).to.deep.equal([...expected, 'OK: replies matched their calls over ZeroMQ and shared memory']);
  });

  it('rpc-pool.ts: two workers change an image in shared memory in place', async () => {
    const { code, lines, stderr } = await runExample('rpc-pool.ts');
    expect(code, stderr).to.equal(0);
    expect(lines).to.deep.equal(['8 tiles brightened in place by 2 worker(s): every pixel is 150', 'OK: EXPOSE arguments reached the pool workers without a copy']);
  });
});
