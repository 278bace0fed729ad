/**
 * What the zmq-bridge README's Bridge section says of a return path: an egress's `peer` must name
 * a real port (port 0 is refused, naming the option), while `listen` may take port 0 and reports
 * the port it bound.
 */
import { expect } from 'chai';
import type { LightbeamError } from '@lightbeam/core';
import { Bridge } from '@lightbeam/zmq-bridge';
import { freshMemory } from '../support/memory.js';

describe('bridge endpoints: peer port 0 refused, listen port 0 ephemeral', () => {
  let bridges: Bridge[] = [];
  beforeEach(() => {
    freshMemory({ regionBytes: 8 << 20 });
  });
  afterEach(async () => {
    await Promise.all(bridges.map((b) => b.close()));
    bridges = [];
  });

  it('refuses a peer on port 0 with ERR_LBM_INVALID_ARGUMENT naming peer', async () => {
    const err = await Bridge.create({ peer: 'tcp://127.0.0.1:0', channels: ['peer-port-zero'] }).then(
      (b) => {
        bridges.push(b);
        return null;
      },
      (e: LightbeamError) => e,
    );
    expect(err?.code).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(err?.message).to.match(/^peer: .*port other than 0/);
  });

  it('binds listen on port 0 to an ephemeral port it reports, which a peer can then name', async () => {
    const inbound = await Bridge.create({ listen: 'tcp://127.0.0.1:0' });
    bridges.push(inbound);
    expect(inbound.port).to.be.a('number').above(0);
    expect(inbound.endpoint).to.equal(`tcp://127.0.0.1:${inbound.port}`);
    const outbound = await Bridge.create({ peer: `tcp://127.0.0.1:${inbound.port}`, channels: ['peer-port-real'] });
    bridges.push(outbound);
    expect(outbound.channels).to.deep.equal(['peer-port-real']);
  });
});
