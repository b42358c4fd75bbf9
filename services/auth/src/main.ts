import { ConfigError, createLogger, onTerminationSignal, runMain } from '@orderbook/server-kit';
import { loadConfig } from './config';
import { loadKeys, startAuthServer } from './server';

const USAGE = 'usage: main.ts [rotate-keys]   (configuration comes from the environment; see config.ts)';

/**
 * `main.ts` serves until SIGTERM/SIGINT. `main.ts rotate-keys` replaces the generated signing key in
 * AUTH_DATA_DIR and exits; restart the server afterwards so that it signs with the new key.
 */
async function main(args: readonly string[]): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger('auth', config.logLevel);
  const [command, ...rest] = args;
  if (command === 'rotate-keys' && rest.length === 0) {
    // Age-based rotation off: this command rotates exactly once.
    const keys = await loadKeys({ ...config, keys: { ...config.keys, rotationDays: 0 } }, logger);
    await keys.rotate();
    return;
  }
  if (command !== undefined) throw new ConfigError(USAGE);
  const server = await startAuthServer(config, { logger });
  onTerminationSignal(logger, server.stop);
}

runMain('auth', main);
