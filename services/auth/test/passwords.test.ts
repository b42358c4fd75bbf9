import bcrypt from 'bcrypt';
import { expect } from 'chai';
import { createBcryptHasher } from '../src/security/passwords';

describe('bcrypt password hasher', () => {
  it('hashes with the configured cost and verifies', async () => {
    const hasher = await createBcryptHasher(4);
    const hash = await hasher.hash('correct horse');
    expect(bcrypt.getRounds(hash)).to.equal(4);
    expect(await hasher.compare('correct horse', hash)).to.equal(true);
    expect(await hasher.compare('correct horsf', hash)).to.equal(false);
  });

  it('has a dummy hash of the same cost that no password matches', async () => {
    const hasher = await createBcryptHasher(5);
    expect(bcrypt.getRounds(hasher.dummyHash)).to.equal(5);
    expect(await hasher.compare('', hasher.dummyHash)).to.equal(false);
    expect(await hasher.compare('password', hasher.dummyHash)).to.equal(false);
  });

  it('tells when a hash was made with another cost', async () => {
    const hasher = await createBcryptHasher(4);
    expect(hasher.needsRehash(await hasher.hash('password'))).to.equal(false);
    expect(hasher.needsRehash(await bcrypt.hash('password', 5))).to.equal(true);
  });
});
