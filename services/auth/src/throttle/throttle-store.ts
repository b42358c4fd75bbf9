/** A key's failures: how many, and when the last one was. */
export interface FailureRecord {
  readonly count: number;
  readonly lastFailureMs: number;
}

export const NO_FAILURES: FailureRecord = { count: 0, lastFailureMs: 0 };

/** The shared store cannot be reached: callers answer UNAVAILABLE rather than skip the limits. */
export class ThrottleUnavailableError extends Error {
  override readonly name = 'ThrottleUnavailableError';
}

/**
 * The counters behind sign-in throttling and sign-up limits: in Redis, shared by every auth
 * instance, or in this process for a single instance. A key's failures are forgotten `windowMs`
 * after its last failure; a hit counter covers a fixed window from its first hit.
 */
export interface ThrottleStore {
  failures(key: string, nowMs: number): Promise<FailureRecord>;
  /** Adds one failure to each key at nowMs; resolves to their updated records, in order. */
  addFailure(keys: readonly string[], nowMs: number): Promise<FailureRecord[]>;
  clearFailures(key: string): Promise<void>;
  /** Counts one hit; resolves to the hits in the current window and the ms until it ends. */
  hit(key: string, windowMs: number, nowMs: number): Promise<{ readonly count: number; readonly resetInMs: number }>;
  close(): Promise<void>;
}
