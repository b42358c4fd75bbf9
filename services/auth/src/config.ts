import { resolve } from 'node:path';
import { ConfigError, ConfigReader, InvalidFieldError, type ConfigVariable, type Env, type LogLevel } from '@orderbook/server-kit';
import { validEmail, validNewPassword, validUsername } from './validation';

/** Every environment variable the auth service reads: the README's configuration table is generated from this. */
export const CONFIG_VARIABLES = [
  { name: 'AUTH_HOST', default: '127.0.0.1', meaning: 'Interface the gRPC server listens on (0.0.0.0 for all).' },
  { name: 'AUTH_PORT', default: '50051', meaning: 'gRPC port; 0 picks a free one.' },
  { name: 'AUTH_DATA_DIR', default: './data/auth', meaning: 'Directory for the SQLite database (auth.db) and the generated signing keys (signing-keys.json).' },
  { name: 'DATABASE_URL', default: '', meaning: 'PostgreSQL connection string (postgresql://...); unset means SQLite in AUTH_DATA_DIR. A schema can be chosen with ?options=-c%20search_path%3D<schema>.' },
  { name: 'AUTH_BCRYPT_COST', default: '12', meaning: 'bcrypt cost factor (4-31); each step doubles the time of a hash. Existing hashes are upgraded at the next sign-in.' },
  { name: 'AUTH_ISSUER', default: 'orderbook-auth', meaning: '`iss` claim of access tokens.' },
  { name: 'AUTH_AUDIENCE', default: 'orderbook', meaning: '`aud` claim of access tokens.' },
  { name: 'AUTH_ACCESS_TOKEN_TTL_SECONDS', default: '900', meaning: 'Lifetime of an access token.' },
  { name: 'AUTH_REFRESH_TOKEN_TTL_SECONDS', default: '2592000', meaning: 'Lifetime of a refresh token (30 days); each use issues a new one with a fresh lifetime.' },
  { name: 'AUTH_SIGNIN_MAX_FAILURES_PER_ACCOUNT', default: '5', meaning: 'Failed sign-ins allowed per account (or unknown login) within the window; then RESOURCE_EXHAUSTED. A successful sign-in clears the count.' },
  { name: 'AUTH_SIGNIN_MAX_FAILURES_PER_PEER', default: '50', meaning: 'Failed sign-ins allowed per client IP address within the window; then RESOURCE_EXHAUSTED.' },
  { name: 'AUTH_SIGNIN_FAILURE_WINDOW_SECONDS', default: '900', meaning: 'Sliding window over which sign-in failures are counted.' },
  { name: 'AUTH_SIGNING_KEY_FILE', default: '', meaning: 'Ed25519 private key (PKCS#8 PEM or JWK) to sign with, instead of keys generated in AUTH_DATA_DIR. Rotate by replacing it and moving the old one to AUTH_PREVIOUS_SIGNING_KEY_FILES.' },
  { name: 'AUTH_PREVIOUS_SIGNING_KEY_FILES', default: '', meaning: 'Comma-separated Ed25519 keys (private or public; PEM or JWK) still published for verification; only with AUTH_SIGNING_KEY_FILE.' },
  { name: 'AUTH_KEY_ROTATION_DAYS', default: '30', meaning: 'Generated keys only: replace the signing key when it is this old (checked at start and hourly); 0 never. The old key stays published until its tokens have expired.' },
  { name: 'AUTH_ADMIN_USERNAME', default: '', meaning: 'If set, with AUTH_ADMIN_EMAIL and AUTH_ADMIN_PASSWORD: this user is created at start (or, if it exists with that email, given the admin role and this password).' },
  { name: 'AUTH_ADMIN_EMAIL', default: '', meaning: 'Email of the bootstrapped admin.' },
  { name: 'AUTH_ADMIN_PASSWORD', default: '', meaning: 'Password of the bootstrapped admin (8-72 bytes).' },
  { name: 'AUTH_SHUTDOWN_GRACE_MS', default: '10000', meaning: 'On SIGTERM, how long in-flight calls may finish before they are cancelled.' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'pino log level: fatal, error, warn, info, debug, trace or silent.' },
] as const satisfies readonly ConfigVariable[];

type VariableName = (typeof CONFIG_VARIABLES)[number]['name'];

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
}

export interface SignInLimits {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerPeer: number;
  readonly windowSeconds: number;
}

export interface AuthConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** PostgreSQL when set, else SQLite in dataDir. */
  readonly databaseUrl?: string;
  readonly bcryptCost: number;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly signInLimits: SignInLimits;
  readonly keys: KeyConfig;
  readonly admin?: AdminAccount;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
}

const DAY_SECONDS = 86_400;

/** Reads the configuration; throws ConfigError naming the variable for any bad value. */
export function loadConfig(env: Env = process.env): AuthConfig {
  const vars = new ConfigReader<VariableName>(CONFIG_VARIABLES, env);
  const databaseUrl = vars.optionalString('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // The URL may hold a password: name the variable, never echo the value.
    throw new ConfigError('DATABASE_URL: expected a postgresql:// connection string');
  }
  const signingKeyFile = vars.optionalString('AUTH_SIGNING_KEY_FILE');
  const previousKeyFiles = (vars.optionalString('AUTH_PREVIOUS_SIGNING_KEY_FILES') ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file !== '');
  if (previousKeyFiles.length > 0 && signingKeyFile === undefined) {
    throw new ConfigError('AUTH_PREVIOUS_SIGNING_KEY_FILES: only allowed together with AUTH_SIGNING_KEY_FILE');
  }
  return {
    host: vars.string('AUTH_HOST'),
    port: vars.int('AUTH_PORT', 0, 65_535),
    dataDir: resolve(vars.string('AUTH_DATA_DIR')),
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    bcryptCost: vars.int('AUTH_BCRYPT_COST', 4, 31),
    issuer: vars.string('AUTH_ISSUER'),
    audience: vars.string('AUTH_AUDIENCE'),
    accessTokenTtlSeconds: vars.int('AUTH_ACCESS_TOKEN_TTL_SECONDS', 1, DAY_SECONDS),
    refreshTokenTtlSeconds: vars.int('AUTH_REFRESH_TOKEN_TTL_SECONDS', 60, 365 * DAY_SECONDS),
    signInLimits: {
      maxFailuresPerAccount: vars.int('AUTH_SIGNIN_MAX_FAILURES_PER_ACCOUNT', 1, 1_000_000),
      maxFailuresPerPeer: vars.int('AUTH_SIGNIN_MAX_FAILURES_PER_PEER', 1, 1_000_000),
      windowSeconds: vars.int('AUTH_SIGNIN_FAILURE_WINDOW_SECONDS', 1, DAY_SECONDS),
    },
    keys: {
      ...(signingKeyFile === undefined ? {} : { signingKeyFile: resolve(signingKeyFile) }),
      previousKeyFiles: previousKeyFiles.map((file) => resolve(file)),
      rotationDays: vars.int('AUTH_KEY_ROTATION_DAYS', 0, 3650),
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
    return {
      admin: {
        username: validUsername(username, 'AUTH_ADMIN_USERNAME'),
        email: validEmail(email, 'AUTH_ADMIN_EMAIL'),
        password: validNewPassword(password, 'AUTH_ADMIN_PASSWORD'),
      },
    };
  } catch (err) {
    if (err instanceof InvalidFieldError) throw new ConfigError(err.message);
    throw err;
  }
}
