import { auth, descriptorSetPath } from '@orderbook/proto';
import { ClientAddresses, createLogger, dialableAddress, serveMetrics, startGrpcServer, type Logger } from '@orderbook/server-kit';
import { REVOCATION_HEARTBEAT_MS } from '@orderbook/token-verifier';
import { bootstrapAdmin } from './admin-bootstrap';
import { AuthService } from './api/auth-service';
import type { AuthDeps } from './api/deps';
import { authHandlers } from './api/handlers';
import type { AuthConfig } from './config';
import { RevocationFeed } from './revocation-feed';
import { AuthMetrics } from './rpc-metrics';
import { createBcryptHasher } from './security/passwords';
import { loadDataKey, Sealer } from './security/sealing';
import { openAuthStore, type AuthStore } from './storage/auth-store';
import { MemoryThrottleStore } from './throttle/memory-throttle-store';
import { RedisThrottleStore } from './throttle/redis-throttle-store';
import { SignInThrottle } from './throttle/sign-in-throttle';
import { SignUpLimit } from './throttle/sign-up-limit';
import type { ThrottleStore } from './throttle/throttle-store';
import { AccessTokens } from './tokens/access-tokens';
import { KeyRing } from './tokens/key-ring';
import { RefreshTokens } from './tokens/refresh-tokens';
import { RESERVED_USERNAMES } from './validation';

/** Skew tolerated when the service checks its own access tokens; verifiers default to the same. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** Key rotation runs this often. */
const KEY_MAINTENANCE_INTERVAL_MS = 3_600_000;
/** Expired tokens, stale retry answers and old revocations are purged this often. */
const HOUSEKEEPING_INTERVAL_MS = 60_000;
/** Ended sessions are kept this long (ListSessions shows only live ones). */
const ENDED_SESSIONS_KEPT_MS = 86_400_000;
/** WatchRevocations streams one instance serves, in total and per client address. */
const MAX_REVOCATION_WATCHERS = 256;
const MAX_REVOCATION_WATCHERS_PER_PEER = 16;

export interface RunningAuthServer {
  /** The bound port (the real one when config.port was 0). */
  readonly port: number;
  /** host:port for clients and token verifiers. */
  readonly address: string;
  /** The bound port of GET /metrics, when AUTH_METRICS_PORT is set. */
  readonly metricsPort?: number;
  readonly issuer: string;
  readonly audience: string;
  /** Stops accepting calls, ends revocation watches, lets in-flight calls finish (up to config.shutdownGraceMs), then closes the stores. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAuthServerOptions {
  /** Defaults to a pino logger named "auth" at config.logLevel. */
  readonly logger?: Logger;
}

/** How long a revocation (and a replaced signing key) matters: an access token's lifetime plus skew both ways. */
export function tokenRelevanceMs(config: AuthConfig): number {
  return (config.accessTokenTtlSeconds + 2 * CLOCK_TOLERANCE_SECONDS) * 1000;
}

/** The store and the data key of a configuration. */
export async function openStore(config: AuthConfig, logger: Logger): Promise<{ store: AuthStore; sealer: Sealer }> {
  const sealer = new Sealer(await loadDataKey({ ...(config.encryptionKey === undefined ? {} : { configured: config.encryptionKey }), dataDir: config.dataDir, logger }));
  const store = await openAuthStore({
    dataDir: config.dataDir,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    revocationRelevanceMs: tokenRelevanceMs(config),
    logger,
  });
  return { store, sealer };
}

/** The key ring of a configuration: from files, or shared through the store. */
export function loadKeys(config: AuthConfig, store: AuthStore, sealer: Sealer, logger: Logger): Promise<KeyRing> {
  if (config.keys.signingKeyFile !== undefined) {
    return KeyRing.fromFiles({ signingKeyFile: config.keys.signingKeyFile, previousKeyFiles: config.keys.previousKeyFiles, logger });
  }
  return KeyRing.shared(store.signingKeys, sealer, {
    publishLeadMs: config.keys.publishLeadSeconds * 1000,
    retentionMs: tokenRelevanceMs(config),
    rotationDays: config.keys.rotationDays,
    logger,
  });
}

async function openThrottleStore(config: AuthConfig, logger: Logger): Promise<ThrottleStore> {
  const windowMs = config.signInLimits.windowSeconds * 1000;
  if (config.redisUrl !== undefined) {
    return RedisThrottleStore.connect({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, failureWindowMs: windowMs, logger });
  }
  if (config.databaseUrl !== undefined) {
    logger.warn('AUTH_REDIS_URL is unset: sign-in and sign-up limits are counted per instance, not across the instances sharing DATABASE_URL');
  }
  return new MemoryThrottleStore(windowMs);
}

