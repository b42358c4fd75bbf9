export { CONFIG_VARIABLES, loadConfig, type AdminAccount, type AuthConfig } from './config';
export { startAuthServer, type RunningAuthServer, type StartAuthServerOptions } from './server';
