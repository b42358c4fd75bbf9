/**
 * The engine's field rules, and the checks of a command's fields that need no state. The services
 * map their requests onto these (one owner per rule): they export the enumerations and the client
 * order id rule rather than repeat them.
 */
import type {
  CommandResult,
  EngineError,
  EngineErrorCode,
  PlaceLimitCommand,
  PlaceMarketCommand,
  PlaceOcoCommand,
  SelfTradePrevention,
  Side,
  TimeInForce,
} from './api';
import { AMOUNT_DECIMALS, MAX_ORDER_UNITS, PRICE_DECIMALS, QUANTITY_DECIMALS, unitsChecker } from './fixed-point';

export const SIDES: readonly Side[] = ['buy', 'sell'];
export const TIMES_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
export const SELF_TRADE_PREVENTIONS: readonly SelfTradePrevention[] = ['cancel_resting', 'cancel_taker', 'cancel_both'];
/** Client order ids: 1 to 64 printable ASCII characters. */
export const CLIENT_ORDER_ID_MAX_LENGTH = 64;
const CLIENT_ORDER_ID = /^[\x20-\x7e]{1,64}$/;

// Plain comparisons rather than Set.has or includes: measured far cheaper on the placement path.
const isSide = (v: unknown): v is Side => v === 'buy' || v === 'sell';
const isTimeInForce = (v: unknown): v is TimeInForce => v === 'GTC' || v === 'IOC' || v === 'FOK';
const isSelfTradePrevention = (v: unknown): v is SelfTradePrevention => v === 'cancel_resting' || v === 'cancel_taker' || v === 'cancel_both';
export const isClientOrderId = (v: string): boolean => CLIENT_ORDER_ID.test(v);

const MAX_ORDER = BigInt(MAX_ORDER_UNITS);
const checkPrice = unitsChecker(PRICE_DECIMALS, 'price', MAX_ORDER);
const checkQuantity = unitsChecker(QUANTITY_DECIMALS, 'quantity', MAX_ORDER);
const checkAmount = unitsChecker(AMOUNT_DECIMALS, 'amount');
const checkStopPrice = unitsChecker(PRICE_DECIMALS, 'stop_price', MAX_ORDER);
const checkStopLimitPrice = unitsChecker(PRICE_DECIMALS, 'stop_limit_price', MAX_ORDER);

export function failure(code: EngineErrorCode, field: string | undefined, message: string): EngineError {
  return field === undefined ? { code, message } : { code, field, message };
}

export function reject(code: EngineErrorCode, field: string | undefined, message: string): CommandResult {
  return { ok: false, error: failure(code, field, message) };
}

export const invalidArgument = (field: string, what: string): EngineError => failure('INVALID_ARGUMENT', field, `${field}: ${what}`);
export const invalid = (field: string, what: string): CommandResult => ({ ok: false, error: invalidArgument(field, what) });

export const userIdError = (userId: unknown): EngineError | undefined =>
  typeof userId !== 'string' || userId.length === 0 ? invalidArgument('user_id', 'must not be empty') : undefined;

/** What limit and market orders share: user, side, quantity, self-trade prevention, client order id (empty means none). */
export function placementError(cmd: PlaceLimitCommand | PlaceMarketCommand | PlaceOcoCommand, clientOrderId: string | undefined): EngineError | undefined {
  const userError = userIdError(cmd.userId);
  if (userError !== undefined) return userError;
  if (!isSide(cmd.side)) return invalidArgument('side', 'must be buy or sell');
  const quantityError = checkQuantity(cmd.quantity);
  if (quantityError !== undefined) return quantityError;
  if (!isSelfTradePrevention(cmd.selfTradePrevention)) {
    return invalidArgument('self_trade_prevention', 'must be cancel_resting, cancel_taker or cancel_both');
  }
  if (clientOrderId !== undefined && !isClientOrderId(clientOrderId)) {
    return invalidArgument('client_order_id', 'must be 1 to 64 printable ASCII characters');
  }
  return undefined;
}

/** The fields only a limit order has. */
export function limitError(cmd: PlaceLimitCommand): EngineError | undefined {
  const priceError = checkPrice(cmd.price);
  if (priceError !== undefined) return priceError;
  if (!isTimeInForce(cmd.timeInForce)) return invalidArgument('time_in_force', 'must be GTC, IOC or FOK');
  if (typeof cmd.postOnly !== 'boolean') return invalidArgument('post_only', 'must be a boolean');
  if (cmd.postOnly && cmd.timeInForce !== 'GTC') return invalidArgument('post_only', 'requires time_in_force GTC');
  return undefined;
}

export const amountError = (amount: bigint): EngineError | undefined => checkAmount(amount);

/** An amendment's new price and quantity: at least one, each valid. */
export function amendError(price: bigint | undefined, quantity: bigint | undefined): EngineError | undefined {
  if (price === undefined && quantity === undefined) return invalidArgument('quantity', 'give a new price, a new quantity or both');
  return (price === undefined ? undefined : checkPrice(price)) ?? (quantity === undefined ? undefined : checkQuantity(quantity));
}

/** A stop-limit order's own fields: its stop price, and a time in force it can keep once triggered. */
export function stopLimitError(stopPrice: bigint, cmd: PlaceLimitCommand): EngineError | undefined {
  const stopError = checkStopPrice(stopPrice);
  if (stopError !== undefined) return stopError;
  if (cmd.timeInForce === 'FOK') return invalidArgument('time_in_force', 'a stop-limit order is GTC or IOC');
  if (cmd.postOnly) return invalidArgument('post_only', 'a stop-limit order cannot be post-only');
  return undefined;
}

export const stopPriceError = (stopPrice: bigint): EngineError | undefined => checkStopPrice(stopPrice);

/** A one-cancels-other pair's prices: each valid, and the stop on the far side of the limit price. */
export function ocoPriceError(cmd: PlaceOcoCommand): EngineError | undefined {
  const error =
    checkPrice(cmd.price) ?? checkStopPrice(cmd.stopPrice) ?? (cmd.stopLimitPrice === undefined ? undefined : checkStopLimitPrice(cmd.stopLimitPrice));
  if (error !== undefined) return error;
  if (cmd.side === 'sell' && cmd.stopPrice >= cmd.price) return invalidArgument('stop_price', 'a sell pair\'s stop price must be below its limit price');
  if (cmd.side === 'buy' && cmd.stopPrice <= cmd.price) return invalidArgument('stop_price', 'a buy pair\'s stop price must be above its limit price');
  return undefined;
}
