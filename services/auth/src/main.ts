#!/usr/bin/env node
import { ConfigError, createLogger, onTerminationSignal, runMain } from '@orderbook/server-kit';
import { loadConfig } from './config';
import { loadKeys, openStore, startAuthServer } from './server';

const USAGE = 'usage: main.ts [rotate-keys]   (configuration comes from the environment; see config.ts)';

/**
 * `main.ts` serves until SIGTERM/SIGINT. `main.ts rotate-keys` schedules the next shared signing
 * key (it signs after AUTH_KEY_PUBLISH_LEAD_SECONDS, on every instance, without a restart) and exits.
 */
async function main(args: readonly string[]): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger('auth', config.logLevel);
  const [command, ...rest] = args;
  if (command === 'rotate-keys' && rest.length === 0) {
    const { store, sealer } = await openStore(config, logger);
    try {
      const next = await (await loadKeys(config, store, sealer, logger)).rotate();
      logger.info({ kid: next.kid, signsFrom: new Date(next.activatesAtMs).toISOString() }, 'next signing key scheduled');
    } finally {
      await store.close();
    }
    return;
  }
  if (command !== undefined) throw new ConfigError(USAGE);
  const server = await startAuthServer(config, { logger });
  onTerminationSignal(logger, server.stop);
}

runMain('auth', main);
