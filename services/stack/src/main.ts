#!/usr/bin/env node
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig as loadAuthConfig } from '@orderbook/auth-service/src/config';
import { loadConfig as loadGatewayConfig } from '@orderbook/gateway-service';
import { loadConfig as loadMatchingConfig } from '@orderbook/matching-service/src/ops/config';
import { ConfigError, entryPointArgs, packageDir } from '@orderbook/server-kit';
import { waitUntilHttpServing, waitUntilServing } from './health';

/**
 * `make run`: auth, matching and the HTTP gateway as child processes on their embedded defaults
 * (SQLite and the journal under ./data), reported once all are healthy. SIGINT/SIGTERM are
 * forwarded once to each child, which then shuts down gracefully; the launcher exits when all have.
 */

const ROOT = join(packageDir(__dirname), '..', '..');

/** A development convenience only: printed with a warning, overridden by setting the three variables. */
const DEV_ADMIN = { AUTH_ADMIN_USERNAME: 'admin', AUTH_ADMIN_EMAIL: 'admin@example.com', AUTH_ADMIN_PASSWORD: 'orderbook-admin' } as const;

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with a description of how the process ended. */
  readonly exited: Promise<string>;
}

function startService(name: 'auth' | 'matching' | 'gateway', env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, entryPointArgs(join(ROOT, 'services', name), 'src/main'), {
    cwd: ROOT,
    env,
    stdio: 'inherit',
    // Own process group: a terminal's Ctrl-C reaches only the launcher, which forwards it once
    // (a second SIGINT would make a service skip its graceful shutdown).
    detached: true,
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`${name} exited (${signal ?? `code ${code}`})`));
    child.once('error', (err) => resolve(`${name} could not start: ${err.message}`));
  });
  return { name, process: child, exited };
}

function childEnvironment(): { env: NodeJS.ProcessEnv; devAdmin: boolean } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const adminSet = ['AUTH_ADMIN_USERNAME', 'AUTH_ADMIN_EMAIL', 'AUTH_ADMIN_PASSWORD'].some((name) => (env[name] ?? '') !== '');
  if (!adminSet) Object.assign(env, DEV_ADMIN);
  return { env, devAdmin: !adminSet };
}

function banner(authAddress: string, matchingAddress: string, gatewayAddress: string, metricsPort: number, adminUsername: string | undefined, devAdmin: boolean): string {
  // Only the development default is echoed: a password the operator chose stays off the terminal.
  const password = devAdmin ? DEV_ADMIN.AUTH_ADMIN_PASSWORD : '<password>';
  const admin =
    adminUsername === undefined
      ? ['No admin account configured (AUTH_ADMIN_USERNAME, AUTH_ADMIN_EMAIL, AUTH_ADMIN_PASSWORD): nobody can add funds.']
      : devAdmin
        ? [
            `Admin account: username "${adminUsername}", password "${password}"`,
            '  WARNING: these are development defaults. Set AUTH_ADMIN_USERNAME, AUTH_ADMIN_EMAIL and AUTH_ADMIN_PASSWORD for anything else.',
          ]
        : [`Admin account: username "${adminUsername}", password as set in AUTH_ADMIN_PASSWORD`];
  const lines = [
    '',
    'Orderbook is running.',
    `  auth      grpc://${authAddress}    (orderbook.auth.v1.AuthService)`,
    `  matching  grpc://${matchingAddress}    (orderbook.matching.v1.MatchingService)`,
    `  metrics   http://${matchingAddress.replace(/:\d+$/, '')}:${metricsPort}/metrics`,
    `  gateway   http://${gatewayAddress}    (HTTP/JSON API, /openapi.json)`,
    `  console   http://${gatewayAddress}/`,
    '',
    ...admin,
    '',
    'Sign in, then call matching with the access token (reflection is on: grpcurl needs no .proto files):',
    `  ACCESS_TOKEN=$(grpcurl -plaintext -d '{"login":"${adminUsername ?? '<username>'}","password":"${password}"}' ${authAddress} orderbook.auth.v1.AuthService/SignIn | jq -r .tokens.accessToken)`,
    `  grpcurl -plaintext -H "authorization: Bearer $ACCESS_TOKEN" ${matchingAddress} orderbook.matching.v1.MatchingService/GetBalances`,
    'Market data is public:',
    `  grpcurl -plaintext -d '{"market":"BTC-USD"}' ${matchingAddress} orderbook.matching.v1.MatchingService/GetOrderBook`,
    `  curl -s http://${gatewayAddress}/v1/markets/BTC-USD/book`,
    '',
    'Ctrl-C stops all three gracefully.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { env, devAdmin } = childEnvironment();
  const authConfig = loadAuthConfig(env);
  const authAddress = `${loopback(authConfig.host)}:${authConfig.port}`;
  // Matching verifies tokens with the auth service started here, unless told otherwise.
  env['AUTH_ADDRESS'] ??= authAddress;
  const matchingConfig = loadMatchingConfig(env);
  const matchingAddress = `${loopback(matchingConfig.host)}:${matchingConfig.port}`;
  // The gateway forwards to the services started here, unless told otherwise.
  env['GATEWAY_AUTH_ADDRESS'] ??= authAddress;
  env['GATEWAY_MATCHING_ADDRESS'] ??= matchingAddress;
  // The gateway dials from loopback: let the services count each HTTP client by the address it forwards.
  env['AUTH_TRUSTED_PROXIES'] ??= LOOPBACK_PROXIES;
  env['MATCHING_TRUSTED_PROXIES'] ??= LOOPBACK_PROXIES;
  const gatewayConfig = loadGatewayConfig(env);
  const gatewayAddress = `${loopback(gatewayConfig.host)}:${gatewayConfig.port}`;
  if (authConfig.port === 0 || matchingConfig.port === 0 || gatewayConfig.port === 0) {
    throw new ConfigError('AUTH_PORT, MATCHING_PORT and GATEWAY_PORT: the launcher needs fixed ports, not 0');
  }

  const children = [startService('auth', env), startService('matching', env), startService('gateway', env)];
  let stopping = false;
  const stopAll = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill(signal);
  };
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));

  // If any service dies, the stack is down: stop the others too.
  const firstExit = Promise.race(children.map((c) => c.exited));
  void firstExit.then((reason) => {
    if (!stopping) process.stderr.write(`stack: ${reason}; stopping the other services\n`);
    stopAll('SIGTERM');
  });

  try {
    await waitUntilServing(authAddress, firstExit);
    await waitUntilServing(matchingAddress, firstExit);
    await waitUntilHttpServing(`http://${gatewayAddress}/readyz`, firstExit);
    process.stdout.write(banner(authAddress, matchingAddress, gatewayAddress, matchingConfig.metricsPort, authConfig.admin?.username, devAdmin));
  } catch (err) {
    process.stderr.write(`stack: a service failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  }

  await Promise.all(children.map((c) => c.exited));
  const failed = children.some((c) => c.process.exitCode !== 0);
  return failed ? 1 : 0;
}

const LOOPBACK_PROXIES = '127.0.0.1,::1';

/** The address a local client uses for a server bound to host. */
function loopback(host: string): string {
  return host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
