import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { OrderbookError } from '../src/errors';
import { backoffDelayMs, isRetryable, withRetries, type RetryClock, type RetryPolicy } from '../src/retry';

const policy: RetryPolicy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 300 };

/** A clock that records the sleeps instead of waiting. */
function recordingClock(random = 0.5): RetryClock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, random: () => random, sleep: async (ms) => void slept.push(ms) };
}

const failure = (code: status, retryDelayMs?: number): OrderbookError =>
  new OrderbookError(code, 'failed', { metadata: {}, fieldViolations: [], ...(retryDelayMs === undefined ? {} : { retryDelayMs }) });

describe('retries', () => {
  it('back off exponentially up to the cap, with full jitter', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(policy, attempt, () => 0.999))).to.deep.equal([99, 199, 299, 299]);
    expect(backoffDelayMs(policy, 3, () => 0)).to.equal(0);
  });

  it('wait at least what RetryInfo asks', () => {
    expect(backoffDelayMs(policy, 1, () => 0, 2_000)).to.equal(2_000);
    expect(backoffDelayMs(policy, 1, () => 0.5, 2_000)).to.equal(2_050);
  });

  it('repeat only transient failures, and load refusals that say when to come back', () => {
    expect(isRetryable(failure(status.UNAVAILABLE))).to.equal(true);
    expect(isRetryable(failure(status.DEADLINE_EXCEEDED))).to.equal(true);
    expect(isRetryable(failure(status.RESOURCE_EXHAUSTED, 100))).to.equal(true);
    expect(isRetryable(failure(status.RESOURCE_EXHAUSTED))).to.equal(false);
    expect(isRetryable(failure(status.INVALID_ARGUMENT))).to.equal(false);
    expect(isRetryable(failure(status.ALREADY_EXISTS))).to.equal(false);
    expect(isRetryable(new Error('not a gRPC error'))).to.equal(false);
  });

  it('try again after a transient failure, sleeping the backoff, until one attempt succeeds', async () => {
    const clock = recordingClock(0.5);
    const attempts: number[] = [];
    const answer = await withRetries(policy, clock, async (n) => {
      attempts.push(n);
      if (n < 3) throw failure(n === 1 ? status.UNAVAILABLE : status.RESOURCE_EXHAUSTED, n === 2 ? 1_000 : undefined);
      return 'done';
    });
    expect(answer).to.equal('done');
    expect(attempts).to.deep.equal([1, 2, 3]);
    expect(clock.slept).to.deep.equal([50, 1_100]);
  });

  it('give up after maxAttempts, with the last error', async () => {
    const clock = recordingClock();
    let attempts = 0;
    const err = await withRetries(policy, clock, async () => {
      attempts += 1;
      throw failure(status.UNAVAILABLE);
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OrderbookError);
    expect(attempts).to.equal(4);
    expect(clock.slept).to.have.length(3);
  });

  it('never repeat a failure that is not retryable', async () => {
    const clock = recordingClock();
    let attempts = 0;
    const err = await withRetries(policy, clock, async () => {
      attempts += 1;
      throw failure(status.FAILED_PRECONDITION);
    }).catch((e: unknown) => e);
    expect((err as OrderbookError).code).to.equal(status.FAILED_PRECONDITION);
    expect(attempts).to.equal(1);
    expect(clock.slept).to.deep.equal([]);
  });
});
