import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { auth } from '@orderbook/proto';
import { openAuthStore } from '../src/storage/auth-store';
import { BACKENDS, bearer, expectStatus, signedIn, startTestServer, type SignedIn, type TestServer } from './helpers';

const { status } = grpc;

/** The TOTP code of the step `steps` away from now (the service accepts one step either side). */
function codeAt(secret: string, steps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

interface Enrolled extends SignedIn {
  readonly secret: string;
  readonly recoveryCodes: readonly string[];
}

/** Signs a new user in and enrols TOTP; the current step's code is spent by the confirmation. */
async function enrolled(t: TestServer): Promise<Enrolled> {
  const person = await signedIn(t.client);
  const { secret } = await t.client.beginTotpEnrollment(person.password, person.metadata);
  const { recoveryCodes } = await t.client.confirmTotpEnrollment(await codeAt(secret), person.metadata);
  return { ...person, secret, recoveryCodes };
}

/** The first step of a sign-in of an enrolled user: the ticket. */
async function ticketOf(t: TestServer, person: Enrolled): Promise<string> {
  const first = await t.client.signIn({ login: person.username, password: person.password });
  expect(first).to.deep.include({ secondFactorRequired: true, tokens: undefined, user: undefined });
  return first.secondFactorTicket;
}

for (const backend of BACKENDS) {
  describe(`TOTP second factor (${backend})`, function () {
    let t: TestServer;

    before(async function () {
      const started = await startTestServer(backend, { AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '3', AUTH_SIGNIN_BASE_DELAY_MS: '60000' });
      if (started === undefined) this.skip();
      t = started;
    });
    after(async () => t?.close());

    it('enrols: the current password starts it, a code activates it, ten recovery codes come back once', async () => {
      const person = await signedIn(t.client);
      await expectStatus(t.client.beginTotpEnrollment('not my password', person.metadata), status.UNAUTHENTICATED, /^current_password: incorrect$/);
      const begun = await t.client.beginTotpEnrollment(person.password, person.metadata);
      expect(begun).to.deep.include({ digits: 6, periodSeconds: 30, algorithm: 'SHA1' });
      expect(begun.secret).to.match(/^[A-Z2-7]{32}$/);
      expect(begun.otpauthUri).to.equal(`otpauth://totp/orderbook-auth:${person.username}?secret=${begun.secret}&issuer=orderbook-auth`);
      expect((await t.client.getMe(person.metadata)).user?.totpEnabled, 'pending until confirmed').to.equal(false);
      await expectStatus(t.client.confirmTotpEnrollment('000000', person.metadata), status.UNAUTHENTICATED, /^code: incorrect/);
      const { recoveryCodes } = await t.client.confirmTotpEnrollment(await codeAt(begun.secret), person.metadata);
      expect(recoveryCodes).to.have.length(10);
      for (const code of recoveryCodes) expect(code).to.match(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
      expect((await t.client.getMe(person.metadata)).user?.totpEnabled).to.equal(true);
      await expectStatus(t.client.beginTotpEnrollment(person.password, person.metadata), status.FAILED_PRECONDITION, /already active/);
      await expectStatus(t.client.confirmTotpEnrollment(await codeAt(begun.secret, 1), person.metadata), status.FAILED_PRECONDITION, /no TOTP enrolment is pending/);
    });

    it('keeps the secret sealed at rest and the recovery codes hashed', async () => {
      const person = await enrolled(t);
      const store = await openAuthStore({ dataDir: t.dataDir, revocationRelevanceMs: 1, ...(t.config.databaseUrl === undefined ? {} : { databaseUrl: t.config.databaseUrl }) });
      try {
        const rows = await store.db.all<Record<string, unknown>>('SELECT * FROM totp_factors WHERE user_id = $1', [person.id]);
        const codes = await store.db.all<Record<string, unknown>>('SELECT * FROM recovery_codes WHERE user_id = $1', [person.id]);
        const stored = JSON.stringify([rows, codes]);
        expect(stored).to.not.include(person.secret);
        for (const code of person.recoveryCodes) expect(stored).to.not.include(code).and.not.include(code.replace('-', ''));
        expect(codes).to.have.length(10);
      } finally {
        await store.close();
      }
    });

    it('signs in in two steps: the password gives a ticket, a current code gives tokens marked with the second factor', async () => {
      const person = await enrolled(t);
      const ticket = await ticketOf(t, person);
      const { tokens, user } = await t.client.completeSignIn({ ticket, code: await codeAt(person.secret, 1) });
      expect(user?.id).to.equal(person.id);
      expect(user?.totpEnabled).to.equal(true);
      expect(decodeJwt(tokens?.accessToken ?? '')['amr']).to.deep.equal(['pwd', 'otp']);
      const { sessions } = await t.client.listSessions(bearer(tokens?.accessToken ?? ''));
      expect(sessions.find((s) => s.current)?.secondFactor).to.equal(true);
    });

    it('refuses a wrong code, and a replayed one within its window', async () => {
      const person = await enrolled(t);
      const ticket = await ticketOf(t, person);
      await expectStatus(t.client.completeSignIn({ ticket, code: '123456' === (await codeAt(person.secret, 1)) ? '654321' : '123456' }), status.UNAUTHENTICATED, /^code: incorrect, already used or expired$/);
      const code = await codeAt(person.secret, 1);
      await t.client.completeSignIn({ ticket, code });
      await expectStatus(t.client.completeSignIn({ ticket, code }), status.UNAUTHENTICATED, /^code: /);
      // The confirmation's code (the current step) is older than the one just used: refused as well.
      await expectStatus(t.client.completeSignIn({ ticket: await ticketOf(t, person), code: await codeAt(person.secret) }), status.UNAUTHENTICATED, /^code: /);
    });

    it('takes each recovery code once, in any case and with or without its dash', async () => {
      const person = await enrolled(t);
      const [first, second] = person.recoveryCodes;
      await t.client.completeSignIn({ ticket: await ticketOf(t, person), code: first!.toUpperCase() });
      await expectStatus(t.client.completeSignIn({ ticket: await ticketOf(t, person), code: first! }), status.UNAUTHENTICATED, /^code: /);
      await t.client.completeSignIn({ ticket: await ticketOf(t, person), code: second!.replace('-', '') });
    });

    it('refuses forged, altered and garbage tickets; validates the code', async () => {
      const person = await enrolled(t);
      const ticket = await ticketOf(t, person);
      const code = await codeAt(person.secret, 1);
      const altered = `${ticket.slice(0, -2)}${ticket.endsWith('AA') ? 'BB' : 'AA'}`;
      for (const bad of [altered, 'v1.garbage', '', 'x'.repeat(5000)]) {
        await expectStatus(t.client.completeSignIn({ ticket: bad, code }), status.UNAUTHENTICATED, /^ticket: /);
      }
      for (const bad of ['', '12345', '1234567', 'abc', 'x'.repeat(100)]) {
        await expectStatus(t.client.completeSignIn({ ticket, code: bad }), status.INVALID_ARGUMENT, /^code: /);
      }
    });

    it('counts wrong codes as failed sign-ins of the account: after the free failures it waits, even with a right code', async () => {
      const person = await enrolled(t);
      const ticket = await ticketOf(t, person);
      for (let i = 0; i < 4; i += 1) await expectStatus(t.client.completeSignIn({ ticket, code: i % 2 ? '111111' : '222222' }), status.UNAUTHENTICATED);
      await expectStatus(t.client.completeSignIn({ ticket, code: await codeAt(person.secret, 1) }), status.RESOURCE_EXHAUSTED, /too many failed sign-ins/);
      // A new sign-in does not reset the count: only a complete one would.
      await expectStatus(t.client.signIn({ login: person.username, password: person.password }), status.RESOURCE_EXHAUSTED);
    });

    it('disables with the password and a code; then sign-in is one step again', async () => {
      const person = await enrolled(t);
      await expectStatus(t.client.disableTotp({ currentPassword: person.password, code: '000000' }, person.metadata), status.UNAUTHENTICATED, /^code: /);
      await t.client.disableTotp({ currentPassword: person.password, code: person.recoveryCodes[0]! }, person.metadata);
      const { tokens, secondFactorRequired } = await t.client.signIn({ login: person.username, password: person.password });
      expect(secondFactorRequired).to.equal(false);
      expect(tokens?.accessToken).to.be.a('string').and.not.equal('');
      await expectStatus(t.client.disableTotp({ currentPassword: person.password, code: '000000' }, person.metadata), status.FAILED_PRECONDITION, /no TOTP/);
    });
  });

  describe(`admins required to use a second factor (${backend})`, function () {
    let t: TestServer;
    const ADMIN = { AUTH_ADMIN_USERNAME: 'boss', AUTH_ADMIN_EMAIL: 'boss@example.com', AUTH_ADMIN_PASSWORD: 'boss password 1' };

    before(async function () {
      const started = await startTestServer(backend, { ...ADMIN, AUTH_REQUIRE_TOTP_FOR_ADMINS: 'true' });
      if (started === undefined) this.skip();
      t = started;
    });
    after(async () => t?.close());

    it('gives an admin without a second factor a trader token only, and the admin role once signed in with one', async () => {
      const plain = await t.client.signIn({ login: 'boss', password: 'boss password 1' });
      expect(plain.user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
      expect(decodeJwt(plain.tokens?.accessToken ?? '')['roles']).to.deep.equal(['trader']);
      const metadata = bearer(plain.tokens?.accessToken ?? '');
      await expectStatus(t.client.lookupUser('boss', metadata), status.PERMISSION_DENIED, /admin role/);
      // A refresh of that session does not upgrade it either.
      const refreshed = (await t.client.refreshToken(plain.tokens?.refreshToken ?? '')).tokens;
      expect(decodeJwt(refreshed?.accessToken ?? '')['roles']).to.deep.equal(['trader']);

      const { secret } = await t.client.beginTotpEnrollment('boss password 1', metadata);
      await t.client.confirmTotpEnrollment(await codeAt(secret), metadata);
      const first = await t.client.signIn({ login: 'boss', password: 'boss password 1' });
      const { tokens } = await t.client.completeSignIn({ ticket: first.secondFactorTicket, code: await codeAt(secret, 1) });
      expect(decodeJwt(tokens?.accessToken ?? '')['roles']).to.deep.equal(['trader', 'admin']);
      await t.client.lookupUser('boss', bearer(tokens?.accessToken ?? ''));
      await expectStatus(
        t.client.disableTotp({ currentPassword: 'boss password 1', code: await codeAt(secret, -1) }, bearer(tokens?.accessToken ?? '')),
        status.FAILED_PRECONDITION,
        /admins must keep a second factor/,
      );
    });
  });
}
