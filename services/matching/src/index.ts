export { CONFIG_VARIABLES, loadConfig, type MatchingConfig } from './ops/config';
export { MATCHING_SERVICE_NAME, startMatchingServer, type RunningMatchingServer, type StartMatchingServerOptions } from './server';
