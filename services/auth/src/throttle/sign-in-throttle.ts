import type { ThrottleStore } from './throttle-store';

export interface SignInThrottlePolicy {
  /** Failures of one account (any peer) before its delays start. */
  readonly freeAccountFailures: number;
  /** Failures from one peer (any account) before its delays start. */
  readonly freePeerFailures: number;
  /** The first delay; each further failure doubles it. */
  readonly baseDelayMs: number;
  readonly maxAccountDelayMs: number;
  readonly maxPeerDelayMs: number;
}

/** base × 2^(failures − free − 1) once past the free failures, capped at max; 0 before. */
export function delayAfter(failures: number, free: number, baseMs: number, maxMs: number): number {
  if (failures <= free) return 0;
  // 2^30 × base is far past any cap: stop doubling there instead of overflowing to Infinity.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - free - 1, 30));
}

/**
 * The sign-in throttling policy (README "Sign-in throttling"):
 * - per account: after the free failures, the account waits a doubling delay after each failure,
 *   and attempts in that time are refused before any password check, the right password too;
 *   a success clears the count;
 * - per peer: after the free failures, each failed attempt from the peer is answered only after
 *   a doubling delay. A right password is never refused or delayed because of the peer's count,
 *   so that an attacker behind a shared address cannot lock out the people next to them.
 * Counts are forgotten a window after the last failure (ThrottleStore).
 */
export class SignInThrottle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly policy: SignInThrottlePolicy,
  ) {}

  /** Milliseconds until the account may try again; 0 when it may now. */
  async accountWaitMs(accountKey: string, nowMs = Date.now()): Promise<number> {
    const { count, lastFailureMs } = await this.store.failures(accountKey, nowMs);
    const delay = delayAfter(count, this.policy.freeAccountFailures, this.policy.baseDelayMs, this.policy.maxAccountDelayMs);
    return Math.max(0, lastFailureMs + delay - nowMs);
  }

  /** Records a failure of the account from the peer; resolves to how long to hold the answer (the peer's delay). */
  async failed(accountKey: string, peerKey: string, nowMs = Date.now()): Promise<number> {
    const [, peer] = await this.store.addFailure([accountKey, peerKey], nowMs);
    return delayAfter(peer?.count ?? 0, this.policy.freePeerFailures, this.policy.baseDelayMs, this.policy.maxPeerDelayMs);
  }

  async succeeded(accountKey: string): Promise<void> {
    await this.store.clearFailures(accountKey);
  }
}
