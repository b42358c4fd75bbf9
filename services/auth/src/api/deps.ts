import type { Logger } from '@orderbook/server-kit';
import type { RevocationFeed } from '../revocation-feed';
import type { PasswordHasher } from '../security/passwords';
import type { Sealer } from '../security/sealing';
import type { AuthStore } from '../storage/auth-store';
import type { SignInThrottle } from '../throttle/sign-in-throttle';
import type { SignUpLimit } from '../throttle/sign-up-limit';
import type { AccessTokens } from '../tokens/access-tokens';
import type { KeyRing } from '../tokens/key-ring';
import type { RefreshTokens } from '../tokens/refresh-tokens';

/** What one call brings besides its request. */
export interface CallContext {
  /** The client's address without port: the key of per-peer limits. */
  readonly peer: string;
  /** The client's `user-agent` metadata, shortened. */
  readonly userAgent: string;
  /** The bearer token of the call, if any. */
  readonly accessToken?: string;
  /** When the client stops waiting (Unix ms; Infinity without a deadline). */
  readonly deadlineMs: number;
}

export interface AuthPolicy {
  readonly issuer: string;
  readonly audience: string;
  /** Admin role only in tokens of sessions that signed in with a second factor. */
  readonly requireTotpForAdmins: boolean;
  /** Lower-cased usernames nobody may sign up with (the admin's, and well-known ones). */
  readonly reservedUsernames: ReadonlySet<string>;
  /** Lower-cased emails nobody may sign up with (the admin's). */
  readonly reservedEmails: ReadonlySet<string>;
}

/** Everything the operations of AuthService work with. */
export interface AuthDeps {
  readonly store: AuthStore;
  readonly passwords: PasswordHasher;
  readonly sealer: Sealer;
  readonly keys: KeyRing;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly throttle: SignInThrottle;
  readonly signUpLimit: SignUpLimit;
  readonly feed: RevocationFeed;
  readonly policy: AuthPolicy;
  readonly logger: Logger;
}
