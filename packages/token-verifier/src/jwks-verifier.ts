import * as grpc from '@grpc/grpc-js';
import { auth } from '@orderbook/proto';
import type { Logger } from '@orderbook/server-kit';
import type { AuthChannel } from './auth-channel';
import { importJWK, type KeyLike } from 'jose';
import { ACCESS_TOKEN_ALGORITHM, verifyAccessToken } from './access-token';
import { KeysUnavailableError, type TokenVerifier } from './identity';

export interface JwksVerifierOptions {
  /** host:port of the auth service. */
  readonly authAddress: string;
  /** Expected `iss` claim. */
  readonly issuer: string;
  /** Expected `aud` claim. */
  readonly audience: string;
  /** Allowed clock skew for exp/nbf/iat, in seconds. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** A token with an unknown kid triggers a refetch at most this often. Default 30000. */
  readonly minKeyRefreshIntervalMs?: number;
  /** Keys older than this are refetched on the next verification (so removed keys stop working). Default 300000. */
  readonly maxKeySetAgeMs?: number;
  /** Deadline of one GetPublicKeys call. Default 5000. */
  readonly fetchTimeoutMs?: number;
  readonly logger?: Pick<Logger, 'warn'>;
  /** How to dial the auth service (TLS credentials and their channel options); plaintext when absent. */
  readonly channel?: AuthChannel;
}

/** After a failed fetch, retry sooner than after a successful one: the auth service may just be starting. */
const FAILED_FETCH_RETRY_MS = 1000;

/** A TokenVerifier that checks access tokens against the auth service's published keys (GetPublicKeys over gRPC). */
export function createJwksVerifier(options: JwksVerifierOptions): TokenVerifier {
  const clockToleranceSeconds = options.clockToleranceSeconds ?? 30;
  const keys = new RemoteKeySet(options);
  const expected = { issuer: options.issuer, audience: options.audience, clockToleranceSeconds };
  return {
    verify: (token) => verifyAccessToken(token, (kid) => keys.resolve(kid), expected),
    close: () => keys.close(),
  };
}

class RemoteKeySet {
  private readonly client: auth.AuthServiceClient;
  private readonly minRefreshMs: number;
  private readonly maxAgeMs: number;
  private readonly fetchTimeoutMs: number;
  private keys = new Map<string, KeyLike>();
  private loadedAt: number | undefined;
  private lastAttemptAt: number | undefined;
  private lastAttemptFailed = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: JwksVerifierOptions) {
    this.minRefreshMs = options.minKeyRefreshIntervalMs ?? 30_000;
    this.maxAgeMs = Math.max(options.maxKeySetAgeMs ?? 300_000, this.minRefreshMs);
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 5000;
    this.client = new auth.AuthServiceClient(options.authAddress, this.options.channel?.credentials ?? grpc.credentials.createInsecure(), {
      ...this.options.channel?.options,
      // grpc-js backs off up to 2 minutes between reconnects; keys must be reachable soon after auth comes back.
      'grpc.max_reconnect_backoff_ms': 5000,
    });
  }

  async resolve(kid: string): Promise<KeyLike | undefined> {
    const fresh = this.loadedAt !== undefined && Date.now() - this.loadedAt < this.maxAgeMs;
    if (fresh && this.keys.has(kid)) return this.keys.get(kid);
    if (this.inFlight !== undefined || this.fetchAllowed()) await this.refresh();
    const key = this.keys.get(kid);
    if (key !== undefined) return key;
    // Without a successful latest fetch we cannot tell an unknown key from one we failed to load.
    if (this.loadedAt === undefined || this.lastAttemptFailed) {
      throw new KeysUnavailableError(`cannot fetch signing keys from the auth service at ${this.options.authAddress}`);
    }
    return undefined;
  }

  close(): void {
    this.client.close();
  }

  private fetchAllowed(): boolean {
    if (this.lastAttemptAt === undefined) return true;
    const wait = this.lastAttemptFailed ? Math.min(FAILED_FETCH_RETRY_MS, this.minRefreshMs) : this.minRefreshMs;
    return Date.now() - this.lastAttemptAt >= wait;
  }

  /** One fetch at a time; concurrent verifications wait for the same one. */
  private refresh(): Promise<void> {
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<void> {
    this.lastAttemptAt = Date.now();
    try {
      const response = await this.getPublicKeys();
      this.keys = await importEd25519Keys(response.keys);
      this.loadedAt = Date.now();
      this.lastAttemptFailed = false;
      if (response.issuer !== this.options.issuer || response.audience !== this.options.audience) {
        this.options.logger?.warn(
          { served: { issuer: response.issuer, audience: response.audience }, expected: { issuer: this.options.issuer, audience: this.options.audience } },
          'auth service issuer/audience differ from the configured ones: its tokens will be rejected',
        );
      }
    } catch (err) {
      this.lastAttemptFailed = true;
      const connection = await this.options.channel?.diagnose?.(this.options.authAddress);
      this.options.logger?.warn(
        { err, authAddress: this.options.authAddress, ...(connection === undefined ? {} : { connection }) },
        connection === undefined ? 'fetching signing keys failed' : `fetching signing keys failed: cannot connect to auth: ${connection}`,
      );
    }
  }

  private getPublicKeys(): Promise<auth.GetPublicKeysResponse> {
    return new Promise((resolve, reject) => {
      this.client.getPublicKeys({}, new grpc.Metadata(), { deadline: Date.now() + this.fetchTimeoutMs }, (err, response) =>
        err ? reject(err) : resolve(response),
      );
    });
  }
}

/** Only Ed25519 signing keys are usable; others in the set are skipped rather than trusted with another algorithm. */
async function importEd25519Keys(jwks: readonly auth.JsonWebKey[]): Promise<Map<string, KeyLike>> {
  const keys = new Map<string, KeyLike>();
  for (const jwk of jwks) {
    const usable =
      jwk.kid !== '' && jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.alg === ACCESS_TOKEN_ALGORITHM && jwk.use === 'sig' && jwk.x !== '';
    if (!usable) continue;
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, ACCESS_TOKEN_ALGORITHM).catch(() => undefined);
    if (key !== undefined && !(key instanceof Uint8Array)) keys.set(jwk.kid, key);
  }
  return keys;
}
