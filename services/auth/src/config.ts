import { resolve } from 'node:path';
import { ConfigError, ConfigReader, InvalidFieldError, readServerTransport, readTrustedProxies, serverTransportVariables, type ConfigVariable, type Env, type LogLevel, type ServerTransport } from '@orderbook/server-kit';
import { parseEncryptionKey } from './security/sealing';
import { validEmail, validNewPassword, validUsername } from './validation';

/** Every environment variable the auth service reads: the README's configuration table is generated from this. */
export const CONFIG_VARIABLES = [
  { name: 'AUTH_HOST', default: '127.0.0.1', meaning: 'Interface the gRPC server listens on (0.0.0.0 for all).' },
  { name: 'AUTH_PORT', default: '50051', meaning: 'gRPC port; 0 picks a free one.' },
  { name: 'AUTH_METRICS_PORT', default: '', meaning: 'Port of the Prometheus /metrics HTTP endpoint (auth_rpcs_total by method and code, process metrics) on AUTH_HOST; 0 picks a free one; unset: no endpoint.' },
  { name: 'AUTH_DATA_DIR', default: './data/auth', meaning: 'Directory for the SQLite database (auth.db) and, without AUTH_ENCRYPTION_KEY, the generated data key (encryption.key).' },
  { name: 'DATABASE_URL', default: '', meaning: 'PostgreSQL connection string (postgresql://...); unset means SQLite in AUTH_DATA_DIR. Several instances share one PostgreSQL. A schema can be chosen with ?options=-c%20search_path%3D<schema>.' },
  { name: 'AUTH_ENCRYPTION_KEY', default: '', meaning: 'Data key (base64 of 32 bytes: openssl rand -base64 32) sealing signing keys, TOTP secrets and retried refresh answers at rest (AES-256-GCM). Required with DATABASE_URL, the same on every instance; unset with SQLite, one is generated in AUTH_DATA_DIR.' },
  { name: 'AUTH_REDIS_URL', default: '', meaning: 'Redis (redis://host:port) holding the sign-in and sign-up counters that every instance shares; unset means counters in this process (one instance only).' },
  { name: 'AUTH_REDIS_KEY_PREFIX', default: 'orderbook:auth:', meaning: 'Prefix of every Redis key, so that deployments can share a Redis.' },
  { name: 'AUTH_BCRYPT_COST', default: '12', meaning: 'bcrypt cost factor (4-31); each step doubles the time of a hash. Existing hashes are upgraded at the next sign-in.' },
  { name: 'AUTH_ISSUER', default: 'orderbook-auth', meaning: '`iss` claim of access tokens, and the issuer shown in authenticator apps.' },
  { name: 'AUTH_AUDIENCE', default: 'orderbook', meaning: '`aud` claim of access tokens.' },
  { name: 'AUTH_ACCESS_TOKEN_TTL_SECONDS', default: '900', meaning: 'Lifetime of an access token.' },
  { name: 'AUTH_REFRESH_TOKEN_TTL_SECONDS', default: '2592000', meaning: 'Lifetime of a refresh token (30 days); each use issues a new one with a fresh lifetime.' },
  { name: 'AUTH_REFRESH_REUSE_GRACE_SECONDS', default: '30', meaning: 'A refresh token presented again this soon after its rotation (a retry after a lost answer) returns the same new pair; later it revokes the session. 0 turns the grace off.' },
  { name: 'AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT', default: '3', meaning: 'Failed sign-ins (or second-factor codes) of one account before it must wait a delay after each failure; attempts during the delay get RESOURCE_EXHAUSTED. A complete sign-in clears the count.' },
  { name: 'AUTH_SIGNIN_FREE_FAILURES_PER_PEER', default: '10', meaning: 'Failed sign-ins from one client address before each further failure is answered only after a delay. A right password from that address is never refused or delayed for it.' },
  { name: 'AUTH_SIGNIN_BASE_DELAY_MS', default: '1000', meaning: 'The first delay past the free failures; it doubles with each further failure.' },
  { name: 'AUTH_SIGNIN_MAX_ACCOUNT_DELAY_SECONDS', default: '900', meaning: 'Cap of an account\'s delay.' },
  { name: 'AUTH_SIGNIN_MAX_PEER_DELAY_SECONDS', default: '30', meaning: 'Cap of the delay of a failure answer to one client address.' },
  { name: 'AUTH_SIGNIN_FAILURE_WINDOW_SECONDS', default: '900', meaning: 'Failures of an account or address are forgotten this long after the last one.' },
  { name: 'AUTH_TRUSTED_PROXIES', default: '', meaning: 'Comma-separated IP addresses of proxies (the HTTP gateway) whose x-forwarded-for metadata names the client the per-address limits count; from anyone else it is ignored. Unset: none.' },
  { name: 'AUTH_SIGNUP_MAX_PER_PEER', default: '20', meaning: 'Sign-up attempts (successful or not) per client address per window; then RESOURCE_EXHAUSTED.' },
  { name: 'AUTH_SIGNUP_MAX_TOTAL', default: '1000', meaning: 'Sign-up attempts from all addresses together per window; then RESOURCE_EXHAUSTED.' },
  { name: 'AUTH_SIGNUP_WINDOW_SECONDS', default: '3600', meaning: 'The window of the sign-up limits.' },
  { name: 'AUTH_REQUIRE_TOTP_FOR_ADMINS', default: 'false', meaning: 'true: tokens carry the admin role only for sessions that signed in with a second factor (an admin without one signs in as a trader and can enrol), and admins cannot disable theirs.' },
  { name: 'AUTH_REVOCATION_POLL_MS', default: '250', meaning: 'How often an instance reads the revocations other instances made, for its WatchRevocations streams.' },
  { name: 'AUTH_SIGNING_KEY_FILE', default: '', meaning: 'Ed25519 private key (PKCS#8 PEM or JWK) to sign with, instead of the keys shared in the database. Rotate by replacing it and moving the old one to AUTH_PREVIOUS_SIGNING_KEY_FILES.' },
  { name: 'AUTH_PREVIOUS_SIGNING_KEY_FILES', default: '', meaning: 'Comma-separated Ed25519 keys (private or public; PEM or JWK) still published for verification; only with AUTH_SIGNING_KEY_FILE.' },
  { name: 'AUTH_KEY_ROTATION_DAYS', default: '30', meaning: 'Shared keys only: a key is replaced after signing this long (checked at start and hourly); 0 never. The old key stays published until its tokens have expired.' },
  { name: 'AUTH_KEY_PUBLISH_LEAD_SECONDS', default: '600', meaning: 'Shared keys only: a new key is published this long before any instance signs with it; keep it above every verifier\'s key-set age (matching: MATCHING_AUTH_KEY_SET_MAX_AGE_SECONDS).' },
  { name: 'AUTH_ADMIN_USERNAME', default: '', meaning: 'If set, with AUTH_ADMIN_EMAIL and AUTH_ADMIN_PASSWORD: the admin that start-up creates (or keeps at this email, password and roles), remembered by id. Sign-up refuses this name and email. If another user already holds either, start-up logs it and goes on without bootstrapping.' },
  { name: 'AUTH_ADMIN_EMAIL', default: '', meaning: 'Email of the bootstrapped admin.' },
  { name: 'AUTH_ADMIN_PASSWORD', default: '', meaning: 'Password of the bootstrapped admin (the rules of sign-up: 12-72 bytes, not a common password).' },
  { name: 'AUTH_SHUTDOWN_GRACE_MS', default: '10000', meaning: 'On SIGTERM, how long in-flight calls may finish before they are cancelled.' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'pino log level: fatal, error, warn, info, debug, trace or silent.' },
  ...serverTransportVariables('AUTH'),
] as const satisfies readonly ConfigVariable[];

