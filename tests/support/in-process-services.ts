import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig as loadAuthConfig, startAuthServer, type RunningAuthServer } from '@orderbook/auth-service';
import { loadConfig as loadMatchingConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';

/** Auth on port 0 with a bootstrapped admin "admin" and a fast bcrypt cost, data under dir/auth. */
export function startTestAuth(dir: string, adminPassword: string, extraEnv: Readonly<Record<string, string>> = {}): Promise<RunningAuthServer> {
  return startAuthServer(
    loadAuthConfig({
      AUTH_PORT: '0',
      AUTH_DATA_DIR: join(dir, 'auth'),
      AUTH_BCRYPT_COST: '4',
      // Every trader signs up from this one address.
      AUTH_SIGNUP_MAX_PER_PEER: '1000000',
      AUTH_SIGNUP_MAX_TOTAL: '1000000',
      AUTH_ADMIN_USERNAME: 'admin',
      AUTH_ADMIN_EMAIL: 'admin@example.com',
      AUTH_ADMIN_PASSWORD: adminPassword,
      LOG_LEVEL: 'silent',
      ...extraEnv,
    }),
  );
}

/** The matching environment for a test: ports 0, data under dir/matching, tokens from this auth. */
export function testMatchingEnv(dir: string, auth: RunningAuthServer): Record<string, string> {
  return {
    MATCHING_PORT: '0',
    MATCHING_METRICS_PORT: '0',
    MATCHING_DATA_DIR: join(dir, 'matching'),
    AUTH_ADDRESS: auth.address,
    AUTH_ISSUER: auth.issuer,
    AUTH_AUDIENCE: auth.audience,
    LOG_LEVEL: 'silent',
  };
}

export interface InProcessServices {
  readonly dir: string;
  readonly auth: RunningAuthServer;
  readonly matching: RunningMatchingServer;
  stop(): Promise<void>;
}

/** Extra environment of each service (e.g. TLS files). */
export interface ServicesEnv {
  readonly auth?: Readonly<Record<string, string>>;
  readonly matching?: Readonly<Record<string, string>>;
}

/** Real auth and matching servers in this process, in a fresh temp dir removed by stop(). */
export async function startInProcessServices(prefix: string, adminPassword: string, env: ServicesEnv = {}): Promise<InProcessServices> {
  const dir = await mkdtemp(join(tmpdir(), `orderbook-${prefix}-`));
  const auth = await startTestAuth(dir, adminPassword, env.auth);
  const matching = await startMatchingServer(loadMatchingConfig({ ...testMatchingEnv(dir, auth), ...env.matching }));
  return {
    dir,
    auth,
    matching,
    stop: async () => {
      await matching.stop();
      await auth.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
