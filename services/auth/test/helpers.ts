import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metadata } from '@grpc/grpc-js';
import { importJWK, type JWK } from 'jose';
import pg from 'pg';
import type { auth } from '@orderbook/proto';
import { AuthClient, bearer } from '@orderbook/test-support';
import { loadConfig, startAuthServer, type AuthConfig, type RunningAuthServer } from '../src';
import { Sealer } from '../src/security/sealing';
import { openAuthStore, type AuthStore } from '../src/storage/auth-store';

export { AuthClient, bearer, expectStatus } from '@orderbook/test-support';

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'auth-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** One data key for a test run: instances that share a database share it. */
export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * Test defaults: free port, bcrypt cost 4, silent logs; no sign-up limit and no per-peer delays
 * (every test user signs up and fails from 127.0.0.1): the tests of those limits set them.
 */
export function testConfig(dataDir: string, env: Record<string, string> = {}): AuthConfig {
  return loadConfig({
    AUTH_PORT: '0',
    AUTH_BCRYPT_COST: '4',
    AUTH_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    AUTH_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    AUTH_SIGNUP_MAX_PER_PEER: '1000000',
    AUTH_SIGNUP_MAX_TOTAL: '1000000',
    AUTH_SIGNIN_FREE_FAILURES_PER_PEER: '1000000',
    ...env,
  });
}

