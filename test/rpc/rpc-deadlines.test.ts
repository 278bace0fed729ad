/**
 * The RPC client's deadline lanes: every pending call expires exactly once, settled calls never,
 * and a lane of settled calls is compacted instead of growing with the call rate.
 */
import { expect } from 'chai';
import { Deadlines } from '../../packages/core/src/rpc/deadlines.js';

describe('RPC deadlines (one timer per client)', () => {
  it('expires each pending call once, across timeouts, and skips settled ones', async () => {
    const pending = new Set<number>();
    const expired: number[] = [];
    const d = new Deadlines((id) => {
      if (pending.delete(id)) expired.push(id);
    }, () => pending.size, (id) => pending.has(id));
    for (let id = 1; id <= 30; id++) {
      pending.add(id);
      d.add(id, id % 3 === 0 ? 5 : 20);
    }
    for (let id = 2; id <= 30; id += 4) pending.delete(id); // settled by their replies
    for (let i = 0; i < 200 && pending.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
    d.clear();
    expect(pending.size).to.equal(0);
    expect(expired.length).to.equal(new Set(expired).size);
    expect(expired.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1).filter((id) => (id - 2) % 4 !== 0));
  });

  it('compacts a lane whose calls settled, so it does not grow with the call rate', () => {
    const pending = new Set<number>();
    const d = new Deadlines(() => undefined, () => pending.size, (id) => pending.has(id));
    for (let id = 1; id <= 100_000; id++) d.add(id, 60_000); // every call settled at once
    const lane = (d as unknown as { lanes: Map<number, { ids: number[]; head: number }> }).lanes.get(60_000);
    expect(lane?.ids.length ?? 0).to.be.at.most(1025);
    d.clear();
  });
});
