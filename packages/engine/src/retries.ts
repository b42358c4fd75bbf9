/**
 * What makes a placement a retry of a retained one (AIP-155): the same client order id and the
 * same parameters. A repeat with other parameters is a different request reusing the key.
 */
import type { OrderView, PlaceLimitCommand, PlaceMarketCommand, PlaceOcoCommand } from './api';
import type { OcoRetry, PlacedAs } from './account';
import type { OrderRef, OrderStore } from './order-store';

/**
 * Does `cmd` ask for exactly what `order` was placed with? (Amounts are compared as units.) An
 * amended order's own price and quantity have changed: `placedAs` has what it was placed with.
 */
export function samePlacement(
  store: OrderStore,
  order: OrderRef,
  cmd: PlaceLimitCommand | PlaceMarketCommand,
  marketIndex: number,
  placedAs: PlacedAs | undefined,
): boolean {
  const placed = placedAs ?? { price: store.price(order), quantity: store.quantity(order) };
  const common =
    store.marketIndex(order) === marketIndex &&
    store.side(order) === cmd.side &&
    BigInt(placed.quantity) === cmd.quantity &&
    store.selfTradePrevention(order) === cmd.selfTradePrevention &&
    (store.isStop(order) ? BigInt(store.stopPrice(order)) : undefined) === cmd.stopPrice;
  if (cmd.kind === 'placeMarket') return common && store.type(order) === 'market';
  return (
    common &&
    store.type(order) === 'limit' &&
    BigInt(placed.price) === cmd.price &&
    store.timeInForce(order) === cmd.timeInForce &&
    store.postOnly(order) === cmd.postOnly &&
    store.expireAt(order) === cmd.expireAt
  );
}

/** Does `cmd` ask for exactly the pair whose limit order is `order` and whose stop is `pair`? */
export function samePair(
  store: OrderStore,
  order: OrderRef,
  pair: OcoRetry,
  cmd: PlaceOcoCommand,
  marketIndex: number,
  placedAs: PlacedAs | undefined,
): boolean {
  const placed = placedAs ?? { price: store.price(order), quantity: store.quantity(order) };
  return (
    store.marketIndex(order) === marketIndex &&
    store.side(order) === cmd.side &&
    BigInt(placed.quantity) === cmd.quantity &&
    BigInt(placed.price) === cmd.price &&
    store.selfTradePrevention(order) === cmd.selfTradePrevention &&
    BigInt(pair.stopPrice) === cmd.stopPrice &&
    (pair.stopLimitPrice === undefined ? undefined : BigInt(pair.stopLimitPrice)) === cmd.stopLimitPrice
  );
}

/** The last view of a pair's stop order that has been freed, rebuilt from its limit order's (placed together). */
export function freedStopView(limit: OrderView, pair: OcoRetry): OrderView {
  const freed = pair.freed!;
  const stopMarket = pair.stopLimitPrice === undefined;
  return {
    orderId: pair.stopOrderId,
    clientOrderId: undefined,
    userId: limit.userId,
    market: limit.market,
    side: limit.side,
    type: stopMarket ? 'market' : 'limit',
    price: stopMarket ? undefined : BigInt(freed.price),
    quantity: BigInt(freed.quantity),
    filled: BigInt(freed.filled),
    status: freed.status,
    cancelReason: freed.cancelReason,
    timeInForce: stopMarket ? 'FOK' : 'GTC',
    postOnly: false,
    selfTradePrevention: limit.selfTradePrevention,
    expireAt: undefined,
    locked: 0n,
    feesPaid: freed.feesPaid,
    createdAt: limit.createdAt,
    updatedAt: freed.updatedAt,
    stopPrice: BigInt(pair.stopPrice),
    ocoOrderId: undefined,
  };
}
