export interface SlidingWindowOptions {
  /** Events allowed per key within the window. */
  readonly limit: number;
  readonly windowMs: number;
  /** Keys tracked at most; the least recently hit are forgotten first, bounding memory under a flood of keys. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

/** In-memory sliding-window log: a key is blocked while `limit` events fall within the last `windowMs`. */
export class SlidingWindowLimiter {
  private readonly events = new Map<string, number[]>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: SlidingWindowOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until the key may act again; 0 when it is not blocked. */
  retryAfterMs(key: string): number {
    const times = this.live(key);
    if (times.length < this.options.limit) return 0;
    return (times[times.length - this.options.limit] ?? 0) + this.options.windowMs - this.now();
  }

  record(key: string): void {
    const times = this.live(key);
    times.push(this.now());
    // Keep only what can still block: the newest `limit` events.
    if (times.length > this.options.limit) times.splice(0, times.length - this.options.limit);
    // Re-inserting keeps the Map in least-recently-hit order for eviction.
    this.events.delete(key);
    this.events.set(key, times);
    if (this.events.size > this.maxKeys) {
      const oldest = this.events.keys().next();
      if (!oldest.done) this.events.delete(oldest.value);
    }
  }

  reset(key: string): void {
    this.events.delete(key);
  }

  /** The key's events inside the window (older ones dropped). */
  private live(key: string): number[] {
    const times = this.events.get(key);
    if (times === undefined) return [];
    const cutoff = this.now() - this.options.windowMs;
    const firstLive = times.findIndex((time) => time > cutoff);
    if (firstLive === -1) {
      this.events.delete(key);
      return [];
    }
    return times.slice(firstLive);
  }
}
