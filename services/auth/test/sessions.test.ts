import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { AuthClient, BACKENDS, bearer, expectStatus, signedIn, signedUp, startTestServer, type TestServer } from './helpers';

const { status } = grpc;

for (const backend of BACKENDS) {
  describe(`sessions the user controls (${backend})`, function () {
    let t: TestServer;

    before(async function () {
      const started = await startTestServer(backend);
      if (started === undefined) this.skip();
      t = started;
    });
    after(async () => t?.close());

    it('lists the live sessions newest first, marking the calling one, with peer and client', async () => {
      const person = await signedUp(t.client);
      const phoneClient = new AuthClient(t.server.address, { 'grpc.primary_user_agent': 'orderbook-test-phone/1.0' });
      const phone = await phoneClient.signIn({ login: person.username, password: person.password }).finally(() => phoneClient.close());
      const laptop = await signedIn(t.client, person);
      const { sessions } = await t.client.listSessions(laptop.metadata);
      expect(sessions.map((s) => s.sessionId)).to.deep.equal([decodeJwt(laptop.tokens.accessToken)['sid'], decodeJwt(phone.tokens?.accessToken ?? '')['sid']]);
      expect(sessions.map((s) => s.current)).to.deep.equal([true, false]);
      expect(sessions[1]).to.deep.include({ peer: '127.0.0.1', secondFactor: false });
      expect(sessions[1]?.userAgent).to.match(/^orderbook-test-phone\/1\.0/);
      expect(Number(sessions[0]?.expiresAtUnixMs)).to.be.greaterThan(Number(sessions[0]?.lastUsedAtUnixMs));
    });

    it("shows last use: a refresh moves it, and the refreshed session keeps its id", async () => {
      const person = await signedIn(t.client);
      const before = (await t.client.listSessions(person.metadata)).sessions[0];
      await new Promise((resolve) => setTimeout(resolve, 5));
      const refreshed = (await t.client.refreshToken(person.tokens.refreshToken)).tokens;
      const after = (await t.client.listSessions(bearer(refreshed?.accessToken ?? ''))).sessions;
      expect(after).to.have.length(1);
      expect(after[0]?.sessionId).to.equal(before?.sessionId);
      expect(Number(after[0]?.lastUsedAtUnixMs)).to.be.greaterThan(Number(before?.lastUsedAtUnixMs));
    });

    it('revokes one own session: its tokens stop working, the others go on', async () => {
      const person = await signedUp(t.client);
      const first = await signedIn(t.client, person);
      const second = await signedIn(t.client, person);
      await t.client.revokeSession(String(decodeJwt(first.tokens.accessToken)['sid']), second.metadata);
      await expectStatus(t.client.getMe(first.metadata), status.UNAUTHENTICATED, /revoked/);
      await expectStatus(t.client.refreshToken(first.tokens.refreshToken), status.UNAUTHENTICATED);
      await t.client.getMe(second.metadata);
      expect((await t.client.listSessions(second.metadata)).sessions).to.have.length(1);
    });

    it("answers NOT_FOUND for another user's session or an ended one, INVALID_ARGUMENT for a malformed id", async () => {
      const mine = await signedIn(t.client);
      const theirs = await signedIn(t.client);
      const theirSession = String(decodeJwt(theirs.tokens.accessToken)['sid']);
      await expectStatus(t.client.revokeSession(theirSession, mine.metadata), status.NOT_FOUND, /^session_id: /);
      await t.client.getMe(theirs.metadata);
      const spare = await signedIn(t.client, mine);
      await t.client.revokeSession(String(decodeJwt(spare.tokens.accessToken)['sid']), mine.metadata);
      await expectStatus(t.client.revokeSession(String(decodeJwt(spare.tokens.accessToken)['sid']), mine.metadata), status.NOT_FOUND, /^session_id: /);
      await expectStatus(t.client.revokeSession('not-an-id', mine.metadata), status.INVALID_ARGUMENT, /^session_id: /);
      await expectStatus(t.client.revokeSession(theirSession, new grpc.Metadata()), status.UNAUTHENTICATED, /^authorization: /);
    });

    it('signs out everywhere: every session ends, the calling one too', async () => {
      const person = await signedUp(t.client);
      const sessions = [await signedIn(t.client, person), await signedIn(t.client, person), await signedIn(t.client, person)];
      const { sessionsRevoked } = await t.client.signOutEverywhere(sessions[1]!.metadata);
      expect(sessionsRevoked).to.equal(3);
      for (const session of sessions) {
        await expectStatus(t.client.getMe(session.metadata), status.UNAUTHENTICATED, /revoked/);
        await expectStatus(t.client.refreshToken(session.tokens.refreshToken), status.UNAUTHENTICATED);
      }
      await signedIn(t.client, person);
    });

    describe('ChangePassword', () => {
      it('needs the current password, sets the new one and revokes every other session', async () => {
        const person = await signedUp(t.client);
        const other = await signedIn(t.client, person);
        const current = await signedIn(t.client, person);
        const { sessionsRevoked } = await t.client.changePassword({ currentPassword: person.password, newPassword: 'a brand new passphrase' }, current.metadata);
        expect(sessionsRevoked).to.equal(1);
        await expectStatus(t.client.getMe(other.metadata), status.UNAUTHENTICATED, /revoked/);
        await t.client.getMe(current.metadata);
        await t.client.refreshToken(current.tokens.refreshToken);
        await expectStatus(t.client.signIn({ login: person.username, password: person.password }), status.UNAUTHENTICATED);
        await t.client.signIn({ login: person.username, password: 'a brand new passphrase' });
      });

      it('refuses a wrong current password (UNAUTHENTICATED), and a new one that breaks the rules or does not change (INVALID_ARGUMENT)', async () => {
        const person = await signedIn(t.client);
        await expectStatus(t.client.changePassword({ currentPassword: 'not my password', newPassword: 'a brand new passphrase' }, person.metadata), status.UNAUTHENTICATED, /^current_password: incorrect$/);
        await expectStatus(t.client.changePassword({ currentPassword: person.password, newPassword: 'short' }, person.metadata), status.INVALID_ARGUMENT, /^new_password: /);
        await expectStatus(t.client.changePassword({ currentPassword: person.password, newPassword: 'password1234' }, person.metadata), status.INVALID_ARGUMENT, /^new_password: is on the list/);
        await expectStatus(t.client.changePassword({ currentPassword: person.password, newPassword: person.email.toUpperCase() }, person.metadata), status.INVALID_ARGUMENT, /^new_password: must not be the username/);
        await expectStatus(t.client.changePassword({ currentPassword: person.password, newPassword: person.password }, person.metadata), status.INVALID_ARGUMENT, /^new_password: must differ/);
        await expectStatus(t.client.changePassword({ currentPassword: person.password, newPassword: 'a brand new passphrase' }, new grpc.Metadata()), status.UNAUTHENTICATED, /^authorization: /);
        await t.client.signIn({ login: person.username, password: person.password });
      });
    });
  });
}
