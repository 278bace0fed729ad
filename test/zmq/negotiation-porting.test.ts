/**
 * The negotiation byte for byte, as docs/porting.md gives it to a C++ peer: the C++ side is
 * played from raw zeromq.js frames, answering the negotiation (a ROUTER beside its PULL) or not
 * (the C++ ZeroMqServer as it is today), and asking a ZeroMqServer from a raw DEALER.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { BULK_XFER, EMSGSIZE, LbmMeta } from '@lightbeam/core';
import type { ZeroMqServer } from '@lightbeam/zmq-bridge';
import { NEGOTIATE_ANSWER, NEGOTIATE_HELLO, ZeroMqClient, clientHello, encodeNegotiation, isBatchMarker, serverHello } from '@lightbeam/zmq-bridge';
import { Dealer, Push } from 'zeromq';
import type { RawPeer } from './support/raw-peer.js';
import { rawPeer } from './support/raw-peer.js';
import { PROTOCOLS, closeAll, makeServer } from './support/zmq-pair.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** docs/porting.md: the hello of a client with default options. */
const HELLO = '4c424d4e' + '01000000' + '0100' + '0100' + '01000000' + '0000000000000000' + '0000000000000000' + '0000000000000000';
/** docs/porting.md: the answer of a server with default options. */
const ANSWER = '4c424d4e' + '02000000' + '0100' + '0100' + '01000000' + '0000000000000000' + '0000000000000000' + '0000000000000000';
/** docs/porting.md: a C++ server that reads batches and takes frames up to 1 MiB. */
const CPP_ANSWER_1MIB = '4c424d4e' + '02000000' + '0100' + '0100' + '01000000' + '0000100000000000' + '0000000000000000' + '0000000000000000';
/** The golden 28-byte frame 0 of one 15-byte XFER bulk. */
const GOLDEN_MAGIC = '0100000000000000' + '0f00000000000000' + '02000000' + '0000000000000000';

for (const protocol of PROTOCOLS) {
  describe(`negotiation from a raw C++-style peer over ${protocol}`, () => {
    let peer: RawPeer | undefined;
    let client: ZeroMqClient | undefined;
    let server: ZeroMqServer | undefined;
    let dealer: Dealer | undefined;
    let push: Push | undefined;
    afterEach(async () => {
      await closeAll(client, server);
      peer?.close();
      dealer?.close();
      push?.close();
      peer = client = server = dealer = push = undefined;
    });

    async function sendMagic(c: ZeroMqClient, n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const m = new LbmMeta();
        m.send.push(c.expose(utf8('unit_test_magic'), 15, BULK_XFER));
        expect(await c.send(m, { timeoutMs: 5000 })).to.equal(0);
      }
    }

    it('a server that does not answer (C++ today) gets the plain golden frames from a client with no options', async () => {
      peer = await rawPeer(protocol, null);
      client = await ZeroMqClient.create(peer.addr, protocol, peer.port);
      await sendMagic(client, 3);
      for (let i = 0; i < 3; i++) expect((await peer.pull.receive()).map(hex)).to.deep.equal([GOLDEN_MAGIC, hex(utf8('unit_test_magic'))]);
      expect(client.peer).to.equal(null);
      expect(client.batching).to.equal(false);
    });

    it('a server answering with the documented bytes gets the documented hello, then batches within its 1 MiB limit', async () => {
      peer = await rawPeer(protocol, Buffer.from(CPP_ANSWER_1MIB, 'hex'));
      client = await ZeroMqClient.create(peer.addr, protocol, peer.port);
      await sendMagic(client, 3);
      expect(peer.hellos.map(hex)).to.deep.equal([HELLO]);
      expect(client.peer).to.include({ protocol: 1, batchVersion: 1, maxMessageBytes: 1 << 20, maxBulkBytes: null });
      const frames = await peer.pull.receive();
      expect(isBatchMarker(frames[0])).to.equal(true);
      expect(frames[1].readUInt32LE(0)).to.equal(3);
      // A frame over the announced limit is refused at the sender, which keeps going.
      const big = new LbmMeta();
      big.send.push(client.expose(new Uint8Array((1 << 20) + 1), (1 << 20) + 1, BULK_XFER));
      expect(await client.send(big, { timeoutMs: 5000 })).to.equal(EMSGSIZE);
      await sendMagic(client, 1);
      expect(hex((await peer.pull.receive())[0])).to.equal(hex(frames[0]));
    });

    it('answers a raw DEALER hello with the documented bytes, and takes the raw PUSH frames after it', async () => {
      server = await makeServer(protocol);
      dealer = new Dealer({ linger: 0, receiveTimeout: 5000 });
      dealer.connect(server.negotiationEndpoint as string);
      await dealer.send(Buffer.from(HELLO, 'hex'));
      expect((await dealer.receive()).map(hex)).to.deep.equal([ANSWER]);
      push = new Push({ linger: 0 });
      push.connect(server.endpoint as string);
      await push.send([Buffer.from(GOLDEN_MAGIC, 'hex'), Buffer.from('unit_test_magic')]);
      const got = new LbmMeta();
      expect(await server.waitMetadata(got, { timeoutMs: 5000 })).to.equal(0);
      expect(got.send[0].size).to.equal(15);
      expect(server.negotiationStats).to.deep.equal({ answered: 1, refused: 0 });
    });
  });
}

describe('the negotiation bytes docs/porting.md gives', () => {
  const doc = readFileSync(new URL('../../docs/porting.md', import.meta.url), 'utf8');
  const bytesAfter = (label: string): string => {
    const m = new RegExp(`${label}\\s*((?:[0-9a-f]{2}\\s+){39}[0-9a-f]{2})`).exec(doc);
    return m === null ? '' : m[1].replace(/\s+/g, '');
  };

  it('are what this code writes: the default hello, the default answer, and the 1 MiB C++ answer', () => {
    expect(bytesAfter('hello:')).to.equal(HELLO).and.equal(hex(encodeNegotiation(NEGOTIATE_HELLO, clientHello(true))));
    expect(bytesAfter('answer:')).to.equal(ANSWER).and.equal(hex(encodeNegotiation(NEGOTIATE_ANSWER, serverHello(true, -1, Number.MAX_SAFE_INTEGER))));
    expect(bytesAfter('takes frames of up to 1 MiB answers\\s*`')).to.equal(hex(encodeNegotiation(NEGOTIATE_ANSWER, serverHello(false, 1 << 20, Number.MAX_SAFE_INTEGER))));
  });
});
