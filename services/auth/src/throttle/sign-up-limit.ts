import type { ThrottleStore } from './throttle-store';

export interface SignUpLimits {
  readonly maxPerPeer: number;
  readonly maxTotal: number;
  readonly windowMs: number;
}

/**
 * Sign-up attempts (successful or not) per client address and in total per window: bounds how
 * fast anyone can probe which usernames and emails are taken, and how fast accounts appear.
 */
export class SignUpLimit {
  constructor(
    private readonly store: ThrottleStore,
    private readonly limits: SignUpLimits,
  ) {}

  /** Counts the attempt; resolves to 0, or to the ms until the peer may try again when over a limit. */
  async attempt(peer: string, nowMs = Date.now()): Promise<number> {
    const perPeer = await this.store.hit(`signup:peer:${peer}`, this.limits.windowMs, nowMs);
    if (perPeer.count > this.limits.maxPerPeer) return Math.max(1, perPeer.resetInMs);
    const total = await this.store.hit('signup:total', this.limits.windowMs, nowMs);
    if (total.count > this.limits.maxTotal) return Math.max(1, total.resetInMs);
    return 0;
  }
}
