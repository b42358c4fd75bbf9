import { readFileSync } from 'node:fs';
import { type MarketConfig, marketConfigError, parseAmount, parsePrice, parseQuantity, type ParseResult } from '@orderbook/engine';
import { ConfigError } from '@orderbook/server-kit';

/**
 * MATCHING_MARKETS_FILE: the markets with their fees and instrument rules, as JSON:
 *
 *   { "markets": [ { "symbol": "BTC-USD", "maker_fee_bps": -1, "taker_fee_bps": 5, "tick_size": "0.01",
 *                    "lot_size": "0.0001", "min_quantity": "0.0001", "min_notional": "10" } ] }
 *
 * Only "symbol" is required; an omitted fee is 0 and an omitted rule allows anything. Read and
 * checked entirely at start: anything wrong is refused with the entry and the field named.
 */
export const MARKET_SYMBOL = /^([A-Z0-9]{1,16})-([A-Z0-9]{1,16})$/;

const FIELDS = ['symbol', 'maker_fee_bps', 'taker_fee_bps', 'tick_size', 'lot_size', 'min_quantity', 'min_notional'] as const;
type Parser = (text: string, field: string) => ParseResult;
/** The decimal rules: each parsed as the engine parses what it applies to (prices 6 decimals, the rest 8). */
const SIZES: readonly (readonly [string, keyof MarketConfig, Parser])[] = [
  ['tick_size', 'tickSize', parsePrice],
  ['lot_size', 'lotSize', parseQuantity],
  ['min_quantity', 'minQuantity', parseQuantity],
  ['min_notional', 'minNotional', parseAmount],
];

export function readMarketsFile(path: string): MarketConfig[] {
  const refuse = (what: string): never => {
    throw new ConfigError(`MATCHING_MARKETS_FILE: ${path}: ${what}`);
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return refuse(`cannot be read (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return refuse(`is not JSON (${(err as Error).message})`);
  }
  const list = isObject(parsed) ? parsed.markets : undefined;
  if (!Array.isArray(list) || list.length === 0) return refuse('expected {"markets": [ ...at least one market... ]}');
  const markets: MarketConfig[] = [];
  list.forEach((entry: unknown, i) => {
    const name = isObject(entry) && typeof entry.symbol === 'string' ? `markets[${i}] (${entry.symbol})` : `markets[${i}]`;
    const bad = (what: string): never => refuse(`${name}: ${what}`);
    if (!isObject(entry)) return bad('expected an object');
    const unknown = Object.keys(entry).find((key) => !(FIELDS as readonly string[]).includes(key));
    if (unknown !== undefined) bad(`unknown field "${unknown}", expected ${FIELDS.join(', ')}`);
    const match = typeof entry.symbol === 'string' ? MARKET_SYMBOL.exec(entry.symbol) : null;
    if (match === null) return bad('symbol: expected BASE-QUOTE in upper-case letters and digits');
    const [symbol, base, quote] = match as unknown as [string, string, string];
    if (base === quote) bad('symbol: trades an asset against itself');
    if (markets.some((m) => m.symbol === symbol)) bad('symbol: listed twice');
    const market: Record<string, unknown> = { symbol, base, quote };
    for (const [field, key] of [['maker_fee_bps', 'makerFeeBps'], ['taker_fee_bps', 'takerFeeBps']] as const) {
      const value = entry[field];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isInteger(value)) bad(`${field}: expected an integer number of basis points`);
      market[key] = value;
    }
    for (const [field, key, parse] of SIZES) {
      const value = entry[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') bad(`${field}: expected a decimal string, e.g. "0.01"`);
      // "0" means no minimum notional; every other rule must be positive.
      if (field === 'min_notional' && /^0+(\.0+)?$/.test(value as string)) continue;
      const units = parse(value as string, field);
      if (!units.ok) bad(units.error.message);
      else market[key] = units.value;
    }
    const config = market as unknown as MarketConfig;
    const error = marketConfigError(config);
    if (error !== undefined) bad(error);
    markets.push(config);
  });
  return markets;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
