export * from './api';
export { Engine } from './engine';
export { copyOfLimits, invalidLimit, LIMIT_NAMES, limitsOf, sameLimits } from './limits';
export { TICKER_WINDOW_MINUTES } from './ticker';
export { DEFAULT_FILLS_RETAINED_PER_USER, DEFAULT_TRADES_RETAINED_PER_MARKET } from './trade-history';
export { isAdminId, REFERENCE_MAX_LENGTH } from './withdrawal';
export { BalanceFaultError } from './faults';
export { SnapshotInvalidError, snapshotSeq } from './snapshot';
export {
  AMOUNT_DECIMALS,
  MAX_ORDER_UNITS,
  MAX_UNITS,
  PRICE_DECIMALS,
  QUANTITY_DECIMALS,
  type ParseResult,
  formatAmount,
  formatPrice,
  formatQuantity,
  parseAmount,
  parsePrice,
  parseQuantity,
} from './fixed-point';
export { CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId, marketConfigError, SELF_TRADE_PREVENTIONS, SIDES, TIMES_IN_FORCE } from './validation';
export { MAX_DEAD_MAN_SECONDS, MAX_GTD_MS } from './timers';
