import { status } from '@grpc/grpc-js';
import { OrderbookError } from './errors';

/** How often and how patiently a call that may safely be repeated is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** The backoff before the second attempt; it doubles with each attempt up to maxDelayMs. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

/** Randomness and time, replaceable in tests. */
export interface RetryClock {
  /** A number in [0, 1). */
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export const realClock: RetryClock = {
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): "full jitter" exponential backoff
 * (a random delay up to the doubling cap, so that many clients do not retry in step), never shorter
 * than the server's RetryInfo.
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number, retryDelayMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * cap);
  return retryDelayMs === undefined ? jittered : retryDelayMs + jittered;
}

/**
 * Codes after which the request may not have reached the service or may have been lost on the
 * way back: a repeat is safe only for a call whose repetition cannot act twice (a read, or a
 * write carrying an idempotency key).
 */
export const TRANSIENT_CODES: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

/**
 * A failure worth another attempt of an idempotent call: transient, or refused for load with a
 * RetryInfo that says when to come back (the request was not carried out).
 */
export function isRetryable(err: unknown): err is OrderbookError {
  if (!(err instanceof OrderbookError)) return false;
  if (TRANSIENT_CODES.has(err.code)) return true;
  return err.code === status.RESOURCE_EXHAUSTED && err.retryDelayMs !== undefined;
}

/**
 * Runs `attempt` until it succeeds, fails with an error `retryable` refuses, or the policy's
 * attempts are spent. `attempt` gets its 1-based number (a retry can tell that it is one).
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  clock: RetryClock,
  attempt: (n: number) => Promise<T>,
  retryable: (err: unknown) => boolean = isRetryable,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.maxAttempts || !retryable(err)) throw err;
      const hint = err instanceof OrderbookError ? err.retryDelayMs : undefined;
      await clock.sleep(backoffDelayMs(policy, n, clock.random, hint));
    }
  }
}
