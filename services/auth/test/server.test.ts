import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK } from 'jose';
import pino from 'pino';
import { auth } from '@orderbook/proto';
import { ConfigError } from '@orderbook/server-kit';
import { createJwksVerifier } from '@orderbook/token-verifier';
import { startAuthServer, type AuthConfig, type RunningAuthServer } from '../src';
import { eventually } from '@orderbook/test-support';
import { AuthClient, bearer, expectStatus, newUser, tempDir, testConfig } from './helpers';

/** A logger that keeps what it logs, to check what start-up says it did. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

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

  async function start(config: AuthConfig, logger?: pino.Logger): Promise<{ server: RunningAuthServer; client: AuthClient }> {
    const server = await startAuthServer(config, logger === undefined ? {} : { logger });
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
    const ADMIN = { AUTH_ADMIN_USERNAME: 'Boss', AUTH_ADMIN_EMAIL: 'boss@example.com', AUTH_ADMIN_PASSWORD: 'first admin pw' };
    const outcomes = (lines: Array<Record<string, unknown>>) => lines.filter((line) => line['outcome'] !== undefined).map((line) => line['outcome']);

    it('creates the admin with the trader and admin roles, and says so', async () => {
      const { logger, lines } = capturingLogger();
      const { client } = await start(testConfig(dir.path, ADMIN), logger);
      expect(outcomes(lines)).to.deep.equal(['created']);
      const { user, tokens } = await client.signIn({ login: 'boss', password: 'first admin pw' });
      expect(user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
      const verifier = createJwksVerifier({ authAddress: running[0]?.server.address ?? '', issuer: 'orderbook-auth', audience: 'orderbook' });
      try {
        expect((await verifier.verify(tokens?.accessToken ?? '')).roles).to.deep.equal(['trader', 'admin']);
      } finally {
        verifier.close();
      }
    });

    it("refuses sign-up of the admin's name and email, and of well-known operator names, with the usual conflict answer", async () => {
      const { client } = await start(testConfig(dir.path, ADMIN));
      for (const request of [
        { ...newUser(), username: 'BOSS' },
        { ...newUser(), email: 'Boss@Example.com' },
        { ...newUser(), username: 'administrator' },
      ]) {
        await expectStatus(client.signUp(request), grpc.status.ALREADY_EXISTS, /^username or email: already taken$/);
      }
    });

    it('updates the password at the next start and ends the sessions opened with the old one', async () => {
      const first = await start(testConfig(dir.path, ADMIN));
      const { tokens, user } = await first.client.signIn({ login: 'boss', password: 'first admin pw' });
      await stop(first);
      const { logger, lines } = capturingLogger();
      const second = await start(testConfig(dir.path, { ...ADMIN, AUTH_ADMIN_PASSWORD: 'second admin pw' }), logger);
      expect(outcomes(lines)).to.deep.equal(['updated']);
      await expectStatus(second.client.signIn({ login: 'boss', password: 'first admin pw' }), grpc.status.UNAUTHENTICATED);
      const again = await second.client.signIn({ login: 'boss', password: 'second admin pw' });
      expect(again.user?.id).to.equal(user?.id);
      await expectStatus(second.client.refreshToken(tokens?.refreshToken ?? ''), grpc.status.UNAUTHENTICATED);
    });

    it('leaves sessions alone when nothing changed', async () => {
      const first = await start(testConfig(dir.path, ADMIN));
      const { tokens } = await first.client.signIn({ login: 'boss', password: 'first admin pw' });
      await stop(first);
      const { logger, lines } = capturingLogger();
      const second = await start(testConfig(dir.path, ADMIN), logger);
      expect(outcomes(lines)).to.deep.equal(['unchanged']);
      await second.client.refreshToken(tokens?.refreshToken ?? '');
    });

    it('keeps managing the admin it created by id, whatever its name: a new AUTH_ADMIN_EMAIL moves it', async () => {
      const first = await start(testConfig(dir.path, ADMIN));
      const id = (await first.client.signIn({ login: 'boss', password: 'first admin pw' })).user?.id;
      await stop(first);
      const second = await start(testConfig(dir.path, { ...ADMIN, AUTH_ADMIN_EMAIL: 'new-boss@example.com' }));
      const { user } = await second.client.signIn({ login: 'new-boss@example.com', password: 'first admin pw' });
      expect(user?.id).to.equal(id);
    });

    it('takes over a user of that name and email (as earlier versions did): the configured password replaces theirs', async () => {
      const first = await start(testConfig(dir.path));
      await first.client.signUp({ username: 'boss', email: 'boss@example.com', password: 'trader pw 123' });
      await stop(first);
      const { logger, lines } = capturingLogger();
      const second = await start(testConfig(dir.path, ADMIN), logger);
      expect(outcomes(lines)).to.deep.equal(['adopted']);
      await expectStatus(second.client.signIn({ login: 'boss', password: 'trader pw 123' }), grpc.status.UNAUTHENTICATED);
      const { user } = await second.client.signIn({ login: 'boss', password: 'first admin pw' });
      expect(user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
    });

    it('starts when a stranger holds the name (or the email): nobody is promoted, and the log says what blocked it and what to do', async () => {
      const first = await start(testConfig(dir.path));
      await first.client.signUp({ username: 'boss', email: 'squatter@example.com', password: 'squatter pw 1' });
      await first.client.signUp({ username: 'someone', email: 'chief@example.com', password: 'someone pw 12' });
      await stop(first);

      const { logger, lines } = capturingLogger();
      const second = await start(testConfig(dir.path, ADMIN), logger);
      const skipped = lines.find((line) => line['outcome'] === 'blocked');
      expect(skipped?.['msg']).to.match(/AUTH_ADMIN_USERNAME "Boss" belongs to another user/).and.match(/Set AUTH_ADMIN_USERNAME and AUTH_ADMIN_EMAIL/);
      const squatter = await second.client.signIn({ login: 'boss', password: 'squatter pw 1' });
      expect(squatter.user?.roles).to.deep.equal([auth.Role.ROLE_TRADER]);
      await stop(second);

      const again = capturingLogger();
      await start(testConfig(dir.path, { ...ADMIN, AUTH_ADMIN_USERNAME: 'chief', AUTH_ADMIN_EMAIL: 'chief@example.com' }), again.logger);
      expect(again.lines.find((line) => line['outcome'] === 'blocked')?.['msg']).to.match(/AUTH_ADMIN_EMAIL belongs to another user/);
    });

    it('then bootstraps under a free name, which nobody can take from then on', async () => {
      const first = await start(testConfig(dir.path));
      await first.client.signUp({ username: 'boss', email: 'squatter@example.com', password: 'squatter pw 1' });
      await stop(first);
      const second = await start(testConfig(dir.path, { ...ADMIN, AUTH_ADMIN_USERNAME: 'boss-2' }));
      const { user } = await second.client.signIn({ login: 'boss-2', password: 'first admin pw' });
      expect(user?.roles).to.deep.equal([auth.Role.ROLE_TRADER, auth.Role.ROLE_ADMIN]);
    });
  });

  describe('main.ts', () => {
    it('serves, logs where it listens, and exits 0 on SIGTERM', async () => {
      const main = runMain([], { AUTH_PORT: '0', AUTH_DATA_DIR: dir.path, AUTH_BCRYPT_COST: '4' });
      try {
        const listening = await eventually(() => main.logs().find((line) => line['msg'] === 'auth service listening'), 'the listening log line');
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

    it('rotate-keys schedules the next shared key while the server runs: published at once, signing after the lead time', async () => {
      const env = { AUTH_KEY_PUBLISH_LEAD_SECONDS: '1' };
      const first = await start(testConfig(dir.path, env));
      const person = await signedIn(first.client);
      const oldKid = (await first.client.getPublicKeys()).keys[0]?.kid;

      const rotate = runMain(['rotate-keys'], { ...env, AUTH_DATA_DIR: dir.path, LOG_LEVEL: 'silent', AUTH_ENCRYPTION_KEY: String(testConfig(dir.path).encryptionKey?.toString('base64')) });
      expect(await rotate.exited, rotate.stderr()).to.equal(0);

      const published = await eventually(async () => {
        const kids = (await first.client.getPublicKeys()).keys.map((key) => key.kid);
        return kids.length === 2 ? kids : undefined;
      }, 'the next key to be published');
      expect(published[0]).to.equal(oldKid);
      const fresh = await eventually(async () => {
        const { tokens } = await first.client.signIn({ login: person.login, password: person.password });
        return decodeProtectedHeader(tokens?.accessToken ?? '').kid !== oldKid ? tokens?.accessToken : undefined;
      }, 'a token signed with the next key');
      expect(decodeProtectedHeader(fresh).kid).to.equal(published[1]);
      await first.client.getMe(bearer(person.accessToken));
    });
  });
});
