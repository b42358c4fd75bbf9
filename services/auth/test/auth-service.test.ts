import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { auth } from '@orderbook/proto';
import { createJwksVerifier } from '@orderbook/token-verifier';
import { SIGN_IN_FAILED } from '../src/api/errors';
import { AuthClient, BACKENDS, bearer, expectStatus, newUser, serviceSigningKey, signedIn as signIn, signedUp as signUp, startTestServer, type TestServer } from './helpers';

const { status } = grpc;

function mint(key: { kid: string; key: KeyObject }, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...header }).sign(key.key);
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

for (const backend of BACKENDS) {
  describe(`AuthService over gRPC (${backend})`, function () {
    let t: TestServer;
    let client: AuthClient;

    before(async function () {
      // Two free failures per account, then a minute's wait: the third failure closes the account for these tests.
      const started = await startTestServer(backend, {
        AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '2',
        AUTH_SIGNIN_BASE_DELAY_MS: '60000',
        AUTH_SIGNIN_FREE_FAILURES_PER_PEER: '100000',
      });
      if (started === undefined) this.skip();
      t = started;
      client = started.client;
    });
    after(async () => t?.close());

    const signedUp = (prefix = 'user') => signUp(client, prefix);

    describe('SignUp', () => {
      it('creates a trader with the username as given and the email lower-cased', async () => {
        const before = Date.now();
        const { user } = await client.signUp({ username: 'Mixed.Case_1', email: 'Mixed.Case@Example.COM', password: 'long enough now' });
        expect(user?.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(user).to.deep.include({ username: 'Mixed.Case_1', email: 'mixed.case@example.com', roles: [auth.Role.ROLE_TRADER], totpEnabled: false });
        expect(Number(user?.createdAtUnixMs)).to.be.within(before, Date.now());
      });

      it('accepts the boundary lengths: 3 and 32 character usernames, 12 and 72 byte passwords', async () => {
        await client.signUp({ username: 'a1b', email: 'short@example.com', password: '12 bytes ok!' });
        await client.signUp({ username: `L${'o'.repeat(30)}n`, email: 'long@example.com', password: `${'é'.repeat(35)}!?` });
      });

      const hostile: Array<[Partial<auth.SignUpRequest>, string]> = [
        [{ username: '' }, 'username'],
        [{ username: 'ab' }, 'username'],
        [{ username: 'x'.repeat(33) }, 'username'],
        [{ username: 'x'.repeat(10_000) }, 'username'],
        [{ username: '-dash' }, 'username'],
        [{ username: 'white space' }, 'username'],
        [{ username: 'аdmin' }, 'username'], // Cyrillic а
        [{ username: 'admin\u200b' }, 'username'], // zero-width space
        [{ username: 'ａｄｍｉｎ' }, 'username'], // full-width
        [{ username: 'e\u0301clair' }, 'username'], // combining accent
        [{ username: 'nul\0byte' }, 'username'],
        [{ email: '' }, 'email'],
        [{ email: 'no-at-sign' }, 'email'],
        [{ email: 'two@@example.com' }, 'email'],
        [{ email: 'nodomain@' }, 'email'],
        [{ email: 'user@localhost' }, 'email'],
        [{ email: `${'x'.repeat(10_000)}@example.com` }, 'email'],
        [{ email: 'ünïcode@example.com' }, 'email'],
        [{ email: 'user@exаmple.com' }, 'email'], // Cyrillic а in the domain
        [{ email: 'user@example.com\r\nBcc: victim@example.com' }, 'email'],
        [{ password: '' }, 'password'],
        [{ password: 'seven77' }, 'password'],
        [{ password: 'elevenbytes' }, 'password'],
        [{ password: 'qwertyuiop123' }, 'password'], // on the common-password list
        [{ password: 'zzzzzzzzzzzzzzzz' }, 'password'], // one character repeated
        [{ password: 'a'.repeat(73) }, 'password'],
        [{ password: 'é'.repeat(37) }, 'password'], // 37 characters, 74 bytes
        [{ password: '€'.repeat(25) }, 'password'], // 25 characters, 75 bytes
        [{ password: '😀'.repeat(19) }, 'password'], // 38 UTF-16 units, 76 bytes
        [{ password: 'x'.repeat(10_000) }, 'password'],
        [{ password: 'truncated\0afterwards' }, 'password'],
      ];
      for (const [override, field] of hostile) {
        it(`rejects ${field} ${JSON.stringify(override[field as keyof auth.SignUpRequest]).slice(0, 40)} with INVALID_ARGUMENT naming it`, async () => {
          const request = { ...newUser(), ...override };
          await expectStatus(client.signUp(request), status.INVALID_ARGUMENT, new RegExp(`^${field}: `));
          if (field !== 'username') {
            // Nothing was stored: the username is still free.
            await client.signUp({ ...newUser(), username: request.username });
          }
        });
      }

      it('never echoes a rejected password', async () => {
        const password = `secret-${'y'.repeat(80)}`;
        const error = await expectStatus(client.signUp({ ...newUser(), password }), status.INVALID_ARGUMENT);
        expect(error.details).not.to.include('secret-');
      });

      it('answers a taken username (any case), a taken email (any case) and a reserved name alike: ALREADY_EXISTS without saying which', async () => {
        const taken = await signedUp('Taken');
        for (const request of [
          { ...newUser(), username: taken.username.toUpperCase() },
          { ...newUser(), username: taken.username.toLowerCase() },
          { ...newUser(), email: taken.email.toUpperCase() },
          { ...newUser(), username: 'Admin' },
          { ...newUser(), username: 'root' },
        ]) {
          await expectStatus(client.signUp(request), status.ALREADY_EXISTS, /^username or email: already taken$/);
        }
      });

      it('lets exactly one of concurrent identical sign-ups succeed', async () => {
        const request = newUser('race');
        const results = await Promise.allSettled(Array.from({ length: 6 }, () => client.signUp(request)));
        expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(1);
        for (const result of results) {
          if (result.status === 'rejected') expect((result.reason as grpc.ServiceError).code).to.equal(status.ALREADY_EXISTS);
        }
      });
    });

    describe('SignIn', () => {
      it('signs in by username in any case, and issues an EdDSA access token with the documented claims', async () => {
        const alice = await signedUp('Alice');
        const before = nowSeconds();
        const { tokens, user } = await client.signIn({ login: alice.username.toUpperCase(), password: alice.password });
        expect(user?.id).to.equal(alice.id);
        expect(tokens?.tokenType).to.equal('Bearer');

        const token = tokens?.accessToken ?? '';
        const { keys } = await client.getPublicKeys();
        expect(decodeProtectedHeader(token)).to.deep.equal({ alg: 'EdDSA', kid: keys[0]?.kid, typ: 'at+jwt' });
        const claims = decodeJwt(token);
        expect(claims).to.include({ iss: t.config.issuer, aud: t.config.audience, sub: alice.id });
        expect(claims.roles).to.deep.equal(['trader']);
        expect(claims['amr']).to.deep.equal(['pwd']);
        expect(claims['sid']).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(claims.jti).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(claims.iat).to.be.within(before, nowSeconds());
        expect(claims.nbf).to.equal(claims.iat);
        expect((claims.exp ?? 0) - (claims.iat ?? 0)).to.equal(900);
        expect(Number(tokens?.accessTokenExpiresAtUnixMs)).to.equal((claims.exp ?? 0) * 1000);

        expect(tokens?.refreshToken).to.match(/^[A-Za-z0-9_-]{43}$/);
        const refreshTtlMs = Number(tokens?.refreshTokenExpiresAtUnixMs) - before * 1000;
        expect(refreshTtlMs).to.be.within(30 * 86_400_000 - 1000, 30 * 86_400_000 + 2000);
      });

      it('signs in by email in any case', async () => {
        const bob = await signedUp();
        const { user } = await client.signIn({ login: bob.email.toUpperCase(), password: bob.password });
        expect(user?.id).to.equal(bob.id);
      });

      it('issues a new jti and refresh token on every sign-in', async () => {
        const carol = await signedUp();
        const first = await client.signIn({ login: carol.username, password: carol.password });
        const second = await client.signIn({ login: carol.username, password: carol.password });
        expect(decodeJwt(first.tokens?.accessToken ?? '').jti).not.to.equal(decodeJwt(second.tokens?.accessToken ?? '').jti);
        expect(first.tokens?.refreshToken).not.to.equal(second.tokens?.refreshToken);
      });

      it('answers an unknown user and a wrong password identically', async () => {
        const dave = await signedUp();
        const wrongPassword = await expectStatus(client.signIn({ login: dave.username, password: 'not the password' }), status.UNAUTHENTICATED);
        const unknownUser = await expectStatus(client.signIn({ login: 'nobody-here', password: 'not the password' }), status.UNAUTHENTICATED);
        const unknownEmail = await expectStatus(client.signIn({ login: 'nobody@example.com', password: 'whatever1' }), status.UNAUTHENTICATED);
        expect(wrongPassword.details).to.equal(SIGN_IN_FAILED);
        expect(unknownUser.details).to.equal(SIGN_IN_FAILED);
        expect(unknownEmail.details).to.equal(SIGN_IN_FAILED);
      });

      it('rejects a password that differs only after the 72nd byte as too long, never truncating it', async () => {
        const erin = { ...newUser(), password: `${'p'.repeat(70)}ok` };
        await client.signUp(erin);
        await expectStatus(client.signIn({ login: erin.username, password: `${erin.password}extra` }), status.INVALID_ARGUMENT, /^password: /);
      });

      it('validates its input, naming the field', async () => {
        await expectStatus(client.signIn({ login: '', password: 'x' }), status.INVALID_ARGUMENT, /^login: /);
        await expectStatus(client.signIn({ login: 'x'.repeat(10_000), password: 'x' }), status.INVALID_ARGUMENT, /^login: /);
        await expectStatus(client.signIn({ login: 'someone', password: '' }), status.INVALID_ARGUMENT, /^password: /);
        await expectStatus(client.signIn({ login: 'someone', password: 'x'.repeat(10_000) }), status.INVALID_ARGUMENT, /^password: /);
      });

      describe('throttling per account (2 free failures, then a minute here)', () => {
        it('answers RESOURCE_EXHAUSTED with a retry hint while the account waits out its delay, even for the right password', async () => {
          const frank = await signedUp();
          for (let i = 0; i < 3; i += 1) await expectStatus(client.signIn({ login: frank.username, password: 'wrong-guess' }), status.UNAUTHENTICATED);
          const limited = await expectStatus(
            client.signIn({ login: frank.username, password: frank.password }),
            status.RESOURCE_EXHAUSTED,
            /^login: too many failed sign-ins for this account; retry in \d+ s$/,
          );
          expect(Number(limited.metadata.get('retry-after-seconds')[0])).to.be.within(1, 60);
          // Another account from the same client is not affected.
          const other = await signedUp();
          await client.signIn({ login: other.username, password: other.password });
        });

        it('counts username and email sign-ins against the same account', async () => {
          const gina = await signedUp();
          await expectStatus(client.signIn({ login: gina.username, password: 'wrong-guess' }), status.UNAUTHENTICATED);
          await expectStatus(client.signIn({ login: gina.email, password: 'wrong-guess' }), status.UNAUTHENTICATED);
          await expectStatus(client.signIn({ login: gina.username.toUpperCase(), password: 'wrong-guess' }), status.UNAUTHENTICATED);
          await expectStatus(client.signIn({ login: gina.email, password: gina.password }), status.RESOURCE_EXHAUSTED);
        });

        it('limits unknown logins the same way', async () => {
          for (let i = 0; i < 3; i += 1) await expectStatus(client.signIn({ login: 'ghost-user', password: 'guess-guess' }), status.UNAUTHENTICATED);
          await expectStatus(client.signIn({ login: 'GHOST-user', password: 'guess-guess' }), status.RESOURCE_EXHAUSTED, /for this account/);
        });

        it('clears the count on a successful sign-in', async () => {
          const hank = await signedUp();
          for (let i = 0; i < 2; i += 1) await expectStatus(client.signIn({ login: hank.username, password: 'wrong-guess' }), status.UNAUTHENTICATED);
          await client.signIn({ login: hank.username, password: hank.password });
          for (let i = 0; i < 2; i += 1) await expectStatus(client.signIn({ login: hank.username, password: 'wrong-guess' }), status.UNAUTHENTICATED);
          await client.signIn({ login: hank.username, password: hank.password });
        });
      });
    });

    describe('RefreshToken', () => {
      async function signedIn(): Promise<{ id: string; tokens: auth.TokenPair }> {
        const person = await signedUp();
        const { tokens } = await client.signIn({ login: person.username, password: person.password });
        if (tokens === undefined) throw new Error('no tokens');
        return { id: person.id, tokens };
      }

      it('rotates: returns a new pair, and the new access token works', async () => {
        const { id, tokens } = await signedIn();
        const refreshed = (await client.refreshToken(tokens.refreshToken)).tokens;
        expect(refreshed?.refreshToken).to.match(/^[A-Za-z0-9_-]{43}$/).and.not.to.equal(tokens.refreshToken);
        expect(refreshed?.accessToken).not.to.equal(tokens.accessToken);
        expect(refreshed?.tokenType).to.equal('Bearer');
        const { user } = await client.getMe(bearer(refreshed?.accessToken ?? ''));
        expect(user?.id).to.equal(id);
        // The chain goes on.
        const again = (await client.refreshToken(refreshed?.refreshToken ?? '')).tokens;
        await client.refreshToken(again?.refreshToken ?? '');
      });

      it('answers a retry within the grace period (a lost answer) with the same pair, which works', async () => {
        const { tokens } = await signedIn();
        const first = (await client.refreshToken(tokens.refreshToken)).tokens;
        const retried = (await client.refreshToken(tokens.refreshToken)).tokens;
        expect(retried).to.deep.equal(first);
        await client.getMe(bearer(retried?.accessToken ?? ''));
        await client.refreshToken(retried?.refreshToken ?? '');
      });

      it('gives every concurrent use of one token the same pair: one rotation, nobody signed out', async () => {
        const { tokens } = await signedIn();
        const results = await Promise.all(Array.from({ length: 5 }, () => client.refreshToken(tokens.refreshToken)));
        const pairs = new Set(results.map((result) => JSON.stringify(result.tokens, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))));
        expect(pairs.size).to.equal(1);
        await client.refreshToken(results[0]?.tokens?.refreshToken ?? '');
      });

      it('treats a spent token presented after its successor was used as theft, even within the grace period: the session is revoked', async () => {
        const { tokens } = await signedIn();
        const successor = (await client.refreshToken(tokens.refreshToken)).tokens?.refreshToken ?? '';
        const third = (await client.refreshToken(successor)).tokens;
        await expectStatus(client.refreshToken(tokens.refreshToken), status.UNAUTHENTICATED, /^refresh_token: already used; its session has been revoked$/);
        await expectStatus(client.refreshToken(third?.refreshToken ?? ''), status.UNAUTHENTICATED, /^refresh_token: invalid, expired or revoked$/);
        await expectStatus(client.getMe(bearer(third?.accessToken ?? '')), status.UNAUTHENTICATED, /revoked/);
      });

      it('revokes only the reused session, not other sessions of the same user', async () => {
        const person = await signedUp();
        const first = (await client.signIn({ login: person.username, password: person.password })).tokens?.refreshToken ?? '';
        const second = (await client.signIn({ login: person.username, password: person.password })).tokens?.refreshToken ?? '';
        const next = (await client.refreshToken(first)).tokens?.refreshToken ?? '';
        await client.refreshToken(next);
        await expectStatus(client.refreshToken(first), status.UNAUTHENTICATED);
        await client.refreshToken(second);
      });

      it('rejects unknown tokens with UNAUTHENTICATED and malformed ones with INVALID_ARGUMENT', async () => {
        await expectStatus(client.refreshToken('A'.repeat(43)), status.UNAUTHENTICATED, /^refresh_token: /);
        await expectStatus(client.refreshToken(''), status.INVALID_ARGUMENT, /^refresh_token: is required/);
        await expectStatus(client.refreshToken('short'), status.INVALID_ARGUMENT, /^refresh_token: /);
        await expectStatus(client.refreshToken('x'.repeat(10_000)), status.INVALID_ARGUMENT, /^refresh_token: /);
        const { tokens } = await signedIn();
        await expectStatus(client.refreshToken(tokens.accessToken), status.INVALID_ARGUMENT, /^refresh_token: /);
      });
    });

    describe('SignOut', () => {
      it('revokes the session: its refresh and access tokens stop working, signing out again is fine', async () => {
        const person = await signedUp();
        const { tokens } = await client.signIn({ login: person.username, password: person.password });
        const refresh = tokens?.refreshToken ?? '';
        await client.signOut(refresh);
        await expectStatus(client.refreshToken(refresh), status.UNAUTHENTICATED, /^refresh_token: invalid, expired or revoked$/);
        await client.signOut(refresh);
        await expectStatus(client.getMe(bearer(tokens?.accessToken ?? '')), status.UNAUTHENTICATED, /session of this token has been revoked/);
      });

      it('with a spent token of the family, revokes the current one too', async () => {
        const person = await signedUp();
        const first = (await client.signIn({ login: person.username, password: person.password })).tokens?.refreshToken ?? '';
        const current = (await client.refreshToken(first)).tokens?.refreshToken ?? '';
        await client.signOut(first);
        await expectStatus(client.refreshToken(current), status.UNAUTHENTICATED);
      });

      it('rejects unknown tokens with UNAUTHENTICATED and malformed ones with INVALID_ARGUMENT', async () => {
        await expectStatus(client.signOut('B'.repeat(43)), status.UNAUTHENTICATED, /^refresh_token: /);
        await expectStatus(client.signOut(''), status.INVALID_ARGUMENT, /^refresh_token: /);
        await expectStatus(client.signOut('not/a+token'), status.INVALID_ARGUMENT, /^refresh_token: /);
      });
    });

    describe('GetMe', () => {
      let person: { username: string; email: string; password: string; id: string };
      let accessToken: string;
      let sessionId: string;
      before(async function () {
        if (t === undefined) this.skip();
        person = await signedUp('Me');
        accessToken = (await client.signIn({ login: person.username, password: person.password })).tokens?.accessToken ?? '';
        sessionId = decodeJwt(accessToken)['sid'] as string;
      });

      it('returns the profile of the bearer of a valid access token', async () => {
        const { user } = await client.getMe(bearer(accessToken));
        expect(user).to.deep.include({ id: person.id, username: person.username, email: person.email.toLowerCase(), roles: [auth.Role.ROLE_TRADER] });
        const lowerCaseScheme = new grpc.Metadata();
        lowerCaseScheme.set('authorization', `bearer ${accessToken}`);
        await client.getMe(lowerCaseScheme);
      });

      it('answers UNAUTHENTICATED without a bearer token', async () => {
        await expectStatus(client.getMe(), status.UNAUTHENTICATED, /^authorization: /);
        const basic = new grpc.Metadata();
        basic.set('authorization', 'Basic dXNlcjpwYXNz');
        await expectStatus(client.getMe(basic), status.UNAUTHENTICATED, /^authorization: /);
      });

      it('answers UNAUTHENTICATED for garbage', async () => {
        for (const garbage of ['garbage', 'a.b.c', `${accessToken}x`, 'x'.repeat(9000)]) {
          await expectStatus(client.getMe(bearer(garbage)), status.UNAUTHENTICATED, /^authorization: /);
        }
      });

      it('answers UNAUTHENTICATED for an expired token signed with its own key', async () => {
        const key = await serviceSigningKey(t);
        const expired = await mint(key, {
          iss: t.config.issuer,
          aud: t.config.audience,
          sub: person.id,
          sid: sessionId,
          jti: 'j',
          roles: ['trader'],
          iat: nowSeconds() - 2000,
          nbf: nowSeconds() - 2000,
          exp: nowSeconds() - 1000,
        });
        await expectStatus(client.getMe(bearer(expired)), status.UNAUTHENTICATED, /^authorization: token has expired$/);
      });

      it('answers UNAUTHENTICATED for forged tokens', async () => {
        const { kid } = await serviceSigningKey(t);
        const claims = { iss: t.config.issuer, aud: t.config.audience, sub: person.id, sid: sessionId, jti: 'j', roles: ['admin'], iat: nowSeconds(), exp: nowSeconds() + 600 };
        const impostor = { kid, key: generateKeyPairSync('ed25519').privateKey };
        await expectStatus(client.getMe(bearer(await mint(impostor, claims))), status.UNAUTHENTICATED, /signature is invalid/);

        const { keys } = await client.getPublicKeys();
        const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(Buffer.from(keys[0]?.x ?? '', 'base64url'));
        await expectStatus(client.getMe(bearer(hs256)), status.UNAUTHENTICATED, /algorithm/);

        const [header, , signature] = accessToken.split('.');
        const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(accessToken), roles: ['admin'] })).toString('base64url')}.${signature}`;
        await expectStatus(client.getMe(bearer(tampered)), status.UNAUTHENTICATED, /signature is invalid/);

        const otherAudience = await mint(await serviceSigningKey(t), { ...claims, aud: 'someone-else' });
        await expectStatus(client.getMe(bearer(otherAudience)), status.UNAUTHENTICATED, /aud/);
      });

      it('answers UNAUTHENTICATED for a valid signature over a session that does not exist, or is another user\'s', async () => {
        const claims = { iss: t.config.issuer, aud: t.config.audience, jti: 'j', roles: ['trader'], iat: nowSeconds(), exp: nowSeconds() + 60 };
        const key = await serviceSigningKey(t);
        const noSession = await mint(key, { ...claims, sub: person.id, sid: '00000000-0000-4000-8000-000000000000' });
        await expectStatus(client.getMe(bearer(noSession)), status.UNAUTHENTICATED, /revoked/);
        const someoneElses = await mint(key, { ...claims, sub: '00000000-0000-4000-8000-000000000000', sid: sessionId });
        await expectStatus(client.getMe(bearer(someoneElses)), status.UNAUTHENTICATED, /revoked/);
        const noSid = await mint(key, { ...claims, sub: person.id });
        await expectStatus(client.getMe(bearer(noSid)), status.UNAUTHENTICATED, /sid/);
      });
    });

    describe('GetPublicKeys', () => {
      it('publishes the current Ed25519 key as a JWK with the issuer and audience', async () => {
        const response = await client.getPublicKeys();
        expect(response.issuer).to.equal(t.config.issuer);
        expect(response.audience).to.equal(t.config.audience);
        expect(response.keys).to.have.length(1);
        const [key] = response.keys;
        expect(key).to.deep.include({ kty: 'OKP', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', n: '', e: '' });
        expect(key?.x).to.match(/^[A-Za-z0-9_-]{43}$/);
        expect(key?.kid).to.equal(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: key?.x ?? '' }));
      });

      it('publishes keys that verify issued tokens with a standard JOSE library', async () => {
        const person = await signedUp();
        const token = (await client.signIn({ login: person.username, password: person.password })).tokens?.accessToken ?? '';
        const [jwk] = (await client.getPublicKeys()).keys;
        const publicKey = await importJWK({ kty: jwk?.kty, crv: jwk?.crv, x: jwk?.x }, 'EdDSA');
        const { payload } = await jwtVerify(token, publicKey, { issuer: t.config.issuer, audience: t.config.audience });
        expect(payload.sub).to.equal(person.id);
      });

      it('is what createJwksVerifier needs to verify tokens', async () => {
        const person = await signedUp();
        const { tokens } = await client.signIn({ login: person.username, password: person.password });
        const verifier = createJwksVerifier({ authAddress: t.server.address, issuer: t.server.issuer, audience: t.server.audience });
        try {
          const identity = await verifier.verify(tokens?.accessToken ?? '');
          const claims = decodeJwt(tokens?.accessToken ?? '');
          expect(identity).to.deep.equal({
            userId: person.id,
            sessionId: claims['sid'],
            roles: ['trader'],
            tokenId: claims.jti,
            issuedAt: (claims.iat ?? 0) * 1000,
            expiresAt: Number(tokens?.accessTokenExpiresAtUnixMs),
          });
        } finally {
          verifier.close();
        }
      });
    });
  });
}

for (const backend of BACKENDS) {
  describe(`RefreshToken after the grace period (${backend})`, function () {
    let t: TestServer;
    before(async function () {
      const started = await startTestServer(backend, { AUTH_REFRESH_REUSE_GRACE_SECONDS: '1' });
      if (started === undefined) this.skip();
      t = started;
    });
    after(async () => t?.close());

    it('treats a retry after the grace period as theft: UNAUTHENTICATED, and the session is revoked', async () => {
      const { tokens } = await signIn(t.client);
      const successor = (await t.client.refreshToken(tokens.refreshToken)).tokens;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expectStatus(t.client.refreshToken(tokens.refreshToken), status.UNAUTHENTICATED, /^refresh_token: already used; its session has been revoked$/);
      await expectStatus(t.client.refreshToken(successor?.refreshToken ?? ''), status.UNAUTHENTICATED, /^refresh_token: invalid, expired or revoked$/);
      await expectStatus(t.client.getMe(bearer(successor?.accessToken ?? '')), status.UNAUTHENTICATED, /revoked/);
    });
  });
}
