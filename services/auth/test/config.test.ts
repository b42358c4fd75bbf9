import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '@orderbook/server-kit';
import { CONFIG_VARIABLES, loadConfig } from '../src/config';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  return expect.fail('accepted');
}

const ADMIN = { AUTH_ADMIN_USERNAME: 'root', AUTH_ADMIN_EMAIL: 'Root@Example.com', AUTH_ADMIN_PASSWORD: 's3cret-admin-pw' };
const KEY = Buffer.alloc(32, 7).toString('base64');

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).to.deep.equal({
      host: '127.0.0.1',
      transport: {
        options: {
          'grpc.max_receive_message_length': 4_194_304,
          'grpc.max_send_message_length': 4_194_304,
          'grpc.keepalive_time_ms': 60_000,
          'grpc.keepalive_timeout_ms': 20_000,
          'grpc.max_concurrent_streams': 1000,
        },
      },
      port: 50051,
      dataDir: resolve('./data/auth'),
      bcryptCost: 12,
      issuer: 'orderbook-auth',
      audience: 'orderbook',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 86_400,
      refreshReuseGraceSeconds: 30,
      redisKeyPrefix: 'orderbook:auth:',
      signInLimits: { freeFailuresPerAccount: 3, freeFailuresPerPeer: 10, baseDelayMs: 1000, maxAccountDelaySeconds: 900, maxPeerDelaySeconds: 30, windowSeconds: 900 },
      trustedProxies: new Set(),
      signUpLimits: { maxPerPeer: 20, maxTotal: 1000, windowSeconds: 3600 },
      requireTotpForAdmins: false,
      revocationPollMs: 250,
      keys: { previousKeyFiles: [], rotationDays: 30, publishLeadSeconds: 600 },
      shutdownGraceMs: 10_000,
      logLevel: 'info',
    });
  });

  it('documents every variable once, with a meaning', () => {
    const names = CONFIG_VARIABLES.map((variable) => variable.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const variable of CONFIG_VARIABLES) expect(variable.meaning, variable.name).to.have.length.greaterThan(10);
    for (const name of ['AUTH_HOST', 'AUTH_PORT', 'AUTH_DATA_DIR', 'DATABASE_URL', 'AUTH_BCRYPT_COST', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'LOG_LEVEL']) {
      expect(names).to.include(name);
    }
  });

  it('reads every setting', () => {
    const config = loadConfig({
      AUTH_HOST: '0.0.0.0',
      AUTH_ALLOW_PLAINTEXT: 'true',
      AUTH_PORT: '0',
      AUTH_DATA_DIR: '/var/lib/auth',
      DATABASE_URL: 'postgresql://u:p@db/auth',
      AUTH_ENCRYPTION_KEY: KEY,
      AUTH_REDIS_URL: 'redis://cache:6379/2',
      AUTH_REDIS_KEY_PREFIX: 'ob:',
      AUTH_BCRYPT_COST: '4',
      AUTH_ISSUER: 'iss',
      AUTH_AUDIENCE: 'aud',
      AUTH_ACCESS_TOKEN_TTL_SECONDS: '60',
      AUTH_REFRESH_TOKEN_TTL_SECONDS: '3600',
      AUTH_REFRESH_REUSE_GRACE_SECONDS: '5',
      AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '4',
      AUTH_SIGNIN_FREE_FAILURES_PER_PEER: '9',
      AUTH_SIGNIN_BASE_DELAY_MS: '250',
      AUTH_SIGNIN_MAX_ACCOUNT_DELAY_SECONDS: '600',
      AUTH_SIGNIN_MAX_PEER_DELAY_SECONDS: '20',
      AUTH_SIGNIN_FAILURE_WINDOW_SECONDS: '60',
      AUTH_SIGNUP_MAX_PER_PEER: '5',
      AUTH_SIGNUP_MAX_TOTAL: '50',
      AUTH_SIGNUP_WINDOW_SECONDS: '600',
      AUTH_REQUIRE_TOTP_FOR_ADMINS: 'true',
      AUTH_REVOCATION_POLL_MS: '100',
      AUTH_KEY_PUBLISH_LEAD_SECONDS: '900',
      AUTH_SIGNING_KEY_FILE: '/keys/current.pem',
      AUTH_PREVIOUS_SIGNING_KEY_FILES: '/keys/a.pem, /keys/b.pem',
      AUTH_KEY_ROTATION_DAYS: '0',
      AUTH_SHUTDOWN_GRACE_MS: '500',
      LOG_LEVEL: 'silent',
      ...ADMIN,
    });
    expect(config).to.deep.include({
      host: '0.0.0.0',
      port: 0,
      dataDir: '/var/lib/auth',
      databaseUrl: 'postgresql://u:p@db/auth',
      bcryptCost: 4,
      issuer: 'iss',
      audience: 'aud',
      accessTokenTtlSeconds: 60,
      refreshTokenTtlSeconds: 3600,
      refreshReuseGraceSeconds: 5,
      redisUrl: 'redis://cache:6379/2',
      redisKeyPrefix: 'ob:',
      requireTotpForAdmins: true,
      revocationPollMs: 100,
      shutdownGraceMs: 500,
      logLevel: 'silent',
    });
    expect(config.encryptionKey?.toString('base64')).to.equal(KEY);
    expect(config.signInLimits).to.deep.equal({ freeFailuresPerAccount: 4, freeFailuresPerPeer: 9, baseDelayMs: 250, maxAccountDelaySeconds: 600, maxPeerDelaySeconds: 20, windowSeconds: 60 });
    expect(config.signUpLimits).to.deep.equal({ maxPerPeer: 5, maxTotal: 50, windowSeconds: 600 });
    expect(config.keys).to.deep.equal({ signingKeyFile: '/keys/current.pem', previousKeyFiles: ['/keys/a.pem', '/keys/b.pem'], rotationDays: 0, publishLeadSeconds: 900 });
    expect(config.admin).to.deep.equal({ username: 'root', email: 'root@example.com', password: 's3cret-admin-pw' });
  });

  it('rejects bad values, naming the variable', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ AUTH_PORT: 'http' }, /^AUTH_PORT: expected an integer/],
      [{ AUTH_PORT: '70000' }, /^AUTH_PORT: must be between 0 and 65535/],
      [{ AUTH_BCRYPT_COST: '3' }, /^AUTH_BCRYPT_COST: /],
      [{ AUTH_BCRYPT_COST: '32' }, /^AUTH_BCRYPT_COST: /],
      [{ AUTH_BCRYPT_COST: '12.5' }, /^AUTH_BCRYPT_COST: /],
      [{ AUTH_ACCESS_TOKEN_TTL_SECONDS: '0' }, /^AUTH_ACCESS_TOKEN_TTL_SECONDS: /],
      [{ AUTH_REFRESH_TOKEN_TTL_SECONDS: '-1' }, /^AUTH_REFRESH_TOKEN_TTL_SECONDS: /],
      [{ AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '-1' }, /^AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: /],
      [{ AUTH_SIGNIN_FREE_FAILURES_PER_PEER: 'many' }, /^AUTH_SIGNIN_FREE_FAILURES_PER_PEER: /],
      [{ AUTH_SIGNIN_BASE_DELAY_MS: '0' }, /^AUTH_SIGNIN_BASE_DELAY_MS: /],
      [{ AUTH_REFRESH_REUSE_GRACE_SECONDS: '-1' }, /^AUTH_REFRESH_REUSE_GRACE_SECONDS: /],
      [{ AUTH_REQUIRE_TOTP_FOR_ADMINS: 'yes' }, /^AUTH_REQUIRE_TOTP_FOR_ADMINS: must be one of true, false/],
      [{ AUTH_ENCRYPTION_KEY: 'c2hvcnQ=' }, /^AUTH_ENCRYPTION_KEY: expected base64 of 32/],
      [{ DATABASE_URL: 'postgresql://db/auth' }, /^AUTH_ENCRYPTION_KEY: required with DATABASE_URL/],
      [{ AUTH_REDIS_URL: 'localhost:6379' }, /^AUTH_REDIS_URL: expected a redis:\/\/ URL/],
      [{ AUTH_SIGNIN_MAX_FAILURES_PER_ACCOUNT: '5' }, /^AUTH_SIGNIN_MAX_FAILURES_PER_ACCOUNT: no longer read; see AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT/],
      [{ AUTH_SIGNIN_MAX_FAILURES_PER_PEER: '50' }, /^AUTH_SIGNIN_MAX_FAILURES_PER_PEER: no longer read/],
      [{ AUTH_SIGNIN_FAILURE_WINDOW_SECONDS: '0' }, /^AUTH_SIGNIN_FAILURE_WINDOW_SECONDS: /],
      [{ AUTH_KEY_ROTATION_DAYS: '-3' }, /^AUTH_KEY_ROTATION_DAYS: /],
      [{ AUTH_SHUTDOWN_GRACE_MS: 'soon' }, /^AUTH_SHUTDOWN_GRACE_MS: /],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of/],
      [{ AUTH_PREVIOUS_SIGNING_KEY_FILES: '/k.pem' }, /^AUTH_PREVIOUS_SIGNING_KEY_FILES: /],
    ];
    for (const [env, message] of cases) expect(configError(env).message, JSON.stringify(env)).to.match(message);
  });

  it('never echoes a database URL or a password in its errors', () => {
    const url = configError({ DATABASE_URL: 'mysql://user:hunter2@db/auth' });
    expect(url.message).to.match(/^DATABASE_URL: /).and.not.to.include('hunter2');
    const password = configError({ ...ADMIN, AUTH_ADMIN_PASSWORD: 'x'.repeat(80) });
    expect(password.message).to.match(/^AUTH_ADMIN_PASSWORD: /).and.not.to.include('xxxxxxxx');
  });

  it('wants all three admin variables or none, each valid', () => {
    expect(configError({ AUTH_ADMIN_USERNAME: 'root' }).message).to.match(/set all three or none/);
    expect(configError({ ...ADMIN, AUTH_ADMIN_EMAIL: '' }).message).to.match(/set all three or none/);
    expect(configError({ ...ADMIN, AUTH_ADMIN_USERNAME: 'r' }).message).to.match(/^AUTH_ADMIN_USERNAME: /);
    expect(configError({ ...ADMIN, AUTH_ADMIN_EMAIL: 'root' }).message).to.match(/^AUTH_ADMIN_EMAIL: /);
    expect(configError({ ...ADMIN, AUTH_ADMIN_PASSWORD: 'short' }).message).to.match(/^AUTH_ADMIN_PASSWORD: /);
    expect(configError({ ...ADMIN, AUTH_ADMIN_PASSWORD: 'qwertyuiop123' }).message).to.match(/^AUTH_ADMIN_PASSWORD: is on the list of common passwords/);
    expect(configError({ ...ADMIN, AUTH_ADMIN_PASSWORD: 'root@example.com' }).message).to.match(/^AUTH_ADMIN_PASSWORD: must not be the username or the email/);
  });

  it('takes the admin password exactly as given (no trimming)', () => {
    expect(loadConfig({ ...ADMIN, AUTH_ADMIN_PASSWORD: ' padded pw 1 ' }).admin?.password).to.equal(' padded pw 1 ');
  });
});

describe('services/auth/README.md', () => {
  it('documents every configuration variable', () => {
    const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
    for (const variable of CONFIG_VARIABLES) expect(readme, variable.name).to.include(`| \`${variable.name}\` | `);
  });
});
