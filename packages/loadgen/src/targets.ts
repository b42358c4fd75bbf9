import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TestPki } from '@orderbook/test-support';
import { createTraders, type Trader } from './accounts';
import { packageDir } from '@orderbook/server-kit';
import { freePort, spawnNode, waitUntilReady, type ChildServer } from './processes';
import { isListening, isServing } from './readiness';

/** What the workers send orders to: an address, a token per user, and the processes behind it. */
export interface Target {
  readonly name: string;
  readonly address: string;
  readonly tokens: readonly string[];
  /** The process that handles the orders: its CPU is reported per phase. */
  readonly loaded: ChildServer;
  readonly servers: readonly ChildServer[];
  /** CA certificate of the target's TLS certificate; plaintext when absent. */
  readonly tlsCaFile?: string;
  /** matching's /metrics, for the time the calls spent inside it; the bare server has none. */
  readonly metricsUrl?: string;
}

/** The real services, with a way to restart matching (same data, same address) over TLS. */
export interface OursTarget extends Target {
  readonly traders: readonly Trader[];
  /** Stops matching and starts it again serving TLS with a certificate made for the run; the target to measure then. */
  restartMatchingWithTls(): Promise<Target>;
}

const ROOT = join(packageDir(__dirname), '..', '..');
const START_TIMEOUT_MS = 60_000;

export interface OursOptions {
  readonly workDir: string;
  readonly markets: readonly string[];
  readonly users: number;
  /** Asset → amount credited to every user. */
  readonly funding: Readonly<Record<string, string>>;
  /** Extra environment of the matching service (e.g. stream limits). */
  readonly matchingEnv?: Readonly<Record<string, string>>;
  /** The checkout whose services run (built as this one is); this one when absent (comparing builds: make bench-profile --against). */
  readonly root?: string;
}

/**
 * The real services as `make run` starts them (each its own process, journaling on — it cannot
 * be turned off), on free ports of 127.0.0.1 with data in workDir. bcrypt cost 4 keeps the
 * sign-ups of the set-up short; tokens live a day because the generator does not refresh them.
 */
export async function startOurs(options: OursOptions): Promise<OursTarget> {
  const [authPort, matchingPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const authAddress = `127.0.0.1:${authPort}`;
  const matchingAddress = `127.0.0.1:${matchingPort}`;
  const admin = { login: 'bench-admin', password: randomBytes(18).toString('base64url') };
  const servers: ChildServer[] = [];
  const startService = async (name: 'auth' | 'matching', env: Record<string, string>, address: string, credentials?: grpc.ChannelCredentials): Promise<ChildServer> => {
    const server = spawnNode(name, join(options.root ?? ROOT, 'services', name), 'src/main', env, join(options.workDir, `${name}.log`));
    servers.push(server);
    await waitUntilReady(server, () => isServing(address, credentials), START_TIMEOUT_MS);
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
    const matchingEnv = {
      MATCHING_HOST: '127.0.0.1',
      MATCHING_PORT: String(matchingPort),
      MATCHING_DATA_DIR: join(options.workDir, 'matching'),
      MATCHING_MARKETS: options.markets.join(','),
      MATCHING_METRICS_PORT: String(metricsPort),
      AUTH_ADDRESS: authAddress,
      // Every trader's OrderSession comes from this one address, and sessions count as streams.
      MATCHING_MAX_STREAMS: '1000000',
      MATCHING_MAX_STREAMS_PER_PEER: '1000000',
      // A few traders rest every order the load places: far more than a real user's bound.
      MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET: '10000000',
      ...options.matchingEnv,
    };
    const matchingServer = await startService('matching', matchingEnv, matchingAddress);
    const traders = await createTraders({
      authAddress,
      matchingAddress,
      count: options.users,
      prefix: `bench-${randomBytes(3).toString('hex')}`,
      admin,
      funding: options.funding,
    });
    const tokens = traders.map((t) => t.accessToken);
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const restartMatchingWithTls = async (): Promise<Target> => {
      const pkiDir = join(options.workDir, 'tls');
      mkdirSync(pkiDir, { recursive: true });
      const pki = TestPki.createCa(pkiDir, 'bench');
      const certificate = pki.issue('matching');
      await matchingServer.stop();
      servers.splice(servers.indexOf(matchingServer), 1);
      const tlsEnv = { ...matchingEnv, MATCHING_TLS_CERT_FILE: certificate.certFile, MATCHING_TLS_KEY_FILE: certificate.keyFile };
      const tlsServer = await startService('matching', tlsEnv, matchingAddress, grpc.credentials.createSsl(readFileSync(pki.ca.certFile)));
      return { name: 'ours over TLS', address: matchingAddress, tokens, loaded: tlsServer, servers, tlsCaFile: pki.ca.certFile, metricsUrl };
    };
    return { name: 'ours', address: matchingAddress, tokens, loaded: matchingServer, servers, traders, metricsUrl, restartMatchingWithTls };
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
  const server = spawnNode('bare', join(ROOT, 'packages', 'loadgen'), 'src/bare-server', { BARE_PORT: String(port) }, join(workDir, 'bare.log'));
  try {
    await waitUntilReady(server, () => isListening(address), START_TIMEOUT_MS);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { name: 'bare', address, tokens: tokens.map((token) => 'x'.repeat(token.length)), loaded: server, servers: [server] };
}
