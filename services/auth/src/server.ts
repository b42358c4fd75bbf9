import { auth, descriptorSetPath } from '@orderbook/proto';
import { createLogger, dialableAddress, startGrpcServer, type Logger } from '@orderbook/server-kit';
import { bootstrapAdmin } from './admin-bootstrap';
import type { AuthConfig } from './config';
import { authHandlers } from './handlers';
import { KeyRing } from './keys';
import { openUserStore } from './open-store';
import { createBcryptHasher } from './passwords';
import { RefreshTokens } from './refresh-tokens';
import { AuthService } from './service';
import { AccessTokens } from './tokens';

/** Skew tolerated when the service checks its own access tokens (GetMe); verifiers default to the same. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** Key rotation and the purge of expired refresh tokens run this often. */
const MAINTENANCE_INTERVAL_MS = 3_600_000;

export interface RunningAuthServer {
  /** The bound port (the real one when config.port was 0). */
  readonly port: number;
  /** host:port for clients and token verifiers. */
  readonly address: string;
  readonly issuer: string;
  readonly audience: string;
  /** Stops accepting calls, lets in-flight ones finish (up to config.shutdownGraceMs), then closes the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAuthServerOptions {
  /** Defaults to a pino logger named "auth" at config.logLevel. */
  readonly logger?: Logger;
}

/** The key ring of a configuration: retired keys stay published until their last token expired, skew included. */
export function loadKeys(config: AuthConfig, logger: Logger): Promise<KeyRing> {
  return KeyRing.load({
    dataDir: config.dataDir,
    ...(config.keys.signingKeyFile === undefined ? {} : { signingKeyFile: config.keys.signingKeyFile }),
    previousKeyFiles: config.keys.previousKeyFiles,
    rotationDays: config.keys.rotationDays,
    retentionMs: (config.accessTokenTtlSeconds + 2 * CLOCK_TOLERANCE_SECONDS) * 1000,
    logger,
  });
}

/** Opens the store and keys, bootstraps the admin, and serves AuthService (plus reflection and health). */
export async function startAuthServer(config: AuthConfig, options: StartAuthServerOptions = {}): Promise<RunningAuthServer> {
  const logger = options.logger ?? createLogger('auth', config.logLevel);
  if (config.bcryptCost < 10) logger.warn({ bcryptCost: config.bcryptCost }, 'bcrypt cost below 10: fine for tests, weak for production');

  const keys = await loadKeys(config, logger);
  const store = await openUserStore({
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    logger,
  });
  try {
    const passwords = await createBcryptHasher(config.bcryptCost);
    if (config.admin !== undefined) await bootstrapAdmin(config.admin, store, passwords, logger);
    const service = new AuthService({
      store,
      passwords,
      keys,
      accessTokens: new AccessTokens(keys, {
        issuer: config.issuer,
        audience: config.audience,
        ttlSeconds: config.accessTokenTtlSeconds,
        clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      }),
      refreshTokens: new RefreshTokens(store, config.refreshTokenTtlSeconds),
      signInLimits: config.signInLimits,
      issuer: config.issuer,
      audience: config.audience,
      logger,
    });
    const grpcServer = await startGrpcServer({
      host: config.host,
      port: config.port,
      services: [{ name: 'orderbook.auth.v1.AuthService', definition: auth.AuthServiceService, implementation: authHandlers(service, logger) }],
      descriptorSetPath,
      logger,
      initiallyServing: true,
    });

    const maintenance = setInterval(() => {
      Promise.all([keys.maintain(), store.deleteExpiredRefreshTokens(Date.now())]).catch((err: unknown) =>
        logger.error({ err }, 'maintenance failed'),
      );
    }, MAINTENANCE_INTERVAL_MS);
    maintenance.unref();

    const address = dialableAddress(config.host, grpcServer.port);
    logger.info(
      { address, storage: config.databaseUrl === undefined ? 'sqlite' : 'postgresql', dataDir: config.dataDir, kid: keys.signingKey().kid },
      'auth service listening',
    );

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        clearInterval(maintenance);
        await grpcServer.shutdown(config.shutdownGraceMs);
        await store.close();
        logger.info('auth service stopped');
      })();
      return stopping;
    };
    return { port: grpcServer.port, address, issuer: config.issuer, audience: config.audience, stop };
  } catch (err) {
    await store.close();
    throw err;
  }
}
