import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { auth } from '@orderbook/proto';
import { BACKENDS, bearer, expectStatus, signedIn, signedUp, startTestServer, type SignedIn, type TestServer } from './helpers';

const { status } = grpc;
const { AuditEventKind: Kind } = auth;

for (const backend of BACKENDS) {
  describe(`admin operations (${backend})`, function () {
    let t: TestServer;
    let admin: grpc.Metadata;
    let adminId: string;

    before(async function () {
      const started = await startTestServer(backend, { AUTH_ADMIN_USERNAME: 'boss', AUTH_ADMIN_EMAIL: 'boss@example.com', AUTH_ADMIN_PASSWORD: 'boss password 1' });
      if (started === undefined) this.skip();
      t = started;
      const { tokens, user } = await t.client.signIn({ login: 'boss', password: 'boss password 1' });
      admin = bearer(tokens?.accessToken ?? '');
      adminId = user?.id ?? '';
    });
    after(async () => t?.close());

    describe('LookupUser', () => {
      it('finds a user by username (any case) or email', async () => {
        const person = await signedUp(t.client, 'Findme');
        expect((await t.client.lookupUser(person.username.toUpperCase(), admin)).user).to.deep.include({ id: person.id, username: person.username, roles: [auth.Role.ROLE_TRADER] });
        expect((await t.client.lookupUser(person.email, admin)).user?.id).to.equal(person.id);
      });

      it('answers NOT_FOUND for nobody, INVALID_ARGUMENT for no login, PERMISSION_DENIED for a trader, UNAUTHENTICATED without a token', async () => {
        await expectStatus(t.client.lookupUser('nobody-at-all', admin), status.NOT_FOUND, /^login: no such user$/);
        await expectStatus(t.client.lookupUser('', admin), status.INVALID_ARGUMENT, /^login: /);
        const trader = await signedIn(t.client);
        await expectStatus(t.client.lookupUser(trader.username, trader.metadata), status.PERMISSION_DENIED, /admin role/);
        await expectStatus(t.client.lookupUser(trader.username, new grpc.Metadata()), status.UNAUTHENTICATED);
      });
    });

    describe('SetUserRoles', () => {
      it("replaces a user's roles and revokes every session of that user, so no token keeps the old roles", async () => {
        const person = await signedIn(t.client);
        const promoted = await t.client.setUserRoles({ userId: person.id, roles: [auth.Role.ROLE_ADMIN, auth.Role.ROLE_TRADER] }, admin);
        expect(promoted.user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
        expect(promoted.sessionsRevoked).to.equal(1);
        await expectStatus(t.client.getMe(person.metadata), status.UNAUTHENTICATED, /revoked/);
        const again = await signedIn(t.client, person);
        expect(decodeJwt(again.tokens.accessToken)['roles']).to.deep.equal(['trader', 'admin']);

        const demoted = await t.client.setUserRoles({ userId: person.id, roles: [auth.Role.ROLE_TRADER] }, admin);
        expect(demoted.sessionsRevoked).to.equal(1);
        await expectStatus(t.client.lookupUser('boss', again.metadata), status.UNAUTHENTICATED, /revoked/);
      });

      it('refuses changing its own roles, unknown users, no or unknown roles, and non-admins', async () => {
        const person = await signedIn(t.client);
        await expectStatus(t.client.setUserRoles({ userId: adminId, roles: [auth.Role.ROLE_TRADER] }, admin), status.FAILED_PRECONDITION, /^user_id: admins cannot change their own roles/);
        await expectStatus(t.client.setUserRoles({ userId: '00000000-0000-4000-8000-000000000000', roles: [auth.Role.ROLE_TRADER] }, admin), status.NOT_FOUND, /^user_id: /);
        await expectStatus(t.client.setUserRoles({ userId: 'nope', roles: [auth.Role.ROLE_TRADER] }, admin), status.INVALID_ARGUMENT, /^user_id: /);
        await expectStatus(t.client.setUserRoles({ userId: person.id, roles: [] }, admin), status.INVALID_ARGUMENT, /^roles: /);
        await expectStatus(t.client.setUserRoles({ userId: person.id, roles: [auth.Role.ROLE_UNSPECIFIED] }, admin), status.INVALID_ARGUMENT, /^roles: /);
        await expectStatus(t.client.setUserRoles({ userId: person.id, roles: [auth.Role.ROLE_ADMIN] }, person.metadata), status.PERMISSION_DENIED);
        await t.client.getMe(person.metadata);
      });
    });

    describe('ListAuditEvents', () => {
      let subject: SignedIn;
      before(async function () {
        if (t === undefined) this.skip();
        subject = await signedIn(t.client);
        await expectStatus(t.client.signIn({ login: subject.username, password: 'wrong password' }), status.UNAUTHENTICATED);
        await expectStatus(t.client.signIn({ login: 'ghost-login', password: 'wrong password' }), status.UNAUTHENTICATED);
        await t.client.changePassword({ currentPassword: subject.password, newPassword: 'another long password' }, subject.metadata);
        await t.client.signOutEverywhere(subject.metadata);
        await t.client.lookupUser(subject.username, admin);
      });

      it("records one user's security events, with actor, peer and time, newest first", async () => {
        const started = Date.now();
        const { events } = await t.client.listAuditEvents({ userId: subject.id }, admin);
        expect(events.map((event) => event.kind)).to.deep.equal([
          Kind.AUDIT_EVENT_KIND_USER_LOOKED_UP,
          Kind.AUDIT_EVENT_KIND_SIGNED_OUT_EVERYWHERE,
          Kind.AUDIT_EVENT_KIND_PASSWORD_CHANGED,
          Kind.AUDIT_EVENT_KIND_SIGN_IN_FAILED,
          Kind.AUDIT_EVENT_KIND_SIGN_IN_SUCCEEDED,
          Kind.AUDIT_EVENT_KIND_SIGN_UP,
        ]);
        expect(events[0]).to.deep.include({ actorUserId: adminId, subjectUserId: subject.id, peer: '127.0.0.1' });
        expect(events[1]).to.deep.include({ actorUserId: subject.id, detail: '1 session revoked' });
        expect(events[3]).to.deep.include({ actorUserId: '', detail: 'wrong password' });
        expect(Number(events[0]?.atUnixMs)).to.be.at.most(started);
        const sequences = events.map((event) => event.sequence);
        expect(sequences).to.deep.equal([...sequences].sort((a, b) => (a > b ? -1 : 1)));
      });

      it('records failed sign-ins of unknown logins without naming them (a mistyped password may be in the login field)', async () => {
        const { events } = await t.client.listAuditEvents({ pageSize: 500 }, admin);
        const unknown = events.filter((event) => event.kind === Kind.AUDIT_EVENT_KIND_SIGN_IN_FAILED && event.subjectUserId === '');
        expect(unknown.length).to.be.greaterThan(0);
        expect(JSON.stringify(unknown, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).to.not.include('ghost-login');
        expect(events.find((event) => event.kind === Kind.AUDIT_EVENT_KIND_ADMIN_BOOTSTRAP)?.detail).to.equal('created');
      });

      it('pages through everything without gaps or repeats', async () => {
        const all = (await t.client.listAuditEvents({ pageSize: 500 }, admin)).events.map((event) => event.sequence);
        const paged: bigint[] = [];
        let pageToken = '';
        do {
          const page = await t.client.listAuditEvents({ pageSize: 3, pageToken }, admin);
          expect(page.events.length).to.be.at.most(3);
          paged.push(...page.events.map((event) => event.sequence));
          pageToken = page.nextPageToken;
        } while (pageToken !== '');
        expect(paged).to.deep.equal(all);
      });

      it('is for admins only and validates its paging', async () => {
        await expectStatus(t.client.listAuditEvents({}, bearer((await signedIn(t.client)).tokens.accessToken)), status.PERMISSION_DENIED);
        await expectStatus(t.client.listAuditEvents({ pageSize: 501 }, admin), status.INVALID_ARGUMENT, /^page_size: /);
        await expectStatus(t.client.listAuditEvents({ pageSize: -1 }, admin), status.INVALID_ARGUMENT, /^page_size: /);
        await expectStatus(t.client.listAuditEvents({ pageToken: 'forged' }, admin), status.INVALID_ARGUMENT, /^page_token: /);
        await expectStatus(t.client.listAuditEvents({ userId: 'x' }, admin), status.INVALID_ARGUMENT, /^user_id: /);
      });
    });
  });
}
