import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTraders, type Trader } from './accounts';
import { freePort, spawnTsNode, waitUntilReady, type ChildServer } from './processes';
import { isListening, isServing } from './readiness';

/** What the workers send orders to: an address, a token per user, and the processes behind it. */
export interface Target {
  readonly name: string;
  readonly address: string;
  readonly tokens: readonly string[];
  /** The process that handles the orders: its CPU is reported per phase. */
  readonly loaded: ChildServer;
  readonly servers: readonly ChildServer[];
  /** matching's /metrics, for the time the calls spent inside it; the bare server has none. */
  readonly metricsUrl?: string;
}

const ROOT = join(__dirname, '..', '..', '..');
const START_TIMEOUT_MS = 60_000;

export interface OursOptions {
  readonly workDir: string;
  readonly markets: readonly string[];
  readonly users: number;
  /** Asset → amount credited to every user. */
  readonly funding: Readonly<Record<string, string>>;
  /** Extra environment of the matching service (e.g. stream limits). */
  readonly matchingEnv?: Readonly<Record<string, string>>;
}

/**
 * The real services as `make run` starts them (each its own process, journaling on — it cannot
 * be turned off), on free ports of 127.0.0.1 with data in workDir. bcrypt cost 4 keeps the
 * sign-ups of the set-up short; tokens live a day because the generator does not refresh them.
 */
export async function startOurs(options: OursOptions): Promise<Target & { readonly traders: readonly Trader[] }> {
  const [authPort, matchingPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const authAddress = `127.0.0.1:${authPort}`;
  const matchingAddress = `127.0.0.1:${matchingPort}`;
  const admin = { login: 'bench-admin', password: randomBytes(18).toString('base64url') };
  const servers: ChildServer[] = [];
  const startService = async (name: 'auth' | 'matching', env: Record<string, string>, address: string): Promise<ChildServer> => {
    const server = spawnTsNode(name, join(ROOT, 'services', name, 'src', 'main.ts'), env, join(options.workDir, `${name}.log`));
    servers.push(server);
    await waitUntilReady(server, () => isServing(address), START_TIMEOUT_MS);
    return server;
  };
  try {
    await startService(
      'auth',
      {
        AUTH_HOST: '127.0.0.1',
        AUTH_PORT: String(authPort),
        AUTH_DATA_DIR: join(options.workDir, 'auth'),
        AUTH_BCRYPT_COST: '4',
        // Every trader signs up from this one address.
        AUTH_SIGNUP_MAX_PER_PEER: '1000000',
        AUTH_SIGNUP_MAX_TOTAL: '1000000',
        AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400',
        AUTH_ADMIN_USERNAME: admin.login,
        AUTH_ADMIN_EMAIL: 'bench-admin@example.com',
        AUTH_ADMIN_PASSWORD: admin.password,
      },
      authAddress,
    );
    const matchingServer = await startService(
      'matching',
      {
        MATCHING_HOST: '127.0.0.1',
        MATCHING_PORT: String(matchingPort),
        MATCHING_DATA_DIR: join(options.workDir, 'matching'),
        MATCHING_MARKETS: options.markets.join(','),
        MATCHING_METRICS_PORT: String(metricsPort),
        AUTH_ADDRESS: authAddress,
        ...options.matchingEnv,
      },
      matchingAddress,
    );
    const traders = await createTraders({
      authAddress,
      matchingAddress,
      count: options.users,
      prefix: `bench-${randomBytes(3).toString('hex')}`,
      admin,
      funding: options.funding,
    });
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    return { name: 'ours', address: matchingAddress, tokens: traders.map((t) => t.accessToken), loaded: matchingServer, servers, traders, metricsUrl };
  } catch (err) {
    await Promise.all(servers.map((server) => server.stop()));
    throw err;
  }
}

/**
 * The bare grpc-js server as a child process. It ignores the authorization header, but the
 * workers send one anyway, as long as the real tokens, so that both targets see the same bytes.
 */
export async function startBare(workDir: string, tokens: readonly string[]): Promise<Target> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server = spawnTsNode('bare', join(ROOT, 'packages', 'loadgen', 'src', 'bare-server.ts'), { BARE_PORT: String(port) }, join(workDir, 'bare.log'));
  try {
    await waitUntilReady(server, () => isListening(address), START_TIMEOUT_MS);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { name: 'bare', address, tokens: tokens.map((token) => 'x'.repeat(token.length)), loaded: server, servers: [server] };
}
