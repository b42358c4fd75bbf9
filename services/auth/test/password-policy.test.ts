import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { VENDORED_FILE, vendoredText } from '../scripts/vendor-common-passwords';
import { isCommonPassword } from '../src/security/common-passwords';

describe('the bundled common-password list', () => {
  it('is exactly what the vendoring script writes from the pinned npm package (run the script if this fails)', () => {
    expect(readFileSync(VENDORED_FILE, 'utf8')).to.equal(vendoredText());
  });

  it('carries the licence of its source (MIT, with its copyright notices)', () => {
    const header = readFileSync(VENDORED_FILE, 'utf8').split('\n').filter((line) => line.startsWith('#')).join('\n');
    expect(header).to.include('@zxcvbn-ts/language-common').and.include('Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.').and.include('Permission is hereby granted');
  });

  it('holds only entries the length rule would accept, and answers for lower-cased input', () => {
    const entries = readFileSync(VENDORED_FILE, 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(entries.length).to.be.greaterThan(250);
    for (const entry of entries) {
      expect(Buffer.byteLength(entry)).to.be.within(12, 72);
      expect(entry).to.equal(entry.toLowerCase());
    }
    expect(isCommonPassword('qwertyuiop123')).to.equal(true);
    expect(isCommonPassword('# common passwords')).to.equal(false);
    expect(isCommonPassword('a passphrase nobody uses')).to.equal(false);
  });
});