/** Opens the stores and keys, bootstraps the admin, and serves AuthService (plus reflection and health). */
export async function startAuthServer(config: AuthConfig, options: StartAuthServerOptions = {}): Promise<RunningAuthServer> {
  const logger = options.logger ?? createLogger('auth', config.logLevel);
  if (config.bcryptCost < 10) logger.warn({ bcryptCost: config.bcryptCost }, 'bcrypt cost below 10: fine for tests, weak for production');

  const { store, sealer } = await openStore(config, logger);
  const closers: Array<() => Promise<void>> = [() => store.close()];
  let metricsPort: number | undefined;
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const throttleStore = await openThrottleStore(config, logger);
    closers.push(() => throttleStore.close());
    const keys = await loadKeys(config, store, sealer, logger);
    const passwords = await createBcryptHasher(config.bcryptCost);
    if (config.admin !== undefined) await bootstrapAdmin(config.admin, { store, passwords, logger });
    const feed = new RevocationFeed(store.revocations, {
      pollIntervalMs: config.revocationPollMs,
      heartbeatMs: REVOCATION_HEARTBEAT_MS,
      maxWatchers: MAX_REVOCATION_WATCHERS,
      maxWatchersPerPeer: MAX_REVOCATION_WATCHERS_PER_PEER,
      logger,
    });
    await feed.start();
    closers.push(async () => feed.close());

    const deps: AuthDeps = {
      store,
      passwords,
      sealer,
      keys,
      accessTokens: new AccessTokens(keys, {
        issuer: config.issuer,
        audience: config.audience,
        ttlSeconds: config.accessTokenTtlSeconds,
        clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      }),
      refreshTokens: new RefreshTokens(store.sessions, sealer, {
        ttlSeconds: config.refreshTokenTtlSeconds,
        reuseGraceMs: config.refreshReuseGraceSeconds * 1000,
      }),
      throttle: new SignInThrottle(throttleStore, {
        freeAccountFailures: config.signInLimits.freeFailuresPerAccount,
        freePeerFailures: config.signInLimits.freeFailuresPerPeer,
        baseDelayMs: config.signInLimits.baseDelayMs,
        maxAccountDelayMs: config.signInLimits.maxAccountDelaySeconds * 1000,
        maxPeerDelayMs: config.signInLimits.maxPeerDelaySeconds * 1000,
      }),
      signUpLimit: new SignUpLimit(throttleStore, {
        maxPerPeer: config.signUpLimits.maxPerPeer,
        maxTotal: config.signUpLimits.maxTotal,
        windowMs: config.signUpLimits.windowSeconds * 1000,
      }),
      feed,
      policy: {
        issuer: config.issuer,
        audience: config.audience,
        requireTotpForAdmins: config.requireTotpForAdmins,
        reservedUsernames: new Set([...RESERVED_USERNAMES, ...(config.admin === undefined ? [] : [config.admin.username.toLowerCase()])]),
        reservedEmails: new Set(config.admin === undefined ? [] : [config.admin.email]),
      },
      logger,
    };
    const metrics = new AuthMetrics();
    if (config.metricsPort !== undefined) {
      const endpoint = await serveMetrics(metrics.registry, config.host, config.metricsPort);
      closers.push(() => endpoint.close());
      metricsPort = endpoint.port;
    }
    const grpcServer = await startGrpcServer({
      host: config.host,
      port: config.port,
      services: [
        {
          name: 'orderbook.auth.v1.AuthService',
          definition: auth.AuthServiceService,
          implementation: metrics.counting(auth.AuthServiceService, authHandlers(new AuthService(deps), feed, logger, new ClientAddresses(config.trustedProxies))),
        },
      ],
      descriptorSetPath,
      logger,
      transport: config.transport,
      initiallyServing: true,
    });

    const timers = [
      every(KEY_MAINTENANCE_INTERVAL_MS, () => keys.maintain(), 'key maintenance', logger),
      every(keys.reloadIntervalMs(), () => keys.reload(), 'reloading the shared signing keys', logger),
      every(
        HOUSEKEEPING_INTERVAL_MS,
        async () => {
          const now = Date.now();
          await store.sessions.purge(now, config.refreshReuseGraceSeconds * 1000, ENDED_SESSIONS_KEPT_MS);
          await store.revocations.purge(now);
        },
        'housekeeping',
        logger,
      ),
    ];

    const address = dialableAddress(config.host, grpcServer.port);
    logger.info(
      {
        address,
        storage: config.databaseUrl === undefined ? 'sqlite' : 'postgresql',
        throttling: config.redisUrl === undefined ? 'in-process' : 'redis',
        keys: config.keys.signingKeyFile === undefined ? 'shared (database)' : 'files',
        kid: keys.signingKey().kid,
      },
      'auth service listening',
    );

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        // Watch streams never end by themselves: end them first, so that shutdown waits only for real calls.
        feed.close();
        await grpcServer.shutdown(config.shutdownGraceMs);
        await closeAll();
        logger.info('auth service stopped');
      })();
      return stopping;
    };
    return { port: grpcServer.port, address, issuer: config.issuer, audience: config.audience, ...(metricsPort === undefined ? {} : { metricsPort }), stop };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Runs work every intervalMs (never when undefined), logging failures; the timer does not keep the process alive. */
function every(intervalMs: number | undefined, work: () => Promise<unknown>, what: string, logger: Logger): NodeJS.Timeout | undefined {
  if (intervalMs === undefined) return undefined;
  const timer = setInterval(() => {
    work().catch((err: unknown) => logger.error({ err }, `${what} failed`));
  }, intervalMs);
  timer.unref();
  return timer;
}
