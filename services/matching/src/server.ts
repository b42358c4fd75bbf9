import { descriptorSetPath, matching, useAsciiTextEncoding } from '@orderbook/proto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { ClientAddresses, clientTlsChannel, createLogger, dialableAddress, grpcError, serveMetrics, startGrpcServer, type Logger, type MetricsEndpoint, type RunningGrpcServer } from '@orderbook/server-kit';
import { createAuthListener } from './auth/auth-interceptor';
import { createTokenVerification } from './auth/token-verification';
import type { CommandLoop } from './loop/command-loop-api';
import type { CommandLoopFailedError } from './loop/errors';
import type { MatchingConfig } from './ops/config';
import { acceptEncodedResponses } from './api/encoded-responses';
import { MarketData } from './api/market-data';
import { StreamLimits } from './api/stream-limits';
import { matchingHandlers } from './api/handlers';
import { createCallInterceptor } from './ops/call-timing';
import { LiveCalls } from './ops/live-calls';
import { MarketDirectory } from './api/markets';
import { MatchingMetrics } from './ops/metrics';
import { openCommandLoop } from './loop/open-command-loop';
import { openReplicatedLoop } from './loop/open-replicated-loop';
import { sequenceStamp } from './api/sequence-stamp';
import { OrderEntry } from './api/order-entry';
import { matchingStatuses } from './api/status-mapping';
import { ServiceState } from './ops/service-state';

function sessionRevoked(): ServiceError {
  return grpcError(status.UNAUTHENTICATED, "authorization: the stream's session has been revoked: sign in again", { reason: 'SESSION_REVOKED' });
}

/** The health check that tells whether the auth service's revocation feed is live. */
export const REVOCATION_FEED_HEALTH_CHECK = 'revocation-feed';

export const MATCHING_SERVICE_NAME = `${matching.protobufPackage}.MatchingService`;

export interface RunningMatchingServer {
  /** The bound gRPC port (the real one when config.port was 0). */
  readonly port: number;
  /** host:port for clients. */
  readonly address: string;
  /** The bound port of GET /metrics. */
  readonly metricsPort: number;
  /**
   * Graceful stop: health NOT_SERVING, refuse new calls, end open streams, let in-flight calls
   * finish (up to config.shutdownGraceMs), then close the loop (journal flushed, final snapshot).
   * Idempotent.
   */
  stop(): Promise<void>;
}

export interface StartMatchingServerOptions {
  /** Defaults to a pino logger named "matching" at config.logLevel. */
  readonly logger?: Logger;
  /**
   * Called if the command loop fails for good (journal write or fsync failed, e.g. ENOSPC) once the
   * server has answered every call UNAVAILABLE naming the cause and stopped: the process should
   * exit so that a restart recovers from disk. Default: nothing more.
   */
  readonly onFatalError?: (error: CommandLoopFailedError) => void;
  /** The metrics to count into (default: new ones); a server started again in the same process keeps its counts. */
  readonly metrics?: MatchingMetrics;
}

/**
 * Serves MatchingService (plus reflection and health). The gRPC server listens at once, NOT_SERVING
 * while the journal replays, SERVING when the engine is ready; startMatchingServer resolves then.
 */
