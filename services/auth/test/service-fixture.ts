import pino from 'pino';
import { AuthService } from '../src/api/auth-service';
import type { AuthDeps, CallContext } from '../src/api/deps';
import { RevocationFeed } from '../src/revocation-feed';
import type { PasswordHasher } from '../src/security/passwords';
import { Sealer } from '../src/security/sealing';
import type { AuthStore } from '../src/storage/auth-store';
import { MemoryThrottleStore } from '../src/throttle/memory-throttle-store';
import { SignInThrottle, type SignInThrottlePolicy } from '../src/throttle/sign-in-throttle';
import { SignUpLimit } from '../src/throttle/sign-up-limit';
import { AccessTokens } from '../src/tokens/access-tokens';
import { KeyRing } from '../src/tokens/key-ring';
import { RefreshTokens } from '../src/tokens/refresh-tokens';
import { RESERVED_USERNAMES } from '../src/validation';
import { TEST_ENCRYPTION_KEY } from './helpers';

/** An AuthService over a store, in this process (no gRPC): for tests about what one operation does inside. */
export async function serviceOver(
  store: AuthStore,
  passwords: PasswordHasher,
  throttle: Partial<SignInThrottlePolicy> = {},
): Promise<{ service: AuthService; deps: AuthDeps; ctx: (peer?: string) => CallContext }> {
  const logger = pino({ level: 'silent' });
  const sealer = new Sealer(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));
  const keys = await KeyRing.shared(store.signingKeys, sealer, { publishLeadMs: 0, retentionMs: 60_000, rotationDays: 0, logger });
  const throttleStore = new MemoryThrottleStore(60_000);
  const deps: AuthDeps = {
    store,
    passwords,
    sealer,
    keys,
    accessTokens: new AccessTokens(keys, { issuer: 'i', audience: 'a', ttlSeconds: 60, clockToleranceSeconds: 30 }),
    refreshTokens: new RefreshTokens(store.sessions, sealer, { ttlSeconds: 3600, reuseGraceMs: 30_000 }),
    throttle: new SignInThrottle(throttleStore, {
      freeAccountFailures: 2,
      freePeerFailures: 100,
      baseDelayMs: 60_000,
      maxAccountDelayMs: 60_000,
      maxPeerDelayMs: 60_000,
      ...throttle,
    }),
    signUpLimit: new SignUpLimit(throttleStore, { maxPerPeer: 1000, maxTotal: 1000, windowMs: 60_000 }),
    feed: new RevocationFeed(store.revocations, { pollIntervalMs: 1000, heartbeatMs: 1000, maxWatchers: 1, maxWatchersPerPeer: 1, logger }),
    policy: { issuer: 'i', audience: 'a', requireTotpForAdmins: false, reservedUsernames: new Set(RESERVED_USERNAMES), reservedEmails: new Set() },
    logger,
  };
  return { service: new AuthService(deps), deps, ctx: (peer = 'peer') => ({ peer, userAgent: '', deadlineMs: Infinity }) };
}
