export { CONFIG_VARIABLES, loadConfig, type AdminAccount, type AuthConfig, type LogLevel } from './config';
export { startAuthServer, type RunningAuthServer, type StartAuthServerOptions } from './server';
