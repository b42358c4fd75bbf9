import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK } from 'jose';
import pino from 'pino';
import { auth } from '@orderbook/proto';
import { ConfigError } from '@orderbook/server-kit';
import { createJwksVerifier } from '@orderbook/token-verifier';
import { startAuthServer, type AuthConfig, type RunningAuthServer } from '../src';
import { KEY_FILE_NAME } from '../src/keys';
import { loadKeys } from '../src/server';
import { AuthClient, bearer, expectStatus, newUser, tempDir, testConfig } from './helpers';

const MAIN = join(__dirname, '..', 'src', 'main.ts');
const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Runs services/auth/src/main.ts as a real process. */
function runMain(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs = (): Array<Record<string, unknown>> =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, exited, logs, stdout: () => stdout, stderr: () => stderr };
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function signedIn(client: AuthClient): Promise<{ id: string; accessToken: string; refreshToken: string; login: string; password: string }> {
  const person = newUser();
  const { user } = await client.signUp(person);
  const { tokens } = await client.signIn({ login: person.username, password: person.password });
  return { id: user?.id ?? '', accessToken: tokens?.accessToken ?? '', refreshToken: tokens?.refreshToken ?? '', login: person.username, password: person.password };
}

describe('auth server lifecycle', () => {
  let dir: { path: string; remove(): Promise<void> };
  let running: Array<{ server: RunningAuthServer; client: AuthClient }>;

  beforeEach(async () => {
    dir = await tempDir();
    running = [];
  });
  afterEach(async () => {
    for (const { server, client } of running) {
      client.close();
      await server.stop();
    }
    await dir.remove();
  });

  async function start(config: AuthConfig): Promise<{ server: RunningAuthServer; client: AuthClient }> {
    const server = await startAuthServer(config);
    const started = { server, client: new AuthClient(server.address) };
    running.push(started);
    return started;
  }

  async function stop(started: { server: RunningAuthServer; client: AuthClient }): Promise<void> {
    running = running.filter((entry) => entry !== started);
    started.client.close();
    await started.server.stop();
  }

  it('reports its address, issuer and audience, and stops idempotently', async () => {
    const started = await start(testConfig(dir.path, { AUTH_ISSUER: 'iss-x', AUTH_AUDIENCE: 'aud-y' }));
    expect(started.server.port).to.be.greaterThan(0);
    expect(started.server.address).to.equal(`127.0.0.1:${started.server.port}`);
    expect(started.server).to.deep.include({ issuer: 'iss-x', audience: 'aud-y' });
    await stop(started);
    await started.server.stop();
    const late = new AuthClient(started.server.address);
    try {
      await expectStatus(late.getPublicKeys(), grpc.status.UNAVAILABLE);
    } finally {
      late.close();
    }
  });

  it('keeps its users and signing key across a restart: old tokens stay valid', async () => {
    const first = await start(testConfig(dir.path));
    const person = await signedIn(first.client);
    const kid = (await first.client.getPublicKeys()).keys[0]?.kid;
    await stop(first);

    const second = await start(testConfig(dir.path));
    expect((await second.client.getPublicKeys()).keys.map((key) => key.kid)).to.deep.equal([kid]);
    expect((await second.client.getMe(bearer(person.accessToken))).user?.id).to.equal(person.id);
    await second.client.refreshToken(person.refreshToken);
    await second.client.signIn({ login: person.login, password: person.password });
  });

  it('rotates the key at start once it is AUTH_KEY_ROTATION_DAYS old; tokens of the old key stay verifiable', async () => {
    const first = await start(testConfig(dir.path, { AUTH_KEY_ROTATION_DAYS: '30' }));
    const person = await signedIn(first.client);
    const oldKid = (await first.client.getPublicKeys()).keys[0]?.kid;
    await stop(first);

    const file = join(dir.path, KEY_FILE_NAME);
    const state = JSON.parse(await readFile(file, 'utf8')) as { keys: Array<{ createdAtMs: number }> };
    for (const key of state.keys) key.createdAtMs -= 31 * 86_400_000;
    await writeFile(file, JSON.stringify(state));

    const second = await start(testConfig(dir.path, { AUTH_KEY_ROTATION_DAYS: '30' }));
    const kids = (await second.client.getPublicKeys()).keys.map((key) => key.kid);
    expect(kids).to.have.length(2);
    expect(kids[1]).to.equal(oldKid);
    const fresh = await signedIn(second.client);
    expect(decodeProtectedHeader(fresh.accessToken).kid).to.equal(kids[0]);

    await second.client.getMe(bearer(person.accessToken));
    const verifier = createJwksVerifier({ authAddress: second.server.address, issuer: second.server.issuer, audience: second.server.audience });
    try {
      expect((await verifier.verify(person.accessToken)).userId).to.equal(person.id);
      expect((await verifier.verify(fresh.accessToken)).userId).to.equal(fresh.id);
    } finally {
      verifier.close();
    }
  });

  it('drops a rotated-out key once its tokens have expired', async () => {
    const config = testConfig(dir.path);
    const first = await start(config);
    const person = await signedIn(first.client);
    await stop(first);
    // Rotated two hours ago; tokens live 15 minutes.
    await (await loadKeys(config, pino({ level: 'silent' }))).rotate(Date.now() - 7_200_000);

    const second = await start(config);
    expect((await second.client.getPublicKeys()).keys).to.have.length(1);
    await expectStatus(second.client.getMe(bearer(person.accessToken)), grpc.status.UNAUTHENTICATED, /unknown key/);
  });

  it('signs with AUTH_SIGNING_KEY_FILE and publishes AUTH_PREVIOUS_SIGNING_KEY_FILES', async () => {
    const current = generateKeyPairSync('ed25519');
    const previous = generateKeyPairSync('ed25519');
    const currentFile = join(dir.path, 'current.pem');
    const previousFile = join(dir.path, 'previous.pub.pem');
    await writeFile(currentFile, current.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(previousFile, previous.publicKey.export({ type: 'spki', format: 'pem' }));
    const { client } = await start(testConfig(join(dir.path, 'data'), { AUTH_SIGNING_KEY_FILE: currentFile, AUTH_PREVIOUS_SIGNING_KEY_FILES: previousFile }));
    const thumbprint = async (key: typeof current.publicKey): Promise<string> =>
      calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: (await exportJWK(key)).x ?? '' });
    expect((await client.getPublicKeys()).keys.map((key) => key.kid)).to.deep.equal([await thumbprint(current.publicKey), await thumbprint(previous.publicKey)]);
    const person = await signedIn(client);
    expect(decodeProtectedHeader(person.accessToken).kid).to.equal(await thumbprint(current.publicKey));
  });

  it('refuses to start with a bad key file', async () => {
    const file = join(dir.path, 'bad.pem');
    await writeFile(file, 'not a key');
    await startAuthServer(testConfig(dir.path, { AUTH_SIGNING_KEY_FILE: file })).then(
      () => expect.fail('started'),
      (err: unknown) => expect(err).to.be.instanceOf(ConfigError),
    );
  });

  describe('admin bootstrap', () => {
    const ADMIN = { AUTH_ADMIN_USERNAME: 'Root', AUTH_ADMIN_EMAIL: 'root@example.com', AUTH_ADMIN_PASSWORD: 'first admin pw' };

    it('creates the admin with the trader and admin roles', async () => {
      const { client } = await start(testConfig(dir.path, ADMIN));
      const { user, tokens } = await client.signIn({ login: 'root', password: 'first admin pw' });
      expect(user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
      const verifier = createJwksVerifier({ authAddress: running[0]?.server.address ?? '', issuer: 'orderbook-auth', audience: 'orderbook' });
      try {
        expect((await verifier.verify(tokens?.accessToken ?? '')).roles).to.deep.equal(['trader', 'admin']);
      } finally {
        verifier.close();
      }
    });

    it('updates the password at the next start and ends the sessions opened with the old one', async () => {
      const first = await start(testConfig(dir.path, ADMIN));
      const { tokens, user } = await first.client.signIn({ login: 'root', password: 'first admin pw' });
      await stop(first);
      const second = await start(testConfig(dir.path, { ...ADMIN, AUTH_ADMIN_PASSWORD: 'second admin pw' }));
      await expectStatus(second.client.signIn({ login: 'root', password: 'first admin pw' }), grpc.status.UNAUTHENTICATED);
      const again = await second.client.signIn({ login: 'root', password: 'second admin pw' });
      expect(again.user?.id).to.equal(user?.id);
      await expectStatus(second.client.refreshToken(tokens?.refreshToken ?? ''), grpc.status.UNAUTHENTICATED);
    });

    it('leaves sessions alone when nothing changed', async () => {
      const first = await start(testConfig(dir.path, ADMIN));
      const { tokens } = await first.client.signIn({ login: 'root', password: 'first admin pw' });
      await stop(first);
      const second = await start(testConfig(dir.path, ADMIN));
      await second.client.refreshToken(tokens?.refreshToken ?? '');
    });

    it('promotes an existing user with the same name and email', async () => {
      const first = await start(testConfig(dir.path));
      await first.client.signUp({ username: 'root', email: 'root@example.com', password: 'trader pw 1' });
      await stop(first);
      const second = await start(testConfig(dir.path, ADMIN));
      const { user } = await second.client.signIn({ login: 'root', password: 'first admin pw' });
      expect(user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
      expect(user?.username).to.equal('root');
    });

    it('refuses to promote a user of that name with another email, or to reuse another user\'s email', async () => {
      const first = await start(testConfig(dir.path));
      await first.client.signUp({ username: 'root', email: 'squatter@example.com', password: 'squatter pw' });
      await first.client.signUp({ username: 'someone', email: 'boss@example.com', password: 'someone pw' });
      await stop(first);
      await startAuthServer(testConfig(dir.path, ADMIN)).then(
        () => expect.fail('started'),
        (err: unknown) => expect((err as Error).message).to.match(/^AUTH_ADMIN_USERNAME: /),
      );
      await startAuthServer(testConfig(dir.path, { ...ADMIN, AUTH_ADMIN_USERNAME: 'boss', AUTH_ADMIN_EMAIL: 'boss@example.com' })).then(
        () => expect.fail('started'),
        (err: unknown) => expect((err as Error).message).to.match(/^AUTH_ADMIN_EMAIL: already used/),
      );
    });
  });

  describe('main.ts', () => {
    it('serves, logs where it listens, and exits 0 on SIGTERM', async () => {
      const main = runMain([], { AUTH_PORT: '0', AUTH_DATA_DIR: dir.path, AUTH_BCRYPT_COST: '4' });
      try {
        const listening = await waitFor(() => main.logs().find((line) => line['msg'] === 'auth service listening'), 'the listening log line');
        const client = new AuthClient(String(listening['address']));
        try {
          expect((await client.getPublicKeys()).keys).to.have.length(1);
          const person = newUser();
          await client.signUp(person);
          await client.signIn({ login: person.username, password: person.password });
          expect(main.stdout()).not.to.include(person.password);
        } finally {
          client.close();
        }
        main.child.kill('SIGTERM');
        expect(await main.exited).to.equal(0);
        expect(main.logs().map((line) => line['msg'])).to.include('auth service stopped');
      } finally {
        main.child.kill('SIGKILL');
      }
    });

    it('exits 2 with the variable named on a configuration error', async () => {
      const main = runMain([], { AUTH_PORT: 'eighty', AUTH_DATA_DIR: dir.path });
      expect(await main.exited).to.equal(2);
      expect(main.stderr()).to.match(/configuration error: AUTH_PORT: expected an integer/);
    });

    it('rotate-keys replaces the generated key and keeps the old one published', async () => {
      const first = await start(testConfig(dir.path));
      const person = await signedIn(first.client);
      const oldKid = (await first.client.getPublicKeys()).keys[0]?.kid;
      await stop(first);

      const rotate = runMain(['rotate-keys'], { AUTH_DATA_DIR: dir.path, LOG_LEVEL: 'silent' });
      expect(await rotate.exited, rotate.stderr()).to.equal(0);

      const second = await start(testConfig(dir.path));
      const kids = (await second.client.getPublicKeys()).keys.map((key) => key.kid);
      expect(kids).to.have.length(2);
      expect(kids[0]).not.to.equal(oldKid);
      expect(kids[1]).to.equal(oldKid);
      await second.client.getMe(bearer(person.accessToken));
    });
  });
});
