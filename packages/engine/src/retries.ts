/**
 * What makes a placement a retry of a retained one (AIP-155): the same client order id and the
 * same parameters. A repeat with other parameters is a different request reusing the key.
 */
import type { PlaceLimitCommand, PlaceMarketCommand } from './api';
import type { PlacedAs } from './account';
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
