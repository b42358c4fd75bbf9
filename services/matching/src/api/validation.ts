import {
  FEE_ACCOUNT_ID,
  CLIENT_ORDER_ID_MAX_LENGTH,
  REFERENCE_MAX_LENGTH,
  TICKER_WINDOW_MINUTES,
  isClientOrderId,
  MAX_DEAD_MAN_SECONDS,
  parseAmount,
  parsePrice,
  parseQuantity,
  type SelfTradePrevention,
  type Side,
  type TimeInForce,
} from '@orderbook/engine';
import { matching } from '@orderbook/proto';
import { checkFields, InvalidFieldError } from '@orderbook/server-kit';
import type { MarketDirectory } from './markets';
import { EngineRejectedError } from './status-mapping';

/**
 * Field validators: each returns the engine's form of one request field or throws an error the
 * status adapter answers INVALID_ARGUMENT, with a message that starts with the field's proto name.
 */

export function invalidArgument(field: string, what: string): InvalidFieldError {
  return new InvalidFieldError(field, what);
}

/** Client text echoed in a message, bounded so that a hostile megabyte does not come back in a trailer. */
export function echo(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}

export function market(symbol: string, markets: MarketDirectory, field = 'market'): string {
  if (symbol === '') throw invalidArgument(field, `required, one of ${markets.symbolList()}`);
  if (!markets.hasMarket(symbol)) throw invalidArgument(field, `unknown market ${echo(symbol)}, expected one of ${markets.symbolList()}`);
  return symbol;
}

/** An optional market filter: empty means every market. */
export function marketFilter(symbol: string, markets: MarketDirectory, field = 'market'): string | undefined {
  return symbol === '' ? undefined : market(symbol, markets, field);
}

export function side(value: matching.Side, field = 'side'): Side {
  switch (value) {
    case matching.Side.SIDE_BUY:
      return 'buy';
    case matching.Side.SIDE_SELL:
      return 'sell';
    case matching.Side.SIDE_UNSPECIFIED:
      throw invalidArgument(field, 'required: SIDE_BUY or SIDE_SELL');
    default:
      throw invalidArgument(field, `unknown value ${value}, expected SIDE_BUY or SIDE_SELL`);
  }
}

export function timeInForce(value: matching.TimeInForce, field = 'time_in_force'): TimeInForce {
  switch (value) {
    case matching.TimeInForce.TIME_IN_FORCE_UNSPECIFIED:
    case matching.TimeInForce.TIME_IN_FORCE_GTC:
      return 'GTC';
    case matching.TimeInForce.TIME_IN_FORCE_IOC:
      return 'IOC';
    case matching.TimeInForce.TIME_IN_FORCE_FOK:
      return 'FOK';
    case matching.TimeInForce.TIME_IN_FORCE_GTD:
      return 'GTD';
    default:
      throw invalidArgument(field, `unknown value ${value}, expected TIME_IN_FORCE_GTC, TIME_IN_FORCE_IOC, TIME_IN_FORCE_FOK or TIME_IN_FORCE_GTD`);
  }
}

/**
 * A GTD order's expiry (0: none). Its form only: whether it is after the order's time, and not
 * too far from it, is the engine's rule (the sequencer's timestamp decides).
 */
export function expireAt(value: bigint, field = 'expire_at_unix_ms'): number | undefined {
  if (value === 0n) return undefined;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(field, `must be a time in Unix milliseconds, got ${value}`);
  return Number(value);
}

/** A dead-man timeout in seconds: 0 (disarm) to one day. */
export function deadManTimeout(value: number, field = 'timeout_seconds'): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_DEAD_MAN_SECONDS) {
    throw invalidArgument(field, `must be 0 (disarm) to ${MAX_DEAD_MAN_SECONDS} (one day), got ${value}`);
  }
  return value;
}

export function selfTradePrevention(value: matching.SelfTradePrevention, field = 'self_trade_prevention'): SelfTradePrevention {
  switch (value) {
    case matching.SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED:
    case matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_RESTING:
      return 'cancel_resting';
    case matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_TAKER:
      return 'cancel_taker';
    case matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_BOTH:
      return 'cancel_both';
    default:
      throw invalidArgument(field, `unknown value ${value}, expected one of the SELF_TRADE_PREVENTION_CANCEL_* values`);
  }
}

/** ListOrders' status filter: true for open orders only. */
export function openOnly(value: matching.OrderStatusFilter, field = 'status'): boolean {
  switch (value) {
    case matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN:
      return true;
    case matching.OrderStatusFilter.ORDER_STATUS_FILTER_UNSPECIFIED:
    case matching.OrderStatusFilter.ORDER_STATUS_FILTER_ALL:
      return false;
    default:
      throw invalidArgument(field, `unknown value ${value}, expected ORDER_STATUS_FILTER_OPEN or ORDER_STATUS_FILTER_ALL`);
  }
}

/** A decimal the engine's parser refused is a bad field like any other (collected by checkFields). */
function parsed(result: ReturnType<typeof parsePrice>, field: string): bigint {
  if (result.ok) return result.value;
  const named = result.error.field ?? field;
  throw invalidArgument(named, result.error.message.startsWith(`${named}: `) ? result.error.message.slice(named.length + 2) : result.error.message);
}

export const price = (text: string, field = 'price'): bigint => parsed(parsePrice(text, field), field);
export const quantity = (text: string, field = 'quantity'): bigint => parsed(parseQuantity(text, field), field);
export const amount = (text: string, field = 'amount'): bigint => parsed(parseAmount(text, field), field);

