import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { loadConfig as loadAuthConfig, startAuthServer, type RunningAuthServer } from '@orderbook/auth-service';
import { loadConfig as loadMatchingConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';

/**
 * Real auth and matching servers in this process (ports 0, data in a temp dir), reached over real
 * gRPC with the generated clients. Auth signs with a key the test holds, so tests can also mint
 * tokens (expired, forged, ...) the way only the auth service should be able to.
 */

export interface Trader {
  readonly userId: string;
  readonly username: string;
  readonly token: string;
  /** `authorization: Bearer <token>` */
  readonly metadata: grpc.Metadata;
}

export interface StackOptions {
  /** Extra matching environment (e.g. a tiny MATCHING_MAX_QUEUE_DEPTH). */
  readonly matchingEnv?: Readonly<Record<string, string>>;
  /** Extra auth environment (e.g. AUTH_METRICS_PORT). */
  readonly authEnv?: Readonly<Record<string, string>>;
}

/** The password of the stack's admin user, `admin`. */
export const ADMIN_PASSWORD = 'admin-password-for-tests';
let userCounter = 0;

export class TestStack {
  matching!: RunningMatchingServer;
  client!: MatchingClient;
  admin!: Trader;
  readonly authClient: AuthClient;
  /** The auth service's signing key and its kid, for minting tokens. */
  kid = '';

  private constructor(
    readonly dir: string,
    readonly auth: RunningAuthServer,
    readonly signingKey: KeyObject,
    private matchingEnv: Readonly<Record<string, string>>,
  ) {
    this.authClient = new AuthClient(auth.address);
  }

  static async start(options: StackOptions = {}): Promise<TestStack> {
    const dir = await mkdtemp(join(tmpdir(), 'orderbook-e2e-'));
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'signing-key.pem');
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const auth = await startAuthServer(
      loadAuthConfig({
        AUTH_PORT: '0',
        AUTH_DATA_DIR: join(dir, 'auth'),
        AUTH_BCRYPT_COST: '4',
        // Every trader signs up from this one address.
        AUTH_SIGNUP_MAX_PER_PEER: '1000000',
        AUTH_SIGNUP_MAX_TOTAL: '1000000',
        AUTH_SIGNING_KEY_FILE: keyFile,
        AUTH_ADMIN_USERNAME: 'admin',
        AUTH_ADMIN_EMAIL: 'admin@example.com',
        AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOG_LEVEL: 'silent',
        ...options.authEnv,
      }),
    );
    const stack = new TestStack(dir, auth, privateKey, options.matchingEnv ?? {});
    stack.kid = (await stack.authClient.getPublicKeys()).keys[0].kid;
    await stack.startMatching();
    stack.admin = await stack.signIn('admin', ADMIN_PASSWORD);
    return stack;
  }

  /** The matching configuration of this stack (same data dir across restarts). */
  matchingConfigEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return {
      MATCHING_PORT: '0',
      MATCHING_METRICS_PORT: '0',
      MATCHING_DATA_DIR: join(this.dir, 'matching'),
      AUTH_ADDRESS: this.auth.address,
      AUTH_ISSUER: this.auth.issuer,
      AUTH_AUDIENCE: this.auth.audience,
      MATCHING_SHUTDOWN_GRACE_MS: '2000',
      LOG_LEVEL: 'silent',
      ...this.matchingEnv,
      ...extra,
    };
  }

  async startMatching(extra: Readonly<Record<string, string>> = {}): Promise<void> {
    this.matching = await startMatchingServer(loadMatchingConfig(this.matchingConfigEnv(extra)));
    this.client = new MatchingClient(this.matching.address);
  }

  /** Stops matching gracefully and starts it again on the same data directory. */
  async restartMatching(): Promise<void> {
    this.client.close();
    await this.matching.stop();
    await this.startMatching();
  }

  async signIn(login: string, password: string): Promise<Trader> {
    const { tokens, user } = await this.authClient.signIn({ login, password });
    if (tokens === undefined || user === undefined) throw new Error('SignIn returned no tokens');
    return { userId: user.id, username: user.username, token: tokens.accessToken, metadata: bearer(tokens.accessToken) };
  }

  /** A new trader, signed up and signed in. */
  async newTrader(prefix = 'trader'): Promise<Trader> {
    userCounter += 1;
    const username = `${prefix}-${process.pid}-${userCounter}`;
    const password = `password-${username}`;
    await this.authClient.signUp({ username, email: `${username}@example.com`, password });
    return this.signIn(username, password);
  }

  /** Credits a trader through AddFunds, as the admin. */
  async fund(trader: Trader, asset: string, amount: string): Promise<void> {
    await this.client.addFunds({ userId: trader.userId, asset, amount }, this.admin.metadata);
  }

  /** Balances as { asset: [available, locked] }. */
  async balances(trader: Trader): Promise<Record<string, [string, string]>> {
    const { balances } = await this.client.getBalances(trader.metadata);
    return Object.fromEntries(balances.map((b) => [b.asset, [b.available, b.locked]]));
  }

  async stop(): Promise<void> {
    this.client.close();
    this.authClient.close();
    await this.matching.stop();
    await this.auth.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
