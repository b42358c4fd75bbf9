import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import { loadConfig as loadAuthConfig, startAuthServer, type RunningAuthServer } from '@orderbook/auth-service';
import { loadKeys, openStore } from '@orderbook/auth-service/src/server';
import { createPostgresSchema, type PostgresSchema } from '@orderbook/auth-service/test/helpers';
import { loadConfig as loadMatchingConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';
import { createLogger } from '@orderbook/server-kit';
import { AuthClient, bearer, eventually, expectStatus, MatchingClient } from '@orderbook/test-support';

const REDIS_URL = process.env['AUTH_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const LEAD_SECONDS = 2;

describe('two auth instances sharing PostgreSQL and Redis, one matching', function () {
  this.timeout(60_000);
  let schema: PostgresSchema | undefined;
  let dir: string;
  let env: Record<string, string>;
  let a: RunningAuthServer;
  let b: RunningAuthServer;
  let clientA: AuthClient;
  let clientB: AuthClient;
  let matchingServer: RunningMatchingServer;
  let matchingClient: MatchingClient;

  before(async function () {
    schema = await createPostgresSchema();
    if (schema === undefined) this.skip();
    dir = await mkdtemp(join(tmpdir(), 'orderbook-instances-'));
    env = {
      AUTH_PORT: '0',
      AUTH_BCRYPT_COST: '4',
      LOG_LEVEL: 'silent',
      DATABASE_URL: schema.databaseUrl,
      AUTH_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AUTH_REDIS_URL: REDIS_URL,
      AUTH_REDIS_KEY_PREFIX: `orderbook-test:${randomBytes(6).toString('hex')}:`,
      AUTH_KEY_PUBLISH_LEAD_SECONDS: String(LEAD_SECONDS),
      AUTH_REVOCATION_POLL_MS: '50',
      AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '2',
      AUTH_SIGNIN_BASE_DELAY_MS: '60000',
      AUTH_SIGNUP_MAX_PER_PEER: '1000',
    };
    a = await startAuthServer(loadAuthConfig({ ...env, AUTH_DATA_DIR: join(dir, 'a') }));
    b = await startAuthServer(loadAuthConfig({ ...env, AUTH_DATA_DIR: join(dir, 'b') }));
    clientA = new AuthClient(a.address);
    clientB = new AuthClient(b.address);
    matchingServer = await startMatchingServer(
      loadMatchingConfig({
        MATCHING_PORT: '0',
        MATCHING_METRICS_PORT: '0',
        MATCHING_DATA_DIR: join(dir, 'matching'),
        AUTH_ADDRESS: a.address,
        MATCHING_AUTH_KEY_SET_MAX_AGE_SECONDS: '1',
        LOG_LEVEL: 'silent',
      }),
    );
    matchingClient = new MatchingClient(matchingServer.address);
  });

  after(async () => {
    matchingClient?.close();
    clientA?.close();
    clientB?.close();
    await matchingServer?.stop();
    await a?.stop();
    await b?.stop();
    await schema?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  let counter = 0;
  async function newUser(client: AuthClient): Promise<{ username: string; password: string; id: string }> {
    counter += 1;
    const username = `twin-${counter}-${randomBytes(3).toString('hex')}`;
    const password = `password-${username}`;
    const { user } = await client.signUp({ username, email: `${username}@example.com`, password });
    return { username, password, id: user?.id ?? '' };
  }

  it('serves one set of users and sessions: signed up on one, signed in and refreshed on the other, a retry on the first gets the same pair', async () => {
    const person = await newUser(clientA);
    const { tokens } = await clientB.signIn({ login: person.username, password: person.password });
    const rotated = (await clientA.refreshToken(tokens?.refreshToken ?? '')).tokens;
    const retried = (await clientB.refreshToken(tokens?.refreshToken ?? '')).tokens;
    expect(retried).to.deep.equal(rotated);
    await matchingClient.getBalances(bearer(rotated?.accessToken ?? ''));
  });

  it('counts sign-in failures across both: once the account waits, neither lets even the right password in', async () => {
    const person = await newUser(clientA);
    for (const client of [clientA, clientB, clientA]) {
      await expectStatus(client.signIn({ login: person.username, password: 'a wrong guess' }), grpc.status.UNAUTHENTICATED);
    }
    await expectStatus(clientB.signIn({ login: person.username, password: person.password }), grpc.status.RESOURCE_EXHAUSTED, /too many failed sign-ins/);
    await expectStatus(clientA.signIn({ login: person.username, password: person.password }), grpc.status.RESOURCE_EXHAUSTED, /too many failed sign-ins/);
  });

  it('rotates on one instance: both publish the next key first, both then sign with it, and matching verifies every token throughout', async () => {
    const person = await newUser(clientA);
    const before = (await clientA.signIn({ login: person.username, password: person.password })).tokens?.accessToken ?? '';
    const oldKid = decodeProtectedHeader(before).kid;
    await matchingClient.getBalances(bearer(before));

    // What `main.ts rotate-keys` does, against the shared database.
    const config = loadAuthConfig({ ...env, AUTH_DATA_DIR: join(dir, 'rotate') });
    const logger = createLogger('rotate', 'silent');
    const { store, sealer } = await openStore(config, logger);
    const next = await (await loadKeys(config, store, sealer, logger)).rotate().finally(() => store.close());

    for (const client of [clientA, clientB]) {
      await eventually(async () => ((await client.getPublicKeys()).keys.some((key) => key.kid === next.kid) ? true : undefined), 'the next key to be published');
    }
    const signedWithNext = async (client: AuthClient): Promise<string> =>
      eventually(async () => {
        const token = (await client.signIn({ login: person.username, password: person.password })).tokens?.accessToken ?? '';
        return decodeProtectedHeader(token).kid === next.kid ? token : undefined;
      }, 'a token signed with the next key');
    const fromB = await signedWithNext(clientB);
    const fromA = await signedWithNext(clientA);
    // matching fetches keys from A only: tokens of both instances verify, old and new.
    for (const token of [fromB, fromA, before]) await matchingClient.getBalances(bearer(token));
    expect(oldKid).to.not.equal(next.kid);
  });

  it('revokes on one instance and matching (watching the other) refuses at once', async () => {
    const person = await newUser(clientA);
    const { tokens } = await clientA.signIn({ login: person.username, password: person.password });
    const metadata = bearer(tokens?.accessToken ?? '');
    await matchingClient.getBalances(metadata);
    await clientB.signOutEverywhere(metadata);
    await eventually(
      () =>
        matchingClient.getBalances(metadata).then(
          () => undefined,
          (err: grpc.ServiceError) => (err.code === grpc.status.UNAUTHENTICATED ? true : expect.fail(err.details)),
        ),
      'matching to refuse the revoked token',
      5000,
    );
    await expectStatus(clientA.getMe(metadata), grpc.status.UNAUTHENTICATED, /revoked/);
  });
});
