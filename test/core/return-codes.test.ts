import { expect } from 'chai';
import * as core from '@lightbeam/core';
import { EAGAIN, ECANCELED, ESHUTDOWN, ETERM, ETIMEDOUT, LBM_MALFORMED, LBM_OK, strerror } from '@lightbeam/core';

/** Every exported numeric return code: LBM_* and E* constants. */
const codes = Object.entries(core).filter(([name, v]) => typeof v === 'number' && /^(E[A-Z]+|LBM_[A-Z]+)$/.test(name)) as Array<[string, number]>;

describe('return codes and strerror', () => {
  it('exports the Linux / libzmq values, never the guide values', () => {
    expect(Object.fromEntries(codes)).to.deep.equal({
      LBM_OK: 0,
      LBM_MALFORMED: -1,
      EAGAIN: 11,
      ENOMEM: 12,
      EINVAL: 22,
      EMSGSIZE: 90,
      EOPNOTSUPP: 95,
      ENOBUFS: 105,
      EADDRINUSE: 98,
      ECONNRESET: 104,
      ESHUTDOWN: 108,
      ETIMEDOUT: 110,
      ECANCELED: 125,
      ETERM: 156384712 + 53,
    });
  });

  for (const [name, value] of codes) {
    it(`describes ${name} (${value}) in one line of its own`, () => {
      const s = strerror(value);
      expect(s).to.be.a('string').and.not.match(/^Unknown error/);
      expect(s).to.not.include('\n');
      const others = codes.filter(([n]) => n !== name).map(([, v]) => strerror(v));
      expect(others).to.not.include(s);
    });
  }

  it('names the classic texts for the codes callers see most', () => {
    expect(strerror(LBM_OK)).to.equal('Success');
    expect(strerror(LBM_MALFORMED)).to.match(/malformed/i);
    expect(strerror(EAGAIN)).to.match(/temporarily unavailable/);
    expect(strerror(ETIMEDOUT)).to.match(/timed out/);
    expect(strerror(ECANCELED)).to.match(/canceled/);
    expect(strerror(ESHUTDOWN)).to.match(/shutdown/);
    expect(strerror(ETERM)).to.match(/terminated/);
  });

  it('describes an unknown code without throwing', () => {
    expect(strerror(987654)).to.equal('Unknown error 987654');
    expect(strerror(-42)).to.equal('Unknown error -42');
  });
});
