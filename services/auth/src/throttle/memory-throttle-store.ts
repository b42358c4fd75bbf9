import { NO_FAILURES, type FailureRecord, type ThrottleStore } from './throttle-store';

interface Entry {
  count: number;
  /** Last failure, or the first hit of a hit counter. */
  atMs: number;
  expiresAtMs: number;
}

/** Keys tracked at most; the least recently touched are forgotten first, bounding memory under a flood of keys. */
const MAX_KEYS = 100_000;

/** A ThrottleStore in this process: limits hold per instance only (one instance, or tests). */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly failureWindowMs: number) {}

  async failures(key: string, nowMs: number): Promise<FailureRecord> {
    const entry = this.live(key, nowMs);
    return entry === undefined ? NO_FAILURES : { count: entry.count, lastFailureMs: entry.atMs };
  }

  async addFailure(keys: readonly string[], nowMs: number): Promise<FailureRecord[]> {
    return keys.map((key) => {
      const count = (this.live(key, nowMs)?.count ?? 0) + 1;
      this.touch(key, { count, atMs: nowMs, expiresAtMs: nowMs + this.failureWindowMs });
      return { count, lastFailureMs: nowMs };
    });
  }

  async clearFailures(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async hit(key: string, windowMs: number, nowMs: number): Promise<{ count: number; resetInMs: number }> {
    const entry = this.live(key, nowMs) ?? { count: 0, atMs: nowMs, expiresAtMs: nowMs + windowMs };
    entry.count += 1;
    this.touch(key, entry);
    return { count: entry.count, resetInMs: entry.expiresAtMs - nowMs };
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private live(key: string, nowMs: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Re-inserting keeps the Map in least-recently-touched order for eviction. */
  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
  }
}
