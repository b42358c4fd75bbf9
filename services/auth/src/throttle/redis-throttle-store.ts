import { Redis } from 'ioredis';
import type { Logger } from '@orderbook/server-kit';
import { NO_FAILURES, ThrottleUnavailableError, type FailureRecord, type ThrottleStore } from './throttle-store';

export interface RedisThrottleOptions {
  /** redis://host:port[/db] */
  readonly url: string;
  /** Prepended to every key, so that several deployments can share one Redis. */
  readonly keyPrefix: string;
  readonly failureWindowMs: number;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
}

/** A command waits at most this long: sign-in answers UNAVAILABLE rather than hang on a stuck Redis. */
const COMMAND_TIMEOUT_MS = 2000;

type ExecResult = Array<[Error | null, unknown]> | null;

function results(reply: ExecResult): unknown[] {
  if (reply === null) throw new ThrottleUnavailableError('Redis aborted the transaction');
  return reply.map(([err, value]) => {
    if (err !== null) throw new ThrottleUnavailableError(`Redis refused a command: ${err.message}`);
    return value;
  });
}

/**
 * Failure counters in Redis, shared by every auth instance: each key is a hash {count, last}
 * whose expiry is pushed `failureWindowMs` past each failure; hit counters are INCR with an
 * expiry set at the first hit. Commands are not queued while Redis is unreachable: they fail at
 * once (ThrottleUnavailableError) and ioredis reconnects in the background.
 */
export class RedisThrottleStore implements ThrottleStore {
  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisThrottleOptions,
  ) {}

  static async connect(options: RedisThrottleOptions): Promise<RedisThrottleStore> {
    const redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: COMMAND_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    let lastWarnedMs = 0;
    redis.on('error', (err: Error) => {
      // Reconnects fail every ~2 s while Redis is down: say so, but not on every attempt.
      if (Date.now() - lastWarnedMs < 60_000) return;
      lastWarnedMs = Date.now();
      options.logger.warn({ err: err.message }, 'Redis (sign-in throttling) is unreachable: sign-in and sign-up answer UNAVAILABLE until it is back');
    });
    redis.on('ready', () => options.logger.info({ keyPrefix: options.keyPrefix }, 'connected to Redis for sign-in throttling'));
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new Error(`AUTH_REDIS_URL: cannot reach Redis (${(err as Error).message})`);
    }
    return new RedisThrottleStore(redis, options);
  }

  async failures(key: string, _nowMs?: number): Promise<FailureRecord> {
    const [count, last] = await this.call(() => this.redis.hmget(this.key(key), 'count', 'last'));
    if (count === null || count === undefined) return NO_FAILURES;
    return { count: Number(count), lastFailureMs: Number(last) };
  }

  async addFailure(keys: readonly string[], nowMs: number): Promise<FailureRecord[]> {
    const multi = this.redis.multi();
    for (const key of keys) {
      multi.hincrby(this.key(key), 'count', 1).hset(this.key(key), 'last', nowMs).pexpire(this.key(key), this.options.failureWindowMs);
    }
    const replies = results(await this.call(() => multi.exec()));
    return keys.map((_, i) => ({ count: Number(replies[i * 3]), lastFailureMs: nowMs }));
  }

  async clearFailures(key: string): Promise<void> {
    await this.call(() => this.redis.del(this.key(key)));
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const name = this.key(key);
    const [count, , ttl] = results(await this.call(() => this.redis.multi().incr(name).pexpire(name, windowMs, 'NX').pttl(name).exec()));
    return { count: Number(count), resetInMs: Math.max(0, Number(ttl)) };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(key: string): string {
    return `${this.options.keyPrefix}${key}`;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (err instanceof ThrottleUnavailableError) throw err;
      throw new ThrottleUnavailableError(`Redis is unavailable: ${(err as Error).message}`);
    }
  }
}
