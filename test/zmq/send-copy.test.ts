/**
 * The default send copies XFER bulks (the caller may reuse its buffer once `send` resolved) into
 * memory the native helper reuses once V8 has collected an earlier copy, which cannot happen
 * before zeromq.js let go of it. The test forces collections (through `--expose-gc` set at run
 * time, in this test only) so that reuse happens within its bounded run; the library never does.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { BULK_XFER, LbmMeta } from '@lightbeam/core';
import type { ZeroMqClient, ZeroMqServer } from '@lightbeam/zmq-bridge';
import { zmqSendCopyStats } from '@lightbeam/zmq-bridge';
import { clientFor, closeAll, makeServer } from './support/zmq-pair.js';

const ADDON = fileURLToPath(new URL('../../packages/zmq-bridge/native/build/send_copy.node', import.meta.url));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Collects until every copy zeromq.js let go of is back (their finalizers run from the event
 * loop), or 3 s have passed.
 */
async function collect(): Promise<void> {
  const until = performance.now() + 3000;
  do {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  } while (zmqSendCopyStats().lentBytes > 0 && performance.now() < until);
}

/** The bytes of message `i` of `size`: its index in the first and last 4 bytes, a pattern between. */
function fillMessage(buf: Uint8Array, i: number): void {
  for (let j = 0; j < buf.length; j += 4096) buf.fill((i * 7 + j) & 0xff, j, Math.min(buf.length, j + 4096));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, i, true);
  dv.setUint32(buf.length - 4, i, true);
}

describe('zeromq default send: copies in reused memory', function () {
  this.timeout(60000);
  let server: ZeroMqServer;
  let client: ZeroMqClient;

  beforeEach(async function () {
    if (!existsSync(ADDON)) this.skip(); // not built here: see packages/zmq-bridge/native/build/build.log
    server = await makeServer('tcp');
    client = await clientFor(server, 'tcp');
  });
  afterEach(async () => {
    await closeAll(client, server);
  });

  it('is built here and in use', () => {
    expect(zmqSendCopyStats().reusing).to.equal(true);
  });

  it('delivers 1000 messages as they were at send time although the caller rewrites its buffer at once, with copies reusing memory', async () => {
    const SIZE = 64 * 1024;
    const buf = new Uint8Array(SIZE);
    const expected = new Uint8Array(SIZE);
    const before = zmqSendCopyStats();
    const got = new LbmMeta();
    const into = new Uint8Array(SIZE);
    for (let batch = 0; batch < 10; batch++) {
      for (let k = 0; k < 100; k++) {
        const i = batch * 100 + k;
        fillMessage(buf, i);
        const m = new LbmMeta();
        m.send.push(client.expose(buf, SIZE, BULK_XFER));
        expect(await client.send(m, { timeoutMs: 10000 })).to.equal(0);
        buf.fill(0xee); // reused at once, as the contract allows
      }
      for (let k = 0; k < 100; k++) {
        const i = batch * 100 + k;
        expect(await server.waitMetadata(got, { timeoutMs: 10000 })).to.equal(0);
        got.recv.push(server.expose(into, SIZE, BULK_XFER));
        expect(await server.recvBulks(got)).to.equal(0);
        fillMessage(expected, i);
        if (Buffer.compare(into, expected) !== 0) expect.fail(`message ${i} arrived with other bytes (first byte ${into[0]}, index ${new DataView(into.buffer).getUint32(0, true)})`);
      }
      // zeromq.js has let go of this batch (the server has it all): once V8 collects the copies,
      // the next batch copies into their memory.
      await collect();
    }
    const after = zmqSendCopyStats();
    expect(after.reused - before.reused, 'copies into reused memory').to.be.greaterThan(500);
  });

  it('returns memory to the free list only after V8 collected the copy', async () => {
    const buf = new Uint8Array(256 * 1024).fill(1);
    await collect();
    const before = zmqSendCopyStats();
    expect(before.lentBytes, 'nothing lent before').to.equal(0);
    const m = new LbmMeta();
    m.send.push(client.expose(buf, buf.length, BULK_XFER));
    expect(await client.send(m, { timeoutMs: 10000 })).to.equal(0);
    const sent = zmqSendCopyStats();
    expect(sent.lentBytes - before.lentBytes, 'the copy is lent until collected').to.equal(256 * 1024);
    const got = new LbmMeta();
    expect(await server.waitMetadata(got, { timeoutMs: 10000 })).to.equal(0);
    got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
    expect(await server.recvBulks(got)).to.equal(0);
    server.release(got);
    await collect();
    expect(zmqSendCopyStats().lentBytes, 'given back once collected').to.equal(0);
  });
});

/** The native helper itself (the module the library loads: same file, same instance). */
interface Helper {
  copy(v: Uint8Array): Buffer | undefined;
  stats(): { reused: number; fresh: number; idleBytes: number; lentBytes: number; idleCap: number };
  setIdleCap(bytes: number): void;
}

