import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '@orderbook/engine';
import { createLogger } from '@orderbook/server-kit';
import type { FileJournal } from '../src/storage/file-journal';
import { openDataDir } from '../src/storage/file-storage';
import { recover, type RecoveredState } from '../src/storage/recovery';
import { LOAD_ENGINE_CONFIG } from './random-load';

export const silentLogger = createLogger('matching-test', 'silent');

/** A fresh directory under the OS temp dir, removed after the current mocha suite. */
export function tempDirs(): () => string {
  const made: string[] = [];
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'matching-test-'));
    made.push(dir);
    return dir;
  };
}

/** Commands with consecutive seqs from `from`, of every kind (not meant to be applied). */
export function sampleCommands(from: number, count: number): Command[] {
  return Array.from({ length: count }, (_, i): Command => {
    const seq = from + i;
    const timestamp = 1_700_000_000_000 + seq;
    switch (i % 4) {
      case 0:
        return { kind: 'deposit', seq, timestamp, userId: `user-${i}`, asset: 'USD', amount: 10n ** 20n + BigInt(seq) };
      case 1:
        return {
          kind: 'placeLimit',
          seq,
          timestamp,
          orderId: seq,
          userId: 'alice',
          market: 'BTC-USD',
          side: 'buy',
          price: 30_000_000_000n,
          quantity: 150_000_000n,
          timeInForce: 'GTC',
          postOnly: false,
          selfTradePrevention: 'cancel_resting',
          clientOrderId: `c-${seq}-é`,
        };
      case 2:
        return {
          kind: 'placeMarket',
          seq,
          timestamp,
          orderId: seq,
          userId: 'bob',
          market: 'BTC-USD',
          side: 'sell',
          quantity: 1n,
          selfTradePrevention: 'cancel_both',
        };
      default:
        return { kind: 'cancel', seq, timestamp, userId: 'alice', orderId: seq - 2 };
    }
  });
}

/** The error the promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  if (!(outcome.error instanceof Error)) throw new Error(`expected an Error, got ${String(outcome.error)}`);
  return outcome.error;
}

/** The state a data directory recovers to, read without taking the directory (nothing is appended). */
export async function recoverDataDir(dataDir: string): Promise<RecoveredState & { readonly journal: FileJournal }> {
  const durable = await openDataDir(dataDir, { logger: silentLogger });
  return { ...(await recover(durable, LOAD_ENGINE_CONFIG, silentLogger)), journal: durable.journal };
}
