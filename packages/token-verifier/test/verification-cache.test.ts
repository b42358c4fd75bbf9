import { expect } from 'chai';
import { TokenRejectedError, withVerificationCache, type TokenVerifier, type VerifiedIdentity } from '../src';

/** A verifier that counts its calls and accepts tokens named "good-<exp>" (of session "s-<exp>"). */
function countingVerifier(): TokenVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    verify(token: string): Promise<VerifiedIdentity> {
      calls.push(token);
      const match = /^good-(\d+)$/.exec(token);
      if (!match) return Promise.reject(new TokenRejectedError('bad token'));
      return Promise.resolve({ userId: `user-of-${token}`, sessionId: `s-${match[1]}`, roles: ['trader'], tokenId: token, issuedAt: 0, expiresAt: Number(match[1]) });
    },
    close() {},
  };
}

describe('withVerificationCache', () => {
  it('verifies a token once and answers later calls from the cache until it expires', async () => {
    let clock = 1_000;
    const inner = countingVerifier();
    const cached = withVerificationCache(inner, { maxEntries: 10, now: () => clock });
    const first = await cached.verify('good-2000');
    expect(await cached.verify('good-2000')).to.deep.equal(first);
    expect(inner.calls).to.deep.equal(['good-2000']);
    clock = 2_000;
    expect(await cached.verify('good-2000')).to.deep.equal(first);
    expect(inner.calls, 'an expired entry goes back to the real verifier').to.have.length(2);
  });

  it('never caches a refusal, and never answers one token with another token\'s identity', async () => {
    const inner = countingVerifier();
    const cached = withVerificationCache(inner, { maxEntries: 10, now: () => 0 });
    for (let i = 0; i < 2; i++) {
      const error = await cached.verify('forged').then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(TokenRejectedError);
    }
    expect(inner.calls).to.deep.equal(['forged', 'forged']);
    expect((await cached.verify('good-5')).userId).to.equal('user-of-good-5');
    expect((await cached.verify('good-50')).userId).to.equal('user-of-good-50');
  });

  it('holds at most maxEntries tokens, forgetting the oldest', async () => {
    const inner = countingVerifier();
    const cached = withVerificationCache(inner, { maxEntries: 2, now: () => 0 });
    for (const token of ['good-1', 'good-2', 'good-3', 'good-1']) await cached.verify(token);
    expect(inner.calls).to.deep.equal(['good-1', 'good-2', 'good-3', 'good-1']);
    await cached.verify('good-3');
    expect(inner.calls).to.have.length(4);
  });

  it("forgets a revoked session's verifications, and only those", async () => {
    const inner = countingVerifier();
    const cached = withVerificationCache(inner, { maxEntries: 10, now: () => 0 });
    await cached.verify('good-7');
    await cached.verify('good-8');
    cached.forgetSession('s-7');
    await cached.verify('good-7');
    await cached.verify('good-8');
    expect(inner.calls).to.deep.equal(['good-7', 'good-8', 'good-7']);
  });

  it('knows without waiting only settled, unexpired, unforgotten verifications', async () => {
    let clock = 1_000;
    const cached = withVerificationCache(countingVerifier(), { maxEntries: 10, now: () => clock });
    expect(cached.known?.('good-2000'), 'never verified').to.equal(undefined);
    const pending = cached.verify('good-2000');
    expect(cached.known?.('good-2000'), 'still being verified').to.equal(undefined);
    const identity = await pending;
    expect(cached.known?.('good-2000')).to.deep.equal(identity);
    await cached.verify('forged').catch(() => undefined);
    expect(cached.known?.('forged'), 'a refusal').to.equal(undefined);
    cached.forgetSession('s-2000');
    expect(cached.known?.('good-2000'), 'a revoked session').to.equal(undefined);
    await cached.verify('good-2000');
    clock = 2_000;
    expect(cached.known?.('good-2000'), 'expired').to.equal(undefined);
  });
});
