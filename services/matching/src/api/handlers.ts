import { status } from '@grpc/grpc-js';
import { FEE_ACCOUNT_ID } from '@orderbook/engine';
import type { matching } from '@orderbook/proto';
import { grpcError } from '@orderbook/server-kit';
import { callerOf } from '../auth/caller-identity';
import type { MarketDirectory } from './markets';
import { historyHandlers, type HistoryDeps } from './history-handlers';
import type { OrderEntry } from './order-entry';
import { orderSessionHandler, type OrderSessionDeps } from './order-session';
import { encodePageToken } from './page-token';
import { bookQuery, listOrdersPage } from './requests';
import type { ServiceState } from '../ops/service-state';
import { streamHandlers, type StreamDeps } from './streams';
import * as valid from './validation';
import { balanceToProto, depthToProto, marketToProto, orderToProto } from './views';

export interface HandlerDeps extends StreamDeps, OrderSessionDeps, HistoryDeps {
  readonly state: ServiceState;
  readonly markets: MarketDirectory;
  readonly entry: OrderEntry;
}

/** MatchingService: state changes go through OrderEntry (the command loop), reads query the engine directly. */
export function matchingHandlers(deps: HandlerDeps): matching.MatchingServiceServer {
  const { state, markets, entry } = deps;
  const unary = deps.statuses.unary.bind(deps.statuses);
  const history = historyHandlers(deps);

  return {
    placeLimitOrder: unary((call) => entry.placeLimitOrder(callerOf(call).userId, call.request)),
    placeMarketOrder: unary((call) => entry.placeMarketOrder(callerOf(call).userId, call.request)),
    placeOcoOrder: unary((call) => entry.placeOcoOrder(callerOf(call).userId, call.request)),
    cancelOrder: unary((call) => entry.cancelOrder(callerOf(call).userId, call.request)),
    cancelAllOrders: unary((call) => entry.cancelAllOrders(callerOf(call).userId, call.request)),
    cancelAllOrdersAfter: unary((call) => entry.cancelAllOrdersAfter(callerOf(call).userId, call.request)),
    amendOrder: unary((call) => entry.amendOrder(callerOf(call).userId, call.request)),
    addFunds: unary((call) => entry.addFunds(callerOf(call).userId, call.request)),
    withdrawFunds: unary((call) => entry.withdrawFunds(callerOf(call).userId, call.request)),

    getOrder: unary((call): matching.GetOrderResponse => {
      const { userId } = callerOf(call);
      const orderId = valid.orderId(call.request.orderId);
      // The engine looks orders up per user: another user's order is as unknown as a missing one.
      const order = state.current().loop.queries.getOrder(userId, orderId);
      if (order === undefined) throw grpcError(status.NOT_FOUND, `order_id: no order ${orderId}`, { reason: 'ORDER_NOT_FOUND' });
      return { order: orderToProto(order) };
    }),

    listOrders: unary((call): matching.ListOrdersResponse => {
      const { userId } = callerOf(call);
      const page = listOrdersPage(call.request, markets);
      const found = state.current().loop.queries.listOrders(userId, page.query);
      const orders = found.slice(0, page.pageSize);
      const more = found.length > page.pageSize;
      return { orders: orders.map(orderToProto), nextPageToken: more ? encodePageToken(orders[orders.length - 1].orderId) : '' };
    }),

    getBalances: unary((call): matching.GetBalancesResponse => {
      const { userId } = callerOf(call);
      // The engine reports every asset; the contract lists only those the user holds.
      const held = state.current().loop.queries.balances(userId).filter((b) => b.available > 0n || b.locked > 0n);
      const sorted = [...held].sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
      return { balances: sorted.map(balanceToProto) };
    }),

    getOrderBook: unary((call): matching.GetOrderBookResponse => {
      const { market, depth } = bookQuery(call.request, markets);
      const book = state.current().loop.queries.depth(market, depth);
      if (book === undefined) throw new Error(`the engine has no book for configured market ${market}`);
      return depthToProto(book);
    }),

    getFeeBalances: unary((): matching.GetFeeBalancesResponse => {
      const balances = [...state.current().loop.queries.balances(FEE_ACCOUNT_ID)].sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
      return { accountId: FEE_ACCOUNT_ID, balances: balances.map(balanceToProto) };
    }),

    listMarkets: unary((): matching.ListMarketsResponse => ({ markets: markets.markets.map(marketToProto) })),

    listLedgerEntries: unary(history.listLedgerEntries),
    listTrades: unary(history.listTrades),
    getRecentTrades: unary(history.getRecentTrades),
    getTicker: unary(history.getTicker),
    listCandles: unary(history.listCandles),

    ...streamHandlers(deps),
    orderSession: orderSessionHandler(deps),
  };
}
