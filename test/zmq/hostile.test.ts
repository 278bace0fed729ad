/**
 * Hostile input over a real socket: a raw zeromq.js PUSH sends 100k seeded random and mutated
 * multipart messages (plain frames and batches). Every one must yield -1 or a well-formed result,
 * nothing may throw, and a valid message sent after them must arrive intact.
 */
import { expect } from 'chai';
import { BULK_XFER, LbmMeta, encodeMeta } from '@lightbeam/core';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { Push } from 'zeromq';
import { Prng, testSeed } from '../support/prng.js';
import { closeAll, makeServer } from './support/zmq-pair.js';
import { batchBody, marker, mutate, validFrames } from '../../tools/fuzz/hostile-frames.js';

const MESSAGES = 100_000;
const SENTINEL = Buffer.from('SENTINEL-after-the-storm');

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