describe('zeromq send-copy helper: where its chunks come from', function () {
  this.timeout(30000);
  let helper: Helper;
  let cap: number;

  beforeEach(async function () {
    if (!existsSync(ADDON)) this.skip();
    helper = createRequire(import.meta.url)(ADDON) as Helper;
    await collect();
    cap = helper.stats().idleCap;
    // Start from empty free lists, so that what follows is counted from nothing.
    helper.setIdleCap(0);
    helper.setIdleCap(cap);
  });
  afterEach(async () => {
    if (helper === undefined) return;
    await collect();
    helper.setIdleCap(0);
    helper.setIdleCap(cap);
  });

  it('maps a 1 MiB chunk as half of a 2 MiB region and keeps the other half on the free list, so the next copy maps nothing', () => {
    const src = new Uint8Array(1 << 20);
    fillMessage(src, 1);
    const before = helper.stats();
    const a = helper.copy(src) as Buffer;
    const mid = helper.stats();
    expect(mid.fresh - before.fresh, 'one new mapping').to.equal(1);
    expect(mid.idleBytes, 'the spare half waits on the free list').to.equal(1 << 20);
    fillMessage(src, 2);
    const b = helper.copy(src) as Buffer;
    const after = helper.stats();
    expect(after.reused - mid.reused, 'the second copy went into the spare half').to.equal(1);
    expect(after.fresh - mid.fresh).to.equal(0);
    expect(after.idleBytes).to.equal(0);
    const want = new Uint8Array(1 << 20);
    fillMessage(want, 1);
    expect(Buffer.compare(a, want), 'first copy intact').to.equal(0);
    fillMessage(want, 2);
    expect(Buffer.compare(b, want), 'second copy intact').to.equal(0);
  });

  it('makes room on a full free list by freeing chunks of a size copies moved on from', async () => {
    helper.setIdleCap(2 << 20);
    const big = new Uint8Array(1 << 20).fill(3);
    let a: Buffer | undefined = helper.copy(big);
    let b: Buffer | undefined = helper.copy(big);
    expect(a?.[0]).to.equal(3);
    expect(b?.[0]).to.equal(3);
    a = b = undefined;
    await collect();
    expect(helper.stats().idleBytes, 'both 1 MiB chunks back: the list is full').to.equal(2 << 20);
    let small: Buffer | undefined = helper.copy(new Uint8Array(64 * 1024).fill(4));
    expect(small?.[0]).to.equal(4);
    small = undefined;
    await collect();
    // Without eviction the 64 KiB chunk would have been freed and the list kept both 1 MiB ones.
    expect(helper.stats().idleBytes, 'one 1 MiB chunk made room for the 64 KiB one').to.equal((1 << 20) + 64 * 1024);
    const before = helper.stats();
    helper.copy(new Uint8Array(64 * 1024));
    expect(helper.stats().reused - before.reused, 'the next 64 KiB copy reuses it').to.equal(1);
  });
});

describe('zeromq default send: a loop of sends that never waits', function () {
  this.timeout(60000);
  let server: ZeroMqServer;
  let client: ZeroMqClient;

  beforeEach(async () => {
    server = await makeServer('tcp');
    client = await clientFor(server, 'tcp');
  });
  afterEach(async () => {
    await closeAll(client, server);
  });

  it('lets the event loop turn every 16 MiB of copies, so zeromq.js and the collector can give memory back', async () => {
    // zeromq.js resolves these sends at once (room in the queue): without the library's turns
    // the await loop below runs on microtasks alone and an immediate never gets to run.
    let turns = 0;
    const tick = (): void => {
      turns++;
      if (turns < 1000) setImmediate(tick);
    };
    setImmediate(tick);
    const buf = new Uint8Array(1 << 20).fill(9);
    for (let i = 0; i < 64; i++) {
      const m = new LbmMeta();
      m.send.push(client.expose(buf, buf.length, BULK_XFER));
      expect(await client.send(m, { timeoutMs: 10000 })).to.equal(0);
    }
    const during = turns;
    expect(during, 'turns of the event loop during 64 MiB of sends').to.be.at.least(3);
    const got = new LbmMeta();
    for (let i = 0; i < 64; i++) {
      expect(await server.waitMetadata(got, { timeoutMs: 10000 })).to.equal(0);
      got.recv.push({ data: null, size: got.send[0].size, flags: BULK_XFER });
      expect(await server.recvBulks(got)).to.equal(0);
      expect(got.recv[0].data!.ptr[12345]).to.equal(9);
    }
    server.release(got);
  });
});

describe('zeromq default send in a worker thread', function () {
  this.timeout(30000);

  it('copies into fresh memory: a worker hands its Buffers back when it exits, maybe while libzmq still sends them', async () => {
    const { Worker } = await import('node:worker_threads');
    const code = `import('@lightbeam/zmq-bridge').then((z) => require('node:worker_threads').parentPort.postMessage(z.zmqSendCopyStats()))`;
    const w = new Worker(code, { eval: true, execArgv: [] });
    try {
      const [stats] = (await once(w, 'message')) as [{ reusing: boolean }];
      expect(stats.reusing).to.equal(false);
    } finally {
      await w.terminate();
    }
  });
});
