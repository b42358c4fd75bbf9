import { createLogger, onTerminationSignal, runMain } from '@orderbook/server-kit';
import { loadConfig } from './config';
import { startGateway } from './server';

runMain('gateway', async () => {
  const config = loadConfig(process.env);
  const logger = createLogger('gateway', config.logLevel);
  const gateway = await startGateway(config, logger);
  onTerminationSignal(logger, () => gateway.stop());
});