export async function startMatchingServer(config: MatchingConfig, options: StartMatchingServerOptions = {}): Promise<RunningMatchingServer> {
  const logger = options.logger ?? createLogger('matching', config.logLevel);
  // The order messages' strings are short ASCII: encoded in JavaScript rather than by TextEncoder (see there).
  useAsciiTextEncoding();
  const markets = new MarketDirectory(config.markets);
  const metrics = options.metrics ?? new MatchingMetrics();
  const state = new ServiceState();
  let setFeedHealth: ((up: boolean) => void) | undefined;
  const tokens = createTokenVerification({
    authAddress: config.authAddress,
    ...(config.authTls === undefined ? {} : { authChannel: clientTlsChannel(config.authTls, logger) }),
    issuer: config.issuer,
    audience: config.audience,
    keySetMaxAgeSeconds: config.keySetMaxAgeSeconds,
    revocationFallbackSeconds: config.revocationFallbackSeconds,
    logger,
    onFeedStateChange: (up) => {
      metrics.revocationFeed(up);
      setFeedHealth?.(up);
    },
    onRevoked: (sessionIds) => {
      metrics.revocationsLearned(sessionIds.length);
      metrics.streamsEndedByRevocation(liveCalls.closeSessions(sessionIds, sessionRevoked));
    },
  });
  const liveCalls = new LiveCalls((sessionId) => (tokens.revocations.isRevoked(sessionId) ? sessionRevoked() : undefined));
  const statuses = matchingStatuses(logger);
  const entry = new OrderEntry({ state, markets, metrics, statuses });
  const streamLimits = new StreamLimits({
    maxStreams: config.maxStreams,
    maxStreamsPerPeer: config.maxStreamsPerPeer,
    memoryBudgetBytes: config.streamMemoryBudgetBytes,
  });
  metrics.watchStreamBuffers(() => streamLimits.buffered());
  metrics.bounds(config);

  let metricsEndpoint: MetricsEndpoint | undefined;
  let grpcServer: RunningGrpcServer | undefined;
  let loop: CommandLoop | undefined;
  let engineReady: CommandLoop | undefined;
  try {
    metricsEndpoint = await serveMetrics(metrics.registry, config.host, config.metricsPort);
    grpcServer = await startGrpcServer({
      host: config.host,
      port: config.port,
      services: [
        {
          name: MATCHING_SERVICE_NAME,
          definition: acceptEncodedResponses(matching.MatchingServiceService),
          implementation: matchingHandlers({
            state,
            markets,
            entry,
            liveCalls,
            metrics,
            streamLimits,
            clientAddresses: new ClientAddresses(config.trustedProxies),
            maxInFlight: config.sessionMaxInFlight,
            statuses,
            logger,
            now: Date.now,
          }),
        },
      ],
      descriptorSetPath,
      logger,
      interceptors: [
        createCallInterceptor(
          (method, code, seconds) => metrics.callFinished(method, code, seconds),
          sequenceStamp(() => engineReady?.queries.lastSeq()),
          createAuthListener(tokens.verifier, logger, (reason) => metrics.callRefused(reason)),
        ),
      ],
      transport: config.transport,
      initiallyServing: false,
    });
    const started = grpcServer;
    setFeedHealth = (up) => started.setCheck(REVOCATION_FEED_HEALTH_CHECK, up);
    setFeedHealth(tokens.revocations.state().up);
    const address = dialableAddress(config.host, grpcServer.port);
    logger.info({ address, dataDir: config.dataDir }, 'matching service listening, replaying its journal (NOT_SERVING until done)');

    const server = grpcServer;
    let stopService: ((reason: ServiceError) => Promise<void>) | undefined;
    const loopOptions = {
      dataDir: config.dataDir,
      engineConfig: {
        markets: config.markets,
        closedOrdersRetainedPerUser: config.closedOrdersRetained,
        fillsRetainedPerUser: config.fillsRetainedPerUser,
        tradesRetainedPerMarket: config.tradesRetainedPerMarket,
        maxStopsPerUserMarket: config.maxStopsPerUserMarket,
        maxOpenOrdersPerUserMarket: config.maxOpenOrdersPerUserMarket,
      },
      maxQueueDepth: config.maxQueueDepth,
      snapshotEvery: config.snapshotEvery,
      truncateDamagedTail: config.truncateDamagedTail,
      diskReserveBytes: config.diskReserveBytes,
      diskCheckIntervalMs: config.diskCheckIntervalMs,
      observer: metrics.observer,
      logger,
      onFatalError: (error: CommandLoopFailedError) => {
        // Every call from now on, and every stream, is answered UNAVAILABLE naming the cause while
        // the server stops gracefully (no caller sees a reset connection); then the process exits.
        state.stop(error);
        logger.fatal({ err: error, reason: error.reason }, 'command loop failed: answering UNAVAILABLE and stopping; a restart recovers from the journal');
        void (stopService?.(statuses.toServiceError(error)) ?? Promise.resolve()).then(() => options.onFatalError?.(error));
      },
    };
    let role: string = 'single';
    if (config.jetstream) {
      const replicated = await openReplicatedLoop({
        ...loopOptions,
        jetstream: config.jetstream,
        lease: config.lease,
        advertisedAddress: config.advertisedAddress ?? address,
        retainCommands: config.retainCommands ?? 0,
        replication: metrics.replication,
      });
      loop = replicated;
      role = replicated.role();
    } else {
      loop = await openCommandLoop(loopOptions);
    }
    const marketData = new MarketData({
      markets: config.markets.map((m) => m.symbol),
      queries: loop.queries,
      limits: streamLimits,
      streamBuffer: config.streamBuffer,
      onTooSlow: (stream) => metrics.slowConsumer(stream),
      onConflated: () => metrics.bookConflated(),
    });
    loop.onEvents((_seq, batch) => {
      metrics.countEvents(batch);
      marketData.route(batch);
    });
    const readyLoop = loop;
    metrics.watchQueueDepth(() => readyLoop.queueDepth());
    metrics.watchFreeDisk(() => readyLoop.freeDiskBytes());
    state.serve({ loop, marketData });
    engineReady = loop;
    grpcServer.setServing(true);
    logger.info({ address, role, metricsPort: metricsEndpoint.port, lastSeq: loop.queries.lastSeq(), markets: config.markets.map((m) => m.symbol) }, 'matching service serving');

    const endpoint = metricsEndpoint;
    let stopping: Promise<void> | undefined;
    const stop = (reason: ServiceError): Promise<void> => {
      stopping ??= (async () => {
        server.setServing(false);
        liveCalls.closeAll(reason);
        marketData.stop();
        await server.shutdown(config.shutdownGraceMs);
        await readyLoop.close();
        tokens.close();
        await endpoint.close();
        logger.info({ lastSeq: readyLoop.queries.lastSeq() }, 'matching service stopped');
      })();
      return stopping;
    };
    stopService = stop;
    return {
      port: grpcServer.port,
      address,
      metricsPort: metricsEndpoint.port,
      stop: () => stop(grpcError(status.UNAVAILABLE, 'the matching service is shutting down', { reason: 'SHUTTING_DOWN', retryDelayMs: 1000 })),
    };
  } catch (err) {
    await grpcServer?.shutdown(0);
    await loop?.close();
    await metricsEndpoint?.close();
    tokens.close();
    throw err;
  }
}
