import { join } from 'node:path';
import { formatAmount, formatPrice, formatQuantity, type MarketConfig } from '@orderbook/engine';
import { listJournalSegments, listSnapshots, readRecordFile, writeRecordFile } from './data-files';

/**
 * The fees and instrument rules each market of a data directory was traded under, in
 * markets.json beside the journal. The journal holds commands, not their outcomes: replaying it
 * under other fees or rules would give other trades and balances than the ones acknowledged. So a
 * market's fees and rules are fixed for the life of the data directory, and start-up refuses a
 * configuration that changes them (naming the market and the field); a market the record does not
 * know is added to it. A directory whose history predates the record was written without fees or
 * rules: its markets are recorded as such.
 */
export const MARKET_RULES_FILE = 'markets.json';

/** A market's fees and rules as the markets file writes them (what is recorded, and what ListMarkets shows). */
export interface WrittenRules {
  readonly maker_fee_bps: number;
  readonly taker_fee_bps: number;
  readonly tick_size: string;
  readonly lot_size: string;
  readonly min_quantity: string;
  readonly min_notional: string;
}

/** The market's fees and rules, defaults filled in, as the markets file writes them. */
export function writtenRules(market: MarketConfig): WrittenRules {
  return {
    maker_fee_bps: market.makerFeeBps ?? 0,
    taker_fee_bps: market.takerFeeBps ?? 0,
    tick_size: formatPrice(market.tickSize ?? 1n),
    lot_size: formatQuantity(market.lotSize ?? 1n),
    min_quantity: formatQuantity(market.minQuantity ?? 1n),
    min_notional: formatAmount(market.minNotional ?? 0n),
  };
}

/** Start-up refused: the configured fees or rules differ from the data directory's, or its record is damaged. */
export class MarketRulesError extends Error {
  override readonly name = 'MarketRulesError';
}

const WITHOUT_RULES = writtenRules({ symbol: '', base: '', quote: '' });

/** Checks `markets` against the record of `dir` and records the markets it did not know. */
export async function checkMarketRules(dir: string, markets: readonly MarketConfig[]): Promise<void> {
  const path = join(dir, MARKET_RULES_FILE);
  const recorded = await readRecord(path);
  const legacy = recorded === undefined && ((await listJournalSegments(dir)).length > 0 || (await listSnapshots(dir)).length > 0);
  const record: Record<string, WrittenRules> = { ...recorded };
  for (const market of markets) {
    const rules = writtenRules(market);
    const before = record[market.symbol] ?? (legacy ? WITHOUT_RULES : undefined);
    if (before !== undefined) {
      const changed = (Object.keys(rules) as (keyof WrittenRules)[]).find((field) => rules[field] !== before[field]);
      if (changed !== undefined) {
        throw new MarketRulesError(
          `market ${market.symbol}: ${changed} is ${rules[changed]}, but the data directory ${dir} was traded with ${before[changed]}; ` +
            'replaying its journal under other fees or rules would change acknowledged trades: keep them, or start a new data directory',
        );
      }
    }
    record[market.symbol] = rules;
  }
  if (recorded !== undefined && Object.keys(record).length === Object.keys(recorded).length) return;
  await writeRecordFile(dir, path, `${JSON.stringify(record, null, 2)}\n`);
}

async function readRecord(path: string): Promise<Record<string, WrittenRules> | undefined> {
  const text = await readRecordFile(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Record<string, WrittenRules>;
  } catch (err) {
    throw new MarketRulesError(`${path} is damaged (${(err as Error).message}): restore it from a backup of the data directory`);
  }
}