/** Redis for the tests that share counters (127.0.0.1:6379, as on the CI machine). */
export const TEST_REDIS_URL = process.env['AUTH_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run uses, so that runs never see each other's counters. */
export function testRedisPrefix(): string {
  return `orderbook-test:${randomBytes(6).toString('hex')}:`;
}


const POSTGRES_URL = process.env['AUTH_TEST_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * The only way to run the suite without PostgreSQL: set to 1, the PostgreSQL suites are skipped
 * (pending) with a warning. `.ci/run` never sets it, so CI always tests the production store.
 */
export const SKIP_POSTGRES_VARIABLE = 'ORDERBOOK_TEST_SKIP_POSTGRES';

export interface PostgresSchema {
  readonly name: string;
  readonly connectionString: string;
  /** DATABASE_URL that selects the schema. */
  readonly databaseUrl: string;
  drop(): Promise<void>;
}

let warnedSkipping = false;

function skippingPostgres(): boolean {
  if (process.env[SKIP_POSTGRES_VARIABLE] !== '1') return false;
  if (!warnedSkipping) {
    warnedSkipping = true;
    console.warn(
      `\n    !!! ${SKIP_POSTGRES_VARIABLE}=1: the PostgreSQL suites are SKIPPED (pending); the auth service's\n` +
        '    !!! production store is not tested in this run. Unset it to test PostgreSQL.\n',
    );
  }
  return true;
}

/**
 * A fresh schema `auth_test_<random>`; undefined only when the PostgreSQL suites are skipped on
 * purpose (SKIP_POSTGRES_VARIABLE). An unreachable server fails the calling hook, saying how to start it.
 */
export async function createPostgresSchema(): Promise<PostgresSchema | undefined> {
  if (skippingPostgres()) return undefined;
  const name = `auth_test_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is unreachable at ${POSTGRES_URL} (${(err as Error).message}). The auth tests need it: ` +
        'start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (.ci/run does), ' +
        `point AUTH_TEST_DATABASE_URL at another server, or skip the PostgreSQL suites on purpose with ${SKIP_POSTGRES_VARIABLE}=1.`,
    );
  }
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    connectionString: POSTGRES_URL,
    databaseUrl: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${name} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export type Backend = 'SQLite' | 'PostgreSQL';
export const BACKENDS: readonly Backend[] = ['SQLite', 'PostgreSQL'];

/** A store on a fresh database; `reopen` opens another store on the same database (a second instance). */
export interface StoreFixture {
  readonly store: AuthStore;
  reopen(): Promise<AuthStore>;
  dispose(): Promise<void>;
}

/** Opens the store on a fresh database of the backend; undefined only when the PostgreSQL suites are skipped on purpose. */
export async function openStoreFixture(backend: Backend, revocationRelevanceMs = 60_000): Promise<StoreFixture | undefined> {
  const schema = backend === 'PostgreSQL' ? await createPostgresSchema() : undefined;
  if (backend === 'PostgreSQL' && schema === undefined) return undefined;
  const dir = await tempDir();
  const open = (): Promise<AuthStore> =>
    openAuthStore({
      dataDir: dir.path,
      revocationRelevanceMs,
      ...(schema === undefined ? {} : { databaseUrl: schema.connectionString, schema: schema.name }),
    });
  const store = await open();
  return {
    store,
    reopen: open,
    dispose: async () => {
      await store.close();
      await schema?.drop();
      await dir.remove();
    },
  };
}

/** A running auth server on a temp data dir and the given backend, with a client; `close` removes everything. */
export interface TestServer {
  readonly server: RunningAuthServer;
  readonly client: AuthClient;
  readonly dataDir: string;
  readonly config: AuthConfig;
  close(): Promise<void>;
}

/** Starts a server; resolves undefined only when the PostgreSQL suites are skipped on purpose (the caller skips). */
export async function startTestServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer | undefined> {
  const schema = backend === 'PostgreSQL' ? await createPostgresSchema() : undefined;
  if (backend === 'PostgreSQL' && schema === undefined) return undefined;
  const dir = await tempDir();
  const config = testConfig(dir.path, { ...(schema === undefined ? {} : { DATABASE_URL: schema.databaseUrl }), ...env });
  const server = await startAuthServer(config);
  const client = new AuthClient(server.address);
  return {
    server,
    client,
    dataDir: dir.path,
    config,
    close: async () => {
      client.close();
      await server.stop();
      await schema?.drop();
      await dir.remove();
    },
  };
}

let counter = 0;
/** A fresh valid sign-up request. */
export function newUser(prefix = 'user'): { username: string; email: string; password: string } {
  counter += 1;
  const id = `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`;
  return { username: id, email: `${id}@example.com`, password: `pw-${id}-secret` };
}

export interface SignedUp {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

export async function signedUp(client: AuthClient, prefix = 'user'): Promise<SignedUp> {
  const request = newUser(prefix);
  const { user } = await client.signUp(request);
  return { ...request, id: user?.id ?? '' };
}

export interface SignedIn extends SignedUp {
  readonly tokens: auth.TokenPair;
  /** `authorization: Bearer <access token>` */
  readonly metadata: Metadata;
}

/** Signs in (a user without a second factor), or signs up a new one first. */
export async function signedIn(client: AuthClient, person?: SignedUp): Promise<SignedIn> {
  const who = person ?? (await signedUp(client));
  const { tokens } = await client.signIn({ login: who.username, password: who.password });
  if (tokens === undefined) throw new Error('SignIn returned no tokens');
  return { ...who, tokens, metadata: bearer(tokens.accessToken) };
}

/** The key the test server signs with (from its store, opened with the test data key): lets tests mint odd tokens. */
export async function serviceSigningKey(t: TestServer): Promise<{ kid: string; key: KeyObject }> {
  const store = await openAuthStore({
    dataDir: t.dataDir,
    revocationRelevanceMs: 1,
    ...(t.config.databaseUrl === undefined ? {} : { databaseUrl: t.config.databaseUrl }),
  });
  try {
    const [stored] = await store.signingKeys.all();
    if (stored === undefined) throw new Error('no signing key stored');
    const jwk = JSON.parse(new Sealer(Buffer.from(TEST_ENCRYPTION_KEY, 'base64')).open(stored.sealedPrivateKey, `signing-key:${stored.kid}`)) as JWK;
    return { kid: stored.kid, key: (await importJWK(jwk, 'EdDSA')) as KeyObject };
  } finally {
    await store.close();
  }
}
