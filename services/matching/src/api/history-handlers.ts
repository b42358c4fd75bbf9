import type { Metadata } from '@grpc/grpc-js';
import type { matching } from '@orderbook/proto';
import { callerOf } from '../auth/caller-identity';
import type { ServiceState } from '../ops/service-state';
import type { MarketDirectory } from './markets';
import { encodePageToken } from './page-token';
import { ledgerPage, listFillsPage } from './requests';
import * as valid from './validation';
import { candleToProto, fillToProto, ledgerEntryToProto, publicTradeToProto, tickerToProto } from './views';

export interface HistoryDeps {
  readonly state: ServiceState;
  readonly markets: MarketDirectory;
  /** The time tickers and candles are measured at (Unix milliseconds). */
  readonly now: () => number;
}

type Unary<Req, Res> = (call: { readonly request: Req; readonly metadata: Metadata }) => Res;

/** The read side of history: the funds ledger, fills, recent trades, tickers and candles, straight from the engine. */
export function historyHandlers(deps: HistoryDeps) {
  const { state, markets } = deps;
  const queries = () => state.current().loop.queries;

  const listLedgerEntries: Unary<matching.ListLedgerEntriesRequest, matching.ListLedgerEntriesResponse> = (call) => {
    const page = ledgerPage(call.request);
    const found = queries().ledger(page.userId, page.query);
    const entries = found.slice(0, page.pageSize);
    const more = found.length > page.pageSize;
    return { entries: entries.map(ledgerEntryToProto), nextPageToken: more ? encodePageToken(entries[entries.length - 1]!.seq) : '' };
  };

  const listTrades: Unary<matching.ListTradesRequest, matching.ListTradesResponse> = (call) => {
    const { userId } = callerOf(call);
    const page = listFillsPage(call.request, markets);
    const found = queries().listFills(userId, page.query);
    const fills = found.slice(0, page.pageSize);
    const more = found.length > page.pageSize;
    return { fills: fills.map(fillToProto), nextPageToken: more ? encodePageToken(fills[fills.length - 1]!.tradeId) : '' };
  };

  const getRecentTrades: Unary<matching.GetRecentTradesRequest, matching.GetRecentTradesResponse> = (call) => {
    const market = valid.market(call.request.market, markets);
    const limit = valid.recentTradesLimit(call.request.limit);
    return { trades: (queries().recentTrades(market, limit) ?? []).map(publicTradeToProto) };
  };

  const getTicker: Unary<matching.GetTickerRequest, matching.GetTickerResponse> = (call) => {
    const market = valid.market(call.request.market, markets);
    const ticker = queries().ticker(market, deps.now());
    if (ticker === undefined) throw new Error(`the engine has no ticker for configured market ${market}`);
    return tickerToProto(ticker);
  };

  const listCandles: Unary<matching.ListCandlesRequest, matching.ListCandlesResponse> = (call) => {
    const { market, interval, limit } = valid.checkCandles(call.request, markets);
    return { candles: (queries().candles(market, interval, deps.now(), limit) ?? []).map(candleToProto) };
  };

  return { listLedgerEntries, listTrades, getRecentTrades, getTicker, listCandles };
}
