#!/usr/bin/env node
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, createLogger, onTerminationSignal, runMain, type Logger } from '@orderbook/server-kit';
import type { CommandLoopFailedError } from './loop/errors';
import { loadConfig, type MatchingConfig } from './ops/config';
import { MatchingMetrics } from './ops/metrics';
import { startMatchingServer, type RunningMatchingServer, type StartMatchingServerOptions } from './server';

/**
 * With the replicated journal, a leader deposed (its lease lapsed, or another leader appended) or
 * cut off from the stream recovers from the stream as a follower in this same process; any other
 * failure (a full disk, an engine fault) exits for a supervisor to look at.
 */
const REJOINS: ReadonlySet<string> = new Set(['LEASE_LOST', 'JOURNAL_FENCED', 'JOURNAL_WRITE_FAILED']);
const REJOIN_ATTEMPTS = 10;
const REJOIN_PAUSE_MS = 1000;

/** Serves until SIGTERM/SIGINT (graceful: in-flight commands finish, journal flushed, final snapshot). */
async function main(args: readonly string[]): Promise<void> {
  if (args.length > 0) throw new ConfigError('usage: main.ts   (configuration comes from the environment; see config.ts)');
  const config = loadConfig(process.env);
  const logger = createLogger('matching', config.logLevel);
  const exit = (): void => logger.flush(() => process.exit(1));
  // One set of counts across in-process restarts (a lost lease is counted just before one).
  const metrics = new MatchingMetrics();
  let server: RunningMatchingServer | undefined;
  const onFatalError = (error: CommandLoopFailedError): void => {
    // Memory is ahead of the journal: only a recovery (from disk, or from the stream) is safe.
    if (config.jetstream === undefined || !REJOINS.has(error.reason)) return exit();
    void rejoin(config, { logger, metrics, onFatalError }).then((started) => (started ? (server = started) : exit()));
  };
  server = await startMatchingServer(config, { logger, metrics, onFatalError });
  onTerminationSignal(logger, () => server?.stop() ?? Promise.resolve());
}

/** Starts the server again (it recovers from the stream and follows); undefined after repeated failures. */
async function rejoin(config: MatchingConfig, options: StartMatchingServerOptions & { logger: Logger }): Promise<RunningMatchingServer | undefined> {
  const { logger } = options;
  for (let attempt = 1; attempt <= REJOIN_ATTEMPTS; attempt++) {
    logger.warn({ attempt }, 'no longer leading: recovering from the stream to rejoin as a follower');
    try {
      return await startMatchingServer(config, options);
    } catch (err) {
      logger.error({ err, attempt }, 'rejoining failed');
      await sleep(REJOIN_PAUSE_MS);
    }
  }
  return undefined;
}

runMain('matching', main);
