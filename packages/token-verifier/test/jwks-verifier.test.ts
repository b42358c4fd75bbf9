import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { auth } from '@orderbook/proto';
import { createJwksVerifier, KeysUnavailableError, MAX_TOKEN_LENGTH, TokenRejectedError, type TokenVerifier } from '../src';

const ISSUER = 'test-issuer';
const AUDIENCE = 'test-audience';

interface TestKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: auth.JsonWebKey;
}

async function newKey(): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { x } = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: x ?? '' });
  return { kid, privateKey, jwk: { kid, kty: 'OKP', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x: x ?? '', n: '', e: '' } };
}

/** A stand-in auth service that serves GetPublicKeys from `keys` and counts the calls. */
class KeyServer {
  keys: auth.JsonWebKey[] = [];
  calls = 0;
  private server = new grpc.Server();
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = new grpc.Server();
    const implementation: grpc.UntypedServiceImplementation = {
      getPublicKeys: (_call: grpc.ServerUnaryCall<auth.GetPublicKeysRequest, auth.GetPublicKeysResponse>, callback: grpc.sendUnaryData<auth.GetPublicKeysResponse>) => {
        this.calls += 1;
        callback(null, { keys: this.keys, issuer: ISSUER, audience: AUDIENCE });
      },
    };
    this.server.addService(auth.AuthServiceService, implementation);
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

const now = (): number => Math.floor(Date.now() / 1000);

interface MintOptions {
  readonly header?: Record<string, unknown>;
  readonly claims?: JWTPayload;
  readonly omit?: readonly string[];
}

/** A token as the auth service would issue it, with overrides. */
async function mint(key: TestKey, options: MintOptions = {}): Promise<string> {
  const claims: JWTPayload = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    sid: 'session-1',
    jti: 'token-1',
    roles: ['trader'],
    iat: now(),
    nbf: now(),
    exp: now() + 900,
    ...options.claims,
  };
  for (const claim of options.omit ?? []) delete claims[claim];
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...options.header }).sign(key.privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function expectRejected(verifier: TokenVerifier, token: string, message?: RegExp): Promise<TokenRejectedError> {
  try {
    await verifier.verify(token);
  } catch (err) {
    expect(err).to.be.instanceOf(TokenRejectedError);
    if (message !== undefined) expect((err as Error).message).to.match(message);
    return err as TokenRejectedError;
  }
  expect.fail('the token was accepted');
}

describe('createJwksVerifier', () => {
  let server: KeyServer;
  let key: TestKey;
  let verifier: TokenVerifier;

  before(async () => {
    key = await newKey();
    server = new KeyServer();
    await server.start();
  });
  after(() => server.stop());

  beforeEach(() => {
    server.keys = [key.jwk];
    server.calls = 0;
    verifier = createJwksVerifier({ authAddress: `127.0.0.1:${server.port}`, issuer: ISSUER, audience: AUDIENCE });
  });
  afterEach(() => verifier.close());

  describe('valid tokens', () => {
    it('resolves the identity of a valid token', async () => {
      const exp = now() + 600;
      const iat = now() - 5;
      const identity = await verifier.verify(await mint(key, { claims: { sub: 'u-42', sid: 's-9', jti: 'j-7', roles: ['trader', 'admin'], iat, exp } }));
      expect(identity).to.deep.equal({ userId: 'u-42', sessionId: 's-9', roles: ['trader', 'admin'], tokenId: 'j-7', issuedAt: iat * 1000, expiresAt: exp * 1000 });
    });

    it('fetches the keys once and then verifies from the cache', async () => {
      for (let i = 0; i < 5; i += 1) await verifier.verify(await mint(key));
      expect(server.calls).to.equal(1);
    });

    it('shares one fetch between concurrent verifications', async () => {
      const token = await mint(key);
      await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
      expect(server.calls).to.equal(1);
    });

    it('tolerates clock skew up to clockToleranceSeconds', async () => {
      await verifier.verify(await mint(key, { claims: { exp: now() - 10 } }));
      await verifier.verify(await mint(key, { claims: { nbf: now() + 10, iat: now() + 10 } }));
    });

    it('accepts an audience array that contains the audience', async () => {
      await verifier.verify(await mint(key, { claims: { aud: ['other', AUDIENCE] } }));
    });

    it('drops roles it does not know and duplicates', async () => {
      const identity = await verifier.verify(await mint(key, { claims: { roles: ['trader', 'superuser', 'trader'] } }));
      expect(identity.roles).to.deep.equal(['trader']);
    });
  });

  describe('hostile and broken tokens', () => {
    it('rejects alg "none"', async () => {
      const unsigned = new UnsecuredJWT({ sub: 'user-1', jti: 'j', roles: ['admin'] }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').setIssuedAt().encode();
      const withKid = `${b64url({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${unsigned.split('.')[1]}.`;
      await expectRejected(verifier, unsigned, /not a signed JWT/);
      await expectRejected(verifier, withKid, /not a signed JWT/);
      await expectRejected(verifier, `${withKid}AAAA`, /algorithm is not EdDSA/);
    });

    it('rejects HS256 signed with the public key bytes (algorithm confusion)', async () => {
      const rawPublicKey = Buffer.from(key.jwk.x, 'base64url');
      const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', jti: 'j', roles: ['admin'], iat: now(), exp: now() + 600 };
      for (const secret of [rawPublicKey, Buffer.from(key.jwk.x), Buffer.from(JSON.stringify(key.jwk))]) {
        const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(secret);
        await expectRejected(verifier, token, /algorithm is not EdDSA/);
      }
      // Even with the header claiming EdDSA, an HMAC in the signature slot does not verify.
      const header = b64url({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' });
      const payload = b64url(claims);
      const mac = createHmac('sha256', rawPublicKey).update(`${header}.${payload}`).digest('base64url');
      await expectRejected(verifier, `${header}.${payload}.${mac}`, /signature is invalid/);
    });

    it('rejects other asymmetric algorithms', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = await new SignJWT({ sub: 'u', jti: 'j', roles: [] }).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(privateKey);
      await expectRejected(verifier, token, /algorithm is not EdDSA/);
    });

    it('rejects an expired token', async () => {
      await expectRejected(verifier, await mint(key, { claims: { exp: now() - 120, iat: now() - 1000, nbf: now() - 1000 } }), /expired/);
    });

    it('rejects a token that is not valid yet', async () => {
      await expectRejected(verifier, await mint(key, { claims: { nbf: now() + 300 } }), /not valid yet/);
      await expectRejected(verifier, await mint(key, { claims: { iat: now() + 300 } }), /not valid yet/);
    });

    it('rejects a wrong issuer or audience', async () => {
      await expectRejected(verifier, await mint(key, { claims: { iss: 'evil' } }), /iss/);
      await expectRejected(verifier, await mint(key, { claims: { aud: 'other-service' } }), /aud/);
    });

    it('requires sub, sid, jti, roles, exp and iat', async () => {
      for (const claim of ['sub', 'sid', 'jti', 'exp', 'iat']) {
        await expectRejected(verifier, await mint(key, { omit: [claim] }), new RegExp(claim));
      }
      await expectRejected(verifier, await mint(key, { omit: ['roles'] }), /roles/);
      await expectRejected(verifier, await mint(key, { claims: { roles: 'admin' } }), /roles/);
      await expectRejected(verifier, await mint(key, { claims: { roles: [1] } }), /roles/);
      await expectRejected(verifier, await mint(key, { claims: { sub: '' } }), /sub/);
      await expectRejected(verifier, await mint(key, { claims: { sub: 'x'.repeat(200) } }), /sub/);
      await expectRejected(verifier, await mint(key, { claims: { sid: 7 } }), /sid/);
    });

    it('requires typ at+jwt', async () => {
      await expectRejected(verifier, await mint(key, { header: { typ: 'JWT' } }), /typ/);
      await expectRejected(verifier, await mint(key, { header: { typ: undefined } }), /typ/);
    });

    it('rejects a tampered payload', async () => {
      const [header, , signature] = (await mint(key)).split('.');
      const payload = b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', jti: 'token-1', roles: ['admin'], iat: now(), exp: now() + 900 });
      await expectRejected(verifier, `${header}.${payload}.${signature}`, /signature is invalid/);
    });

    it('rejects a tampered signature', async () => {
      const token = await mint(key);
      const signature = Buffer.from(token.split('.')[2] ?? '', 'base64url');
      signature[0] = (signature[0] ?? 0) ^ 1;
      await expectRejected(verifier, `${token.split('.').slice(0, 2).join('.')}.${signature.toString('base64url')}`, /signature is invalid/);
    });

    it('rejects a token signed by another key under a published kid', async () => {
      const impostor = await newKey();
      await expectRejected(verifier, await mint({ ...impostor, kid: key.kid }), /signature is invalid/);
    });

    it('rejects an unknown kid after refetching the keys', async () => {
      const fresh = createJwksVerifier({ authAddress: `127.0.0.1:${server.port}`, issuer: ISSUER, audience: AUDIENCE, minKeyRefreshIntervalMs: 0 });
      try {
        await fresh.verify(await mint(key));
        const stranger = await newKey();
        await expectRejected(fresh, await mint(stranger), /unknown key/);
        expect(server.calls).to.equal(2);
      } finally {
        fresh.close();
      }
    });

    it('rejects a missing or oversized kid', async () => {
      await expectRejected(verifier, await mint(key, { header: { kid: undefined } }), /kid/);
      await expectRejected(verifier, await mint(key, { header: { kid: 'k'.repeat(129) } }), /kid/);
      await expectRejected(verifier, await mint(key, { header: { kid: 7 } }), /kid/);
    });

    it('rejects unknown critical header parameters', async () => {
      // jose refuses to sign this, so sign by hand.
      const header = b64url({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', crit: ['exp-hint'], 'exp-hint': 1 });
      const payload = b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'u', jti: 'j', roles: [], iat: now(), exp: now() + 60 });
      const signature = sign(null, Buffer.from(`${header}.${payload}`), key.privateKey).toString('base64url');
      await expectRejected(verifier, `${header}.${payload}.${signature}`, /malformed/);
    });

    it('rejects malformed tokens without contacting the auth service', async () => {
      const malformed = [
        '',
        'garbage',
        'a.b',
        'a.b.c.d',
        'a..c',
        ' a.b.c',
        'é.b.c',
        `${b64url('not an object')}.${b64url({})}.AAAA`,
        `${Buffer.from('{not json').toString('base64url')}.${b64url({})}.AAAA`,
        `${b64url({ alg: 'EdDSA', kid: key.kid })}.${Buffer.from('[1,2]').toString('base64url')}.AAAA`,
      ];
      for (const token of malformed) await expectRejected(verifier, token);
      // The last one reaches signature checking (and so the key fetch); the others stop before.
      expect(server.calls).to.equal(1);
    });

    it(`rejects tokens longer than ${MAX_TOKEN_LENGTH} characters before parsing them`, async () => {
      const huge = await mint(key, { claims: { padding: 'x'.repeat(MAX_TOKEN_LENGTH) } });
      await expectRejected(verifier, huge, /longer than/);
      await expectRejected(verifier, 'a'.repeat(1_000_000), /longer than/);
      expect(server.calls).to.equal(0);
    });

    it('never echoes the token in the error', async () => {
      const token = await mint(key, { claims: { iss: 'evil' } });
      const error = await expectRejected(verifier, token);
      expect(error.message).not.to.include(token.split('.')[1]);
    });
  });

  describe('key refresh', () => {
    it('refetches when a token carries an unknown kid, and accepts the new key', async () => {
      const fresh = createJwksVerifier({ authAddress: `127.0.0.1:${server.port}`, issuer: ISSUER, audience: AUDIENCE, minKeyRefreshIntervalMs: 0 });
      try {
        await fresh.verify(await mint(key));
        const rotated = await newKey();
        server.keys = [rotated.jwk, key.jwk];
        await fresh.verify(await mint(rotated));
        await fresh.verify(await mint(key));
        expect(server.calls).to.equal(2);
      } finally {
        fresh.close();
      }
    });

    it('refetches on unknown kids at most once per minKeyRefreshIntervalMs', async () => {
      await verifier.verify(await mint(key));
      const rotated = await newKey();
      server.keys = [rotated.jwk, key.jwk];
      for (let i = 0; i < 5; i += 1) await expectRejected(verifier, await mint(await newKey()), /unknown key/);
      // The new key is also unknown until the interval has passed: the verifier did not refetch.
      await expectRejected(verifier, await mint(rotated), /unknown key/);
      expect(server.calls).to.equal(1);
    });

    it('refetches after minKeyRefreshIntervalMs', async () => {
      const fresh = createJwksVerifier({ authAddress: `127.0.0.1:${server.port}`, issuer: ISSUER, audience: AUDIENCE, minKeyRefreshIntervalMs: 50 });
      try {
        await fresh.verify(await mint(key));
        const rotated = await newKey();
        server.keys = [rotated.jwk];
        await expectRejected(fresh, await mint(rotated), /unknown key/);
        await new Promise((resolve) => setTimeout(resolve, 60));
        await fresh.verify(await mint(rotated));
        expect(server.calls).to.equal(2);
      } finally {
        fresh.close();
      }
    });

    it('forgets keys the auth service no longer publishes once the cache is older than maxKeySetAgeMs', async () => {
      const fresh = createJwksVerifier({
        authAddress: `127.0.0.1:${server.port}`,
        issuer: ISSUER,
        audience: AUDIENCE,
        minKeyRefreshIntervalMs: 0,
        maxKeySetAgeMs: 0,
      });
      try {
        await fresh.verify(await mint(key));
        server.keys = [(await newKey()).jwk];
        await expectRejected(fresh, await mint(key), /unknown key/);
      } finally {
        fresh.close();
      }
    });

    it('ignores published keys that are not Ed25519 signing keys', async () => {
      const other = await newKey();
      server.keys = [
        { ...other.jwk, alg: 'RS256' },
        { ...key.jwk, kid: 'enc-key', use: 'enc' },
        { ...key.jwk, kid: 'bad-x', x: '!!' },
        key.jwk,
      ];
      await verifier.verify(await mint(key));
      await expectRejected(verifier, await mint(other), /unknown key/);
    });
  });

  describe('auth service unavailable', () => {
    async function closedPort(): Promise<number> {
      const probe = new KeyServer();
      await probe.start();
      probe.stop();
      return probe.port;
    }

    it('rejects with KeysUnavailableError when the keys cannot be fetched', async () => {
      const down = createJwksVerifier({ authAddress: `127.0.0.1:${await closedPort()}`, issuer: ISSUER, audience: AUDIENCE, fetchTimeoutMs: 2000 });
      try {
        const token = await mint(key);
        for (let i = 0; i < 2; i += 1) {
          const error = await down.verify(token).then(
            () => expect.fail('accepted'),
            (err: unknown) => err,
          );
          expect(error).to.be.instanceOf(KeysUnavailableError);
        }
      } finally {
        down.close();
      }
    });

    it('still rejects malformed tokens as such while the auth service is down', async () => {
      const down = createJwksVerifier({ authAddress: `127.0.0.1:${await closedPort()}`, issuer: ISSUER, audience: AUDIENCE });
      try {
        await expectRejected(down, 'garbage');
      } finally {
        down.close();
      }
    });

    it('recovers when the auth service comes up', async () => {
      const port = await closedPort();
      const late = createJwksVerifier({ authAddress: `127.0.0.1:${port}`, issuer: ISSUER, audience: AUDIENCE });
      const lateServer = new KeyServer();
      try {
        const token = await mint(key);
        await late.verify(token).then(
          () => expect.fail('accepted'),
          (err: unknown) => expect(err).to.be.instanceOf(KeysUnavailableError),
        );
        lateServer.keys = [key.jwk];
        await lateServer.start(port);
        // Failed fetches are retried after a second (and the channel reconnects with backoff): poll.
        const deadline = Date.now() + 8000;
        for (;;) {
          const outcome = await late.verify(token).catch((err: unknown) => err);
          if (!(outcome instanceof KeysUnavailableError) || Date.now() > deadline) {
            expect(outcome).to.deep.include({ userId: 'user-1' });
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } finally {
        late.close();
        lateServer.stop();
      }
    });

    it('keeps verifying with cached keys while the auth service is down', async () => {
      const flaky = new KeyServer();
      flaky.keys = [key.jwk];
      await flaky.start();
      const cached = createJwksVerifier({ authAddress: `127.0.0.1:${flaky.port}`, issuer: ISSUER, audience: AUDIENCE, maxKeySetAgeMs: 0, minKeyRefreshIntervalMs: 0 });
      try {
        await cached.verify(await mint(key));
        flaky.stop();
        await cached.verify(await mint(key));
        const stranger = await newKey();
        await cached.verify(await mint(stranger)).then(
          () => expect.fail('accepted'),
          (err: unknown) => expect(err).to.be.instanceOf(KeysUnavailableError),
        );
      } finally {
        cached.close();
      }
    });
  });
});
