/**
 * What makes a placement a retry of a retained one (AIP-155): the same client order id and the
 * same parameters. A repeat with other parameters is a different request reusing the key.
 */
import type { PlaceLimitCommand, PlaceMarketCommand } from './api';
import type { OrderRef, OrderStore } from './order-store';

/** Does `cmd` ask for exactly what `order` was placed with? (Amounts are compared as units.) */
export function samePlacement(store: OrderStore, order: OrderRef, cmd: PlaceLimitCommand | PlaceMarketCommand, marketIndex: number): boolean {
  const common =
    store.marketIndex(order) === marketIndex &&
    store.side(order) === cmd.side &&
    BigInt(store.quantity(order)) === cmd.quantity &&
    store.selfTradePrevention(order) === cmd.selfTradePrevention;
  if (cmd.kind === 'placeMarket') return common && store.type(order) === 'market';
  return (
    common &&
    store.type(order) === 'limit' &&
    BigInt(store.price(order)) === cmd.price &&
    store.timeInForce(order) === cmd.timeInForce &&
    store.postOnly(order) === cmd.postOnly
  );
}
