/**
 * The shared-memory, send/recv-vector and buffer-strategy examples, each run as a real child
 * process (`node --import tsx examples/x.ts`) with assertions on what it prints and its exit code.
 * They bind an ephemeral port themselves, so no port is chosen here except a deliberately taken one.
 */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ZeroMqServer } from '@lightbeam/zmq-bridge';
import type { Child } from '../zmq/support/child.js';
import { startNode } from '../zmq/support/child.js';

const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

/** Runs an example to its end (60 s bound) and returns its exit code and output lines. */
async function runExample(name: string, args: string[] = []): Promise<{ code: number | string; lines: string[]; child: Child }> {
  const child = startNode(['--import', 'tsx', example(name), ...args]);
  const code = await child.exited(60_000);
  return { code, lines: child.stdout().trim().split('\n'), child };
}

describe('more examples (child processes)', function () {
  this.timeout(90_000);

  it('shared-memory-pointers.ts: same block by Pointer and FullPtr over ZeroMQ, zero copy over kShm, freed', async () => {
    const { code, lines, child } = await runExample('shared-memory-pointers.ts');
    expect(code, child.stderr()).to.equal(0);
    const at = /at (\{major: \d+, minor: 0, off: \d+\})/.exec(lines[0])?.[1];
    expect(at, lines[0]).to.be.a('string');
    expect(lines).to.deep.equal([
      `[zmq] allocated 1024 bytes at ${at}; blocks in use: 1`,
      `[zmq] exposed by Pointer and by FullPtr: both at ${at}`,
      '[zmq] server received bulk 0: 1024 bytes copied over tcp, starting "Shared memory data"',
      '[zmq] server received bulk 1: 1024 bytes copied over tcp, starting "Shared memory data"',
      '[zmq] freed; blocks in use: 0',
      // The freed block is reused, so part 2 shares the same offset.
      `[shm] allocated 1024 bytes at ${at}; blocks in use: 3 (2 held by the channel)`,
      '[shm] sent the block as BULK_EXPOSE: only its pointer travels',
      `[shm] worker read "Shared memory data" in place at ${at} (a view over the region: true)`,
      '[shm] main thread reads what the worker wrote into the block: "written by the worker"',
      "[shm] freed; blocks in use: 2 (the channel's 2; application blocks: 0)",
      'OK: the slab block went over ZeroMQ as a copy and over kShm by pointer, and was freed',
    ]);
  });

  it('send-recv-vectors.ts: recv mirrors send, only XFER bulks travel, a short recv gives -1', async () => {
    const { code, lines, child } = await runExample('send-recv-vectors.ts');
    expect(code, child.stderr()).to.equal(0);
    expect(lines).to.deep.equal([
      'client sent 4 bulks: 3 BULK_XFER, 1 BULK_EXPOSE',
      'send[0]: size 12, BULK_XFER',
      'send[1]: size 36, BULK_XFER',
      'send[2]: size 18, BULK_XFER',
      'send[3]: size 35, BULK_EXPOSE',
      'recv[0]: "data1: small"',
      'recv[1]: "data2: a somewhat longer second bulk"',
      'recv[2]: "data3: and a third"',
      `recv[3]: "${'.'.repeat(35)}" (EXPOSE: described, not transferred)`,
      'recv with 1 of 3 XFER entries: recvBulks returned -1',
      'following message intact: "next message"',
      'OK: recv mirrored send; only XFER bulks were transferred',
    ]);
  });

  it('buffer-strategy.ts: exact sizes, one reused buffer, truncation and a kept tail', async () => {
    const { code, lines, child } = await runExample('buffer-strategy.ts');
    expect(code, child.stderr()).to.equal(0);
    expect(lines).to.deep.equal([
      'exact: allocated 5 + 300 + 4000 bytes from meta.send sizes, all bytes match',
      'reuse: 5 messages of 100, 1000, 3000, 50, 2500 bytes received with 2 allocations (final buffer 4096 bytes)',
      'too small (10 of 16 bytes): "0123456789"',
      'larger (24 bytes, filled with \'.\'): "0123456789ABCDEF........"',
      'OK: exact, reused and wrong-sized buffers behaved as documented',
    ]);
  });

  for (const name of ['shared-memory-pointers.ts', 'send-recv-vectors.ts', 'buffer-strategy.ts']) {
    it(`${name} exits 1 and says why when its --port is taken`, async () => {
      const blocker = await ZeroMqServer.create('127.0.0.1', 'tcp', 0);
      try {
        const { code, child } = await runExample(name, ['--port', String(blocker.port)]);
        expect(code, child.stdout()).to.equal(1);
        expect(child.stderr()).to.match(/FAILED: cannot bind tcp:\/\/127\.0\.0\.1:\d+: .*address already in use/i);
        expect(child.stdout()).not.to.include('OK:');
      } finally {
        await blocker.close();
      }
    });
  }
});