/** Optional: empty means none. The rule is the engine's; the message says which part of it failed. */
export function clientOrderId(text: string, field = 'client_order_id'): string | undefined {
  if (text === '' || isClientOrderId(text)) return text === '' ? undefined : text;
  if (text.length > CLIENT_ORDER_ID_MAX_LENGTH) throw invalidArgument(field, `at most ${CLIENT_ORDER_ID_MAX_LENGTH} characters, got ${text.length}`);
  throw invalidArgument(field, 'only printable ASCII characters (space to ~)');
}

/**
 * An order id as the engine numbers them. Ids are engine sequence numbers, so one past 2^53 cannot
 * exist: it is an unknown order (NOT_FOUND), not a malformed one.
 */
export function orderId(value: bigint, field = 'order_id'): number {
  if (value === 0n) throw invalidArgument(field, 'required');
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new EngineRejectedError({ code: 'NOT_FOUND', field, message: `${field}: no order ${value}` });
  return Number(value);
}

const DEFAULT_DEPTH = 10;
const DEFAULT_PAGE_SIZE = 100;
const MAX_LEVELS_OR_PAGE = 1000;

function boundedCount(value: number, fallback: number, field: string): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_LEVELS_OR_PAGE) {
    throw invalidArgument(field, `must be between 1 and ${MAX_LEVELS_OR_PAGE} (0 means ${fallback}), got ${value}`);
  }
  return value;
}

/** Book levels per side: 0 means 10. */
export const depth = (value: number, field = 'depth'): number => boundedCount(value, DEFAULT_DEPTH, field);
/** Orders per page: 0 means 100. */
export const pageSize = (value: number, field = 'page_size'): number => boundedCount(value, DEFAULT_PAGE_SIZE, field);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A user id as the auth service issues it (a UUID). Lower-cased, the form token subjects have:
 * balances are keyed by the exact string, so "ABC…" must not credit a different user than "abc…".
 */
export function userId(text: string, field = 'user_id'): string {
  if (text === '') throw invalidArgument(field, 'required');
  if (!UUID.test(text)) throw invalidArgument(field, `must be a user id (a UUID), got ${echo(text)}`);
  return text.toLowerCase();
}

/**
 * The user of AddFunds, WithdrawFunds and ListLedgerEntries: a user id, or the fee account (funded
 * for maker rebates, paid out, its ledger listed).
 */
export function fundsUserId(text: string, field = 'user_id'): string {
  return text === FEE_ACCOUNT_ID ? text : userId(text, field);
}

export function asset(text: string, markets: MarketDirectory, field = 'asset'): string {
  if (text === '') throw invalidArgument(field, `required, one of ${markets.assetList()}`);
  if (!markets.hasAsset(text)) throw invalidArgument(field, `unknown asset ${echo(text)}, expected one of ${markets.assetList()}`);
  return text;
}

/** An external reference (a withdrawal's, required; a deposit's, when given): the engine's rule. */
export function reference(text: string, field = 'reference'): string {
  if (text === '') throw invalidArgument(field, 'required: where the funds went (a transfer or transaction id)');
  if (text.length > REFERENCE_MAX_LENGTH) throw invalidArgument(field, `at most ${REFERENCE_MAX_LENGTH} characters, got ${text.length}`);
  if (!/^[\x20-\x7e]+$/.test(text)) throw invalidArgument(field, 'only printable ASCII characters (space to ~)');
  return text;
}

/** A time range bound in Unix milliseconds: 0 means none. */
export function timeBound(value: bigint, field: string): number | undefined {
  if (value === 0n) return undefined;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(field, `must be Unix milliseconds between 0 and 2^53-1, got ${value}`);
  return Number(value);
}

const DEFAULT_RECENT_TRADES = 100;
/** Recent trades per answer: 0 means 100. */
export const recentTradesLimit = (value: number, field = 'limit'): number => boundedCount(value, DEFAULT_RECENT_TRADES, field);

const DEFAULT_CANDLES = 100;
/** Candles per answer: 1 to the minutes of the window; 0 means 100. */
export function candleLimit(value: number, field = 'limit'): number {
  if (value === 0) return DEFAULT_CANDLES;
  if (!Number.isInteger(value) || value < 1 || value > TICKER_WINDOW_MINUTES) {
    throw invalidArgument(field, `must be between 1 and ${TICKER_WINDOW_MINUTES} (0 means ${DEFAULT_CANDLES}), got ${value}`);
  }
  return value;
}

const CANDLE_MINUTES: ReadonlyMap<matching.CandleInterval, number> = new Map([
  [matching.CandleInterval.CANDLE_INTERVAL_ONE_MINUTE, 1],
  [matching.CandleInterval.CANDLE_INTERVAL_FIVE_MINUTES, 5],
  [matching.CandleInterval.CANDLE_INTERVAL_FIFTEEN_MINUTES, 15],
  [matching.CandleInterval.CANDLE_INTERVAL_ONE_HOUR, 60],
]);

/** A candle interval, in minutes. */
export function candleInterval(value: matching.CandleInterval, field = 'interval'): number {
  const minutes = CANDLE_MINUTES.get(value);
  if (minutes !== undefined) return minutes;
  const names = 'CANDLE_INTERVAL_ONE_MINUTE, _FIVE_MINUTES, _FIFTEEN_MINUTES or _ONE_HOUR';
  throw invalidArgument(field, value === matching.CandleInterval.CANDLE_INTERVAL_UNSPECIFIED ? `required: ${names}` : `unknown value ${value}, expected ${names}`);
}

/** ListCandles' fields, each checked. */
export function checkCandles(req: matching.ListCandlesRequest, markets: MarketDirectory): { market: string; interval: number; limit: number } {
  return checkFields({
    market: () => market(req.market, markets),
    interval: () => candleInterval(req.interval),
    limit: () => candleLimit(req.limit),
  });
}
