/**
 * The shared transport contract over Transport.kFabric, with the tcp;ofi_rxm and shm providers
 * on loopback. Skipped, with the reason, where the addon is not built.
 */
import { describeTransportContract } from '../contract/transport-contract.js';
import { PROVIDERS, SKIP_NOTE, makePair, sendRaw, skipWithoutFabric } from './support/fabric-pair.js';

for (const p of PROVIDERS) {
  describe(`fabric transport contract ${p.label}${SKIP_NOTE}`, function () {
    before(function () {
      skipWithoutFabric(this);
    });
    describeTransportContract(`fabric ${p.label}`, () => makePair(p), { sendRaw, copiesOnSend: true });
    // Bulks registered in place (no copy on send): the sender keeps its buffers until released.
    describeTransportContract(`fabric ${p.label} (copyXfer false)`, () => makePair(p, { copyXfer: false, inlineBytes: 0 }), { sendRaw, copiesOnSend: false });
  });
}