type VariableName = (typeof CONFIG_VARIABLES)[number]['name'];

/** Variables of earlier versions whose meaning changed: set, they stop start-up rather than be ignored. */
const RENAMED: Readonly<Record<string, string>> = {
  AUTH_SIGNIN_MAX_FAILURES_PER_ACCOUNT: 'AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT (failures before delays start; there is no lock-out any more)',
  AUTH_SIGNIN_MAX_FAILURES_PER_PEER: 'AUTH_SIGNIN_FREE_FAILURES_PER_PEER (failures before delays start; a right password is never refused for them)',
};

export interface AdminAccount {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

export interface KeyConfig {
  /** When set, keys come from files and are never generated or rotated by the service. */
  readonly signingKeyFile?: string;
  readonly previousKeyFiles: readonly string[];
  readonly rotationDays: number;
  readonly publishLeadSeconds: number;
}

export interface SignInLimits {
  readonly freeFailuresPerAccount: number;
  readonly freeFailuresPerPeer: number;
  readonly baseDelayMs: number;
  readonly maxAccountDelaySeconds: number;
  readonly maxPeerDelaySeconds: number;
  readonly windowSeconds: number;
}

export interface SignUpLimitsConfig {
  readonly maxPerPeer: number;
  readonly maxTotal: number;
  readonly windowSeconds: number;
}

export interface AuthConfig {
  readonly host: string;
  readonly transport: ServerTransport;
  readonly port: number;
  /** The /metrics port; no endpoint when absent. */
  readonly metricsPort?: number;
  readonly dataDir: string;
  /** PostgreSQL when set, else SQLite in dataDir. */
  readonly databaseUrl?: string;
  /** The data key; generated in dataDir when absent (SQLite only). */
  readonly encryptionKey?: Buffer;
  /** Shared counters when set, else in-process ones. */
  readonly redisUrl?: string;
  readonly redisKeyPrefix: string;
  readonly bcryptCost: number;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  readonly signInLimits: SignInLimits;
  readonly signUpLimits: SignUpLimitsConfig;
  /** Peers whose x-forwarded-for names the client (AUTH_TRUSTED_PROXIES). */
  readonly trustedProxies: ReadonlySet<string>;
  readonly requireTotpForAdmins: boolean;
  readonly revocationPollMs: number;
  readonly keys: KeyConfig;
  readonly admin?: AdminAccount;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
}

const DAY_SECONDS = 86_400;

/** Reads the configuration; throws ConfigError naming the variable for any bad value. */
export function loadConfig(env: Env = process.env): AuthConfig {
  for (const [old, replacement] of Object.entries(RENAMED)) {
    if ((env[old] ?? '') !== '') throw new ConfigError(`${old}: no longer read; see ${replacement}`);
  }
  const vars = new ConfigReader<VariableName>(CONFIG_VARIABLES, env);
  const databaseUrl = vars.optionalString('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // The URL may hold a password: name the variable, never echo the value.
    throw new ConfigError('DATABASE_URL: expected a postgresql:// connection string');
  }
  const encryptionKeyText = vars.optionalString('AUTH_ENCRYPTION_KEY');
  if (databaseUrl !== undefined && encryptionKeyText === undefined) {
    throw new ConfigError('AUTH_ENCRYPTION_KEY: required with DATABASE_URL (every instance seals and opens the shared keys and secrets with it): openssl rand -base64 32');
  }
  const redisUrl = vars.optionalString('AUTH_REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('AUTH_REDIS_URL: expected a redis:// URL');
  const signingKeyFile = vars.optionalString('AUTH_SIGNING_KEY_FILE');
  const previousKeyFiles = (vars.optionalString('AUTH_PREVIOUS_SIGNING_KEY_FILES') ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file !== '');
  if (previousKeyFiles.length > 0 && signingKeyFile === undefined) {
    throw new ConfigError('AUTH_PREVIOUS_SIGNING_KEY_FILES: only allowed together with AUTH_SIGNING_KEY_FILE');
  }
  const host = vars.string('AUTH_HOST');
  return {
    host,
    transport: readServerTransport('AUTH', host, 'AUTH_HOST', env),
    port: vars.int('AUTH_PORT', 0, 65_535),
    ...(vars.optionalString('AUTH_METRICS_PORT') === undefined ? {} : { metricsPort: vars.int('AUTH_METRICS_PORT', 0, 65_535) }),
    dataDir: resolve(vars.string('AUTH_DATA_DIR')),
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...(encryptionKeyText === undefined ? {} : { encryptionKey: parseEncryptionKey(encryptionKeyText) }),
    ...(redisUrl === undefined ? {} : { redisUrl }),
    redisKeyPrefix: vars.string('AUTH_REDIS_KEY_PREFIX'),
    bcryptCost: vars.int('AUTH_BCRYPT_COST', 4, 31),
    issuer: vars.string('AUTH_ISSUER'),
    audience: vars.string('AUTH_AUDIENCE'),
    accessTokenTtlSeconds: vars.int('AUTH_ACCESS_TOKEN_TTL_SECONDS', 1, DAY_SECONDS),
    refreshTokenTtlSeconds: vars.int('AUTH_REFRESH_TOKEN_TTL_SECONDS', 60, 365 * DAY_SECONDS),
    refreshReuseGraceSeconds: vars.int('AUTH_REFRESH_REUSE_GRACE_SECONDS', 0, 600),
    signInLimits: {
      freeFailuresPerAccount: vars.int('AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT', 0, 1000),
      freeFailuresPerPeer: vars.int('AUTH_SIGNIN_FREE_FAILURES_PER_PEER', 0, 1_000_000),
      baseDelayMs: vars.int('AUTH_SIGNIN_BASE_DELAY_MS', 1, 600_000),
      maxAccountDelaySeconds: vars.int('AUTH_SIGNIN_MAX_ACCOUNT_DELAY_SECONDS', 1, DAY_SECONDS),
      maxPeerDelaySeconds: vars.int('AUTH_SIGNIN_MAX_PEER_DELAY_SECONDS', 0, 600),
      windowSeconds: vars.int('AUTH_SIGNIN_FAILURE_WINDOW_SECONDS', 1, DAY_SECONDS),
    },
    trustedProxies: readTrustedProxies(vars, 'AUTH_TRUSTED_PROXIES'),
    signUpLimits: {
      maxPerPeer: vars.int('AUTH_SIGNUP_MAX_PER_PEER', 1, 1_000_000),
      maxTotal: vars.int('AUTH_SIGNUP_MAX_TOTAL', 1, 1_000_000_000),
      windowSeconds: vars.int('AUTH_SIGNUP_WINDOW_SECONDS', 1, DAY_SECONDS),
    },
    requireTotpForAdmins: vars.oneOf('AUTH_REQUIRE_TOTP_FOR_ADMINS', ['true', 'false']) === 'true',
    revocationPollMs: vars.int('AUTH_REVOCATION_POLL_MS', 10, 60_000),
    keys: {
      ...(signingKeyFile === undefined ? {} : { signingKeyFile: resolve(signingKeyFile) }),
      previousKeyFiles: previousKeyFiles.map((file) => resolve(file)),
      rotationDays: vars.int('AUTH_KEY_ROTATION_DAYS', 0, 3650),
      publishLeadSeconds: vars.int('AUTH_KEY_PUBLISH_LEAD_SECONDS', 0, 7 * DAY_SECONDS),
    },
    ...adminAccount(vars, env),
    shutdownGraceMs: vars.int('AUTH_SHUTDOWN_GRACE_MS', 0, 600_000),
    logLevel: vars.logLevel('LOG_LEVEL'),
  };
}

function adminAccount(vars: ConfigReader<VariableName>, env: Env): { admin?: AdminAccount } {
  const username = vars.optionalString('AUTH_ADMIN_USERNAME');
  const email = vars.optionalString('AUTH_ADMIN_EMAIL');
  // Not trimmed: a password is taken exactly as given.
  const password = env['AUTH_ADMIN_PASSWORD'] === '' ? undefined : env['AUTH_ADMIN_PASSWORD'];
  if (username === undefined && email === undefined && password === undefined) return {};
  if (username === undefined || email === undefined || password === undefined) {
    throw new ConfigError('AUTH_ADMIN_USERNAME, AUTH_ADMIN_EMAIL and AUTH_ADMIN_PASSWORD: set all three or none');
  }
  try {
    const name = validUsername(username, 'AUTH_ADMIN_USERNAME');
    const address = validEmail(email, 'AUTH_ADMIN_EMAIL');
    return { admin: { username: name, email: address, password: validNewPassword(password, 'AUTH_ADMIN_PASSWORD', { username: name, email: address }) } };
  } catch (err) {
    if (err instanceof InvalidFieldError) throw new ConfigError(err.message);
    throw err;
  }
}
