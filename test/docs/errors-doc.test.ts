import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as core from '@lightbeam/core';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** Exported numeric return-code constants: the errno-like names and the LBM_ ones. */
const RETURN_CODES = Object.entries(core).filter(
  ([name, value]) => typeof value === 'number' && (/^E[A-Z]+$/.test(name) || /^LBM_/.test(name)),
);

describe('docs/errors.md', () => {
  it('finds the exported return codes to check', () => {
    expect(RETURN_CODES.map(([n]) => n)).to.include.members(['LBM_OK', 'LBM_MALFORMED', 'EAGAIN', 'ETIMEDOUT']);
  });

  for (const [name, value] of RETURN_CODES) {
    it(`documents return code ${name} with its value`, () => {
      expect(doc).to.match(new RegExp(`\\|\\s*\`${name}\`\\s*\\|\\s*${value}\\s*\\|`));
    });
  }

  for (const code of Object.keys(core.ERROR_CODES)) {
    it(`documents error code ${code}`, () => {
      expect(doc).to.match(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
    });
  }
});
