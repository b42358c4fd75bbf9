/**
 * Per-client-address request rate (token buckets) and open things, event streams or connections
 * (per address and in total). The clock is passed in so that tests can drive it.
 */

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for peer: 0 if allowed, otherwise the seconds until one is available. */
  take(peer: string): number {
    const now = this.now();
    const bucket = this.buckets.get(peer) ?? { tokens: this.burst, updatedMs: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.perSecond);
    bucket.updatedMs = now;
    this.buckets.set(peer, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.forgetFullBuckets(now);
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  /** Buckets that have refilled completely say nothing: dropped so that memory follows active peers only. */
  private forgetFullBuckets(now: number): void {
    if (this.buckets.size < 10_000) return;
    for (const [peer, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.perSecond >= this.burst) this.buckets.delete(peer);
    }
  }
}

export type Admission = { readonly admitted: true; readonly leave: () => void } | { readonly admitted: false; readonly scope: 'peer' | 'total' };

/** Open things (event streams, connections) per client address and in total. */
export class Slots {
  private readonly perPeer = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxPerPeer: number,
    private readonly maxTotal: number,
  ) {}

  /** A place for peer; `countPeer` false counts it in the total only (a trusted proxy carries many clients). */
  admit(peer: string, countPeer = true): Admission {
    const mine = this.perPeer.get(peer) ?? 0;
    if (countPeer && mine >= this.maxPerPeer) return { admitted: false, scope: 'peer' };
    if (this.total >= this.maxTotal) return { admitted: false, scope: 'total' };
    if (countPeer) this.perPeer.set(peer, mine + 1);
    this.total += 1;
    let left = false;
    return {
      admitted: true,
      leave: () => {
        if (left) return;
        left = true;
        this.total -= 1;
        if (!countPeer) return;
        const remaining = (this.perPeer.get(peer) ?? 1) - 1;
        if (remaining === 0) this.perPeer.delete(peer);
        else this.perPeer.set(peer, remaining);
      },
    };
  }

  get open(): number {
    return this.total;
  }
}
