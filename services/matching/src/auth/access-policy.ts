import { matching } from '@orderbook/proto';

/** Who may call a method: anyone, any signed-in user, or a user with the admin role. */
export type Access = 'public' | 'user' | 'admin';

type MatchingMethod = keyof typeof matching.MatchingServiceService;

/**
 * One entry per MatchingService method: a method added to the proto fails to compile until it is
 * classified here, so nothing becomes public by omission.
 */
const MATCHING_ACCESS: Readonly<Record<MatchingMethod, Access>> = {
  placeLimitOrder: 'user',
  placeMarketOrder: 'user',
  cancelOrder: 'user',
  amendOrder: 'user',
  placeOcoOrder: 'user',
  cancelAllOrders: 'user',
  cancelAllOrdersAfter: 'user',
  getOrder: 'user',
  listOrders: 'user',
  getBalances: 'user',
  streamOrderUpdates: 'user',
  orderSession: 'user',
  addFunds: 'admin',
  getFeeBalances: 'admin',
  withdrawFunds: 'admin',
  listLedgerEntries: 'admin',
  listTrades: 'user',
  getRecentTrades: 'public',
  getTicker: 'public',
  listCandles: 'public',
  getOrderBook: 'public',
  listMarkets: 'public',
  streamOrderBook: 'public',
  streamTrades: 'public',
};

const BY_PATH: ReadonlyMap<string, Access> = new Map(
  Object.entries(MATCHING_ACCESS).map(([method, access]) => [matching.MatchingServiceService[method as MatchingMethod].path, access]),
);

const MATCHING_PREFIX = `/${matching.protobufPackage}.MatchingService/`;

/**
 * The access a method path needs. Health and reflection are public; a MatchingService path that is
 * not in the table (a method this build does not serve) still needs a user, never less.
 */
export function accessOf(path: string): Access {
  const access = BY_PATH.get(path);
  if (access !== undefined) return access;
  return path.startsWith(MATCHING_PREFIX) ? 'user' : 'public';
}
