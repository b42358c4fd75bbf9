#!/usr/bin/env node
import { ConfigError, createLogger, onTerminationSignal, runMain } from '@orderbook/server-kit';
import { loadConfig } from './ops/config';
import { startMatchingServer } from './server';

/** Serves until SIGTERM/SIGINT (graceful: in-flight commands finish, journal flushed, final snapshot). */
async function main(args: readonly string[]): Promise<void> {
  if (args.length > 0) throw new ConfigError('usage: main.ts   (configuration comes from the environment; see config.ts)');
  const config = loadConfig(process.env);
  const logger = createLogger('matching', config.logLevel);
  const server = await startMatchingServer(config, {
    logger,
    // Memory is ahead of the journal: only a restart (recovery from disk) is safe.
    onFatalError: () => logger.flush(() => process.exit(1)),
  });
  onTerminationSignal(logger, server.stop);
}

runMain('matching', main);
