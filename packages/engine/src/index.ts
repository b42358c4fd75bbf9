export * from './api';
export { Engine } from './engine';
export { BalanceFaultError } from './faults';
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
export {
  CLIENT_ORDER_ID_MAX_LENGTH,
  CLIENT_ORDER_ID_RULE,
  isClientOrderId,
  isSelfTradePrevention,
  isSide,
  isTimeInForce,
  SELF_TRADE_PREVENTIONS,
  SIDES,
  TIMES_IN_FORCE,
} from './validation';
