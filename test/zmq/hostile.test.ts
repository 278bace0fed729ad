/**
 * Hostile input over a real socket: a raw zeromq.js PUSH sends 100k seeded random and mutated
 * multipart messages (plain frames and batches). Every one must yield -1 or a well-formed result,
 * nothing may throw, and a valid message sent after them must arrive intact.
 */
import { expect } from 'chai';
import { BULK_EXPOSE, BULK_XFER, LbmMeta, encodeMeta, isXfer } from '@lightbeam/core';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { BATCH_MARKER_BYTES, BATCH_MAGIC, BATCH_VERSION } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';
import { Prng, testSeed } from '../support/prng.js';
import { closeAll, makeServer } from './support/zmq-pair.js';

const MESSAGES = 100_000;
const SENTINEL = Buffer.from('SENTINEL-after-the-storm');

function marker(): Buffer {
  const m = Buffer.alloc(BATCH_MARKER_BYTES);
  m.writeUInt32LE(BATCH_MAGIC, 0);
  m[4] = BATCH_VERSION;
  return m;
}

/** A valid plain message: random bulks (sizes kept small), their XFER data frames. */
function validFrames(rng: Prng): Uint8Array[] {
  const meta = new LbmMeta();
  const data: Uint8Array[] = [];
  for (let i = rng.int(0, 4); i > 0; i--) {
    const size = rng.int(0, 64);
    const flags = rng.pick([BULK_XFER, BULK_EXPOSE, BULK_XFER | BULK_EXPOSE]);
    const bytes = rng.bytes(size);
    meta.send.push({ data: { ptr: bytes, shm: { allocId: { major: 0, minor: 0 }, off: 0 } } as never, size, flags });
    if (isXfer(flags)) data.push(bytes);
  }
  for (let i = rng.int(0, 2); i > 0; i--) meta.recv.push({ data: null, size: rng.int(0, 100), flags: BULK_XFER });
  return [encodeMeta(meta), ...data];
}

/** Batch body following the documented table, from plain messages. */
function batchBody(records: Uint8Array[][]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0].writeUInt32LE(records.length, 0);
  for (const [meta, ...data] of records) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(meta.byteLength, 0);
    h.writeUInt32LE(data.length, 4);
    parts.push(h, Buffer.from(meta));
    for (const d of data) {
      const l = Buffer.alloc(4);
      l.writeUInt32LE(d.byteLength, 0);
      parts.push(l, Buffer.from(d));
    }
  }
  return Buffer.concat(parts);
}

function mutate(rng: Prng, frame: Uint8Array): Uint8Array {
  const b = Buffer.from(frame);
  switch (rng.int(0, 5)) {
    case 0: // flip a few bytes
      for (let i = rng.int(1, 4); i > 0 && b.length > 0; i--) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
      return b;
    case 1: // truncate
      return b.subarray(0, rng.int(0, b.length));
    case 2: // extend with garbage
      return Buffer.concat([b, Buffer.from(rng.bytes(rng.int(1, 32)))]);
    case 3: // a count or size field set to a huge value
      if (b.length >= 8) b.writeBigUInt64LE(rng.pick([1n << 60n, 0xffffffffffffffffn, 1n << 53n, BigInt(rng.int(0, 1 << 30))]), rng.int(0, Math.floor((b.length - 8) / 4)) * 4);
      return b;
    case 4: // a u32 field set to a huge value
      if (b.length >= 4) b.writeUInt32LE(rng.pick([0xffffffff, 0x7fffffff, rng.int(0, 1 << 20)]), rng.int(0, Math.floor((b.length - 4) / 4)) * 4);
      return b;
    default:
      return Buffer.from(rng.bytes(rng.int(0, 48)));
  }
}

/** One hostile multipart message. */
function hostile(rng: Prng): Uint8Array[] {
  const kind = rng.int(0, 9);
  if (kind === 0) return [rng.bytes(rng.int(0, 64)), ...Array.from({ length: rng.int(0, 3) }, () => rng.bytes(rng.int(0, 16)))];
  if (kind <= 4) {
    const frames = validFrames(rng);
    frames[0] = mutate(rng, frames[0]);
    // Sometimes add or remove data frames as well.
    if (rng.bool(0.3)) frames.push(rng.bytes(rng.int(0, 8)));
    if (rng.bool(0.2) && frames.length > 1) frames.pop();
    return frames;
  }
  if (kind <= 7) {
    const records = Array.from({ length: rng.int(0, 4) }, () => validFrames(rng));
    const body = batchBody(records);
    const frames: Uint8Array[] = [marker(), rng.bool(0.8) ? mutate(rng, body) : body];
    if (rng.bool(0.1)) frames.push(rng.bytes(4));
    return frames;
  }
  return validFrames(rng); // valid ones in between keep the well-formed path busy too
}

describe('ZeroMQ hostile input', function () {
  this.timeout(120_000);
  let server: ZeroMqServer | undefined;
  let push: Push | undefined;
  afterEach(async () => {
    push?.close();
    push = undefined;
    await closeAll(server);
    server = undefined;
  });

  it(`survives ${MESSAGES} seeded random and mutated multipart messages, then receives a valid one intact`, async () => {
    const seed = testSeed(0x5eed_2024);
    const rng = new Prng(seed);
    server = await makeServer('tcp', { limits: { maxBulkSize: 1 << 20, maxStringBytes: 1 << 16 } });
    push = new Push({ linger: 0 });
    push.connect(server.endpoint as string);
    const started = performance.now();
    const budgetMs = 90_000;
    const results = { ok: 0, malformed: 0, bulksOk: 0, bulksMismatch: 0 };

    const sending = (async () => {
      for (let i = 0; i < MESSAGES && performance.now() - started < budgetMs; i++) await push!.send(hostile(rng));
      const meta = new LbmMeta();
      meta.send.push({ data: null, size: SENTINEL.length, flags: BULK_XFER });
      await push!.send([encodeMeta(meta), SENTINEL]);
    })();

    let sentinel: Uint8Array | null = null;
    while (sentinel === null) {
      const meta = new LbmMeta();
      const rc = await server.waitMetadata(meta, { timeoutMs: 20_000 });
      expect(rc, `seed ${seed}`).to.be.oneOf([0, -1]);
      if (rc === -1) {
        results.malformed++;
        continue;
      }
      results.ok++;
      expect(meta.send.every((b) => Number.isSafeInteger(b.size) && b.size >= 0)).to.equal(true);
      const bufs = meta.send.map((b) => new Uint8Array(Math.min(b.size, 1 << 16)));
      meta.recv = []; // the sender's recv vector came from the wire: replace it with our buffers
      meta.send.forEach((b, i) => meta.recv.push(server!.expose(bufs[i], bufs[i].length, b.flags)));
      const brc = await server.recvBulks(meta);
      expect(brc, `seed ${seed}`).to.be.oneOf([0, -1]);
      if (brc === 0) results.bulksOk++;
      else results.bulksMismatch++;
      if (brc === 0 && meta.send.length === 1 && meta.send[0].size === SENTINEL.length && Buffer.from(bufs[0]).equals(SENTINEL)) sentinel = bufs[0];
    }
    await sending;
    expect(results.malformed, JSON.stringify(results)).to.be.greaterThan(1000);
    expect(results.bulksOk, JSON.stringify(results)).to.be.greaterThan(1000);
    expect(results.ok + results.malformed).to.be.at.least(MESSAGES / 2);
    expect(await server.recvMetadata(new LbmMeta())).to.equal(11);
  });
});
