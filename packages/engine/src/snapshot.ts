/**
 * The engine's whole state as canonical JSON text, and back.
 *
 * Canonical: the same state always gives the same text — markets in config order, levels best
 * first, orders of a level in queue (time-priority) order, accounts sorted by user id, retained
 * closed orders in closing (eviction) order, amounts in units as decimal strings. Orders are
 * tuples laid out as `orderFields` says, to keep snapshots of millions of orders compact. The retry
 * state (placement trades by client order id, deposit request ids) is written only where there is
 * some, so that snapshots and hashes of states without it read as before it existed.
 */
import { createHash } from 'node:crypto';
import type { CancelReason, OrderStatus, OrderType, SelfTradePrevention, Side, TimeInForce, TradeView } from './api';
import type { Account } from './account';
import type { BookSide } from './book';
import { NO_ORDER, type OrderRef, type OrderStore } from './order-store';
import type { EngineState } from './state';

const FORMAT = 'orderbook-engine-snapshot/1';
const ORDER_FIELDS = [
  'orderId', 'clientOrderId', 'userId', 'market', 'side', 'type', 'price', 'quantity', 'filled', 'status',
  'cancelReason', 'timeInForce', 'postOnly', 'selfTradePrevention', 'locked', 'createdAt', 'updatedAt',
] as const;

type OrderTuple = [
  number, string | null, string, string, Side, OrderType, string | null, string, string, OrderStatus,
  CancelReason | null, TimeInForce, boolean, SelfTradePrevention, string, number, number,
];

/** TradeView as a tuple: tradeId, market, price, quantity, quoteAmount, maker and taker order ids and users, takerSide, timestamp, seq. */
type TradeTuple = [number, string, string, string, string, number, number, string, string, Side, number, number];

interface MarketRecord {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly bookSeq: number;
  /** Levels best first, each the orders resting there in queue order. */
  readonly bids: OrderTuple[][];
  readonly asks: OrderTuple[][];
}

interface AccountRecord {
  readonly userId: string;
  /** [asset, available, locked] for every engine asset, in EngineState.assets order. */
  readonly balances: [string, string, string][];
  /** Retained closed orders, oldest closed first. */
  readonly closed: OrderTuple[];
  /** What orders with a retained client order id traded when placed, by client order id (sorted). */
  readonly placementTrades?: [string, TradeTuple[]][];
  /** What amended orders with a retained client order id were placed with: [clientOrderId, price, quantity] (sorted). */
  readonly placedAs?: [string, string, string][];
  /** Remembered deposit request ids, oldest first: [requestId, asset, amount]. */
  readonly depositRequests?: [string, string, string][];
}

/** Everything that decides future behaviour except lastSeq (which stateHash leaves out). */
interface StateRecord {
  readonly nextTradeId: number;
  readonly orderFields: typeof ORDER_FIELDS;
  readonly markets: MarketRecord[];
  readonly accounts: AccountRecord[];
}

function encodeOrder(store: OrderStore, o: OrderRef): OrderTuple {
  return [
    store.id(o), store.clientOrderId(o) ?? null, store.userId(o), store.symbol(o), store.side(o), store.type(o),
    store.type(o) === 'limit' ? String(store.price(o)) : null, String(store.quantity(o)), String(store.filled(o)), store.status(o),
    store.cancelReason(o) ?? null, store.timeInForce(o), store.postOnly(o), store.selfTradePrevention(o), String(store.locked(o)),
    store.createdAt(o), store.updatedAt(o),
  ];
}

function encodeTrade(t: TradeView): TradeTuple {
  return [
    t.tradeId, t.market, String(t.price), String(t.quantity), String(t.quoteAmount), t.makerOrderId, t.takerOrderId,
    t.makerUserId, t.takerUserId, t.takerSide, t.timestamp, t.seq,
  ];
}

function decodeTrade(t: TradeTuple): TradeView {
  const [tradeId, market, price, quantity, quoteAmount, makerOrderId, takerOrderId, makerUserId, takerUserId, takerSide, timestamp, seq] = t;
  return {
    tradeId, market, price: BigInt(price), quantity: BigInt(quantity), quoteAmount: BigInt(quoteAmount), makerOrderId, takerOrderId,
    makerUserId, takerUserId, takerSide, timestamp, seq,
  };
}

/** The account's retry state, only the parts it has. */
function encodeRetries(account: Account): Pick<AccountRecord, 'placementTrades' | 'placedAs' | 'depositRequests'> {
  const byId = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);
  const trades = account.allPlacementTrades().sort(byId);
  const placed = account.allPlacedAs().sort(byId);
  const deposits = account.allDepositRequests();
  return {
    ...(trades.length === 0 ? {} : { placementTrades: trades.map(([id, list]): [string, TradeTuple[]] => [id, list.map(encodeTrade)]) }),
    ...(placed.length === 0 ? {} : { placedAs: placed.map(([id, p]): [string, string, string] => [id, String(p.price), String(p.quantity)]) }),
    ...(deposits.length === 0 ? {} : { depositRequests: deposits.map(([id, d]): [string, string, string] => [id, d.asset, String(d.amount)]) }),
  };
}

function encodeSide(store: OrderStore, side: BookSide): OrderTuple[][] {
  const levels: OrderTuple[][] = [];
  for (let rank = 0; rank < side.levelCount(); rank++) {
    const orders: OrderTuple[] = [];
    for (let o = side.nthBest(rank)!.head; o !== NO_ORDER; o = store.next(o)) orders.push(encodeOrder(store, o));
    levels.push(orders);
  }
  return levels;
}

function encodeState(state: EngineState): StateRecord {
  const store = state.store;
  return {
    nextTradeId: state.nextTradeId,
    orderFields: ORDER_FIELDS,
    markets: state.markets.map((m) => ({
      symbol: m.symbol,
      base: m.config.base,
      quote: m.config.quote,
      bookSeq: m.book.seq,
      bids: encodeSide(store, m.book.bids),
      asks: encodeSide(store, m.book.asks),
    })),
    accounts: [...state.accounts.keys()].sort().map((userId) => {
      const account = state.accounts.get(userId)!;
      return {
        userId,
        balances: state.assets.map((asset, i): [string, string, string] => {
          const ref = state.balances.ref(account.index, i);
          return [asset, state.balances.available(ref).toString(), state.balances.locked(ref).toString()];
        }),
        closed: account.closedOrders(store).map((o) => encodeOrder(store, o)),
        ...encodeRetries(account),
      };
    }),
  };
}

export function writeSnapshot(state: EngineState): string {
  return JSON.stringify({ format: FORMAT, lastSeq: state.lastSeq, ...encodeState(state) });
}

export function stateHash(state: EngineState): string {
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, ...encodeState(state) })).digest('hex');
}

function corrupt(what: string): never {
  throw new Error(`invalid engine snapshot: ${what}`);
}

/** Loads `text` into a freshly constructed (empty) state built from the same config. */
export function readSnapshot(state: EngineState, text: string): void {
  const record = JSON.parse(text) as StateRecord & { format: unknown; lastSeq: number };
  if (record.format !== FORMAT) corrupt(`unknown format ${String(record.format)}`);
  if (record.markets.length !== state.markets.length) corrupt('markets differ from the config');
  record.markets.forEach((m, i) => {
    const config = state.markets[i]!.config;
    if (m.symbol !== config.symbol || m.base !== config.base || m.quote !== config.quote) {
      corrupt(`market ${m.symbol} differs from the config`);
    }
  });
  state.lastSeq = record.lastSeq;
  state.nextTradeId = record.nextTradeId;

  for (const a of record.accounts) {
    const account = state.newAccount(a.userId);
    if (a.balances.length !== state.assets.length) corrupt(`balances of ${a.userId} differ from the config assets`);
    a.balances.forEach(([asset, available, locked], i) => {
      if (asset !== state.assets[i]) corrupt(`asset ${asset} of ${a.userId} differs from the config`);
      state.balances.restore(state.balances.ref(account.index, i), BigInt(available), BigInt(locked));
    });
    for (const t of a.closed) account.retain(state.store, state.orders, decodeOrder(state, t));
    for (const [requestId, asset, amount] of a.depositRequests ?? []) account.rememberDeposit(requestId, { asset, amount: BigInt(amount) });
  }

  record.markets.forEach((m, i) => {
    const book = state.markets[i]!.book;
    book.seq = m.bookSeq;
    for (const levels of [m.bids, m.asks]) {
      for (const level of levels) {
        for (const t of level) {
          const order = decodeOrder(state, t);
          book.add(order);
          state.accountList[state.store.accountIndex(order)]!.addOpen(state.store, order);
        }
      }
    }
  });
  // Once every retained order (and so every client order id) is back.
  for (const a of record.accounts) {
    const account = state.accounts.get(a.userId)!;
    for (const [clientOrderId, trades] of a.placementTrades ?? []) {
      const order = account.orderByClientOrderId(clientOrderId);
      if (order === NO_ORDER) corrupt(`placement trades of unknown client order id ${clientOrderId} of ${a.userId}`);
      account.keepPlacementTrades(clientOrderId, order, trades.map(decodeTrade));
    }
    for (const [clientOrderId, price, quantity] of a.placedAs ?? []) {
      const order = account.orderByClientOrderId(clientOrderId);
      if (order === NO_ORDER) corrupt(`placement of unknown client order id ${clientOrderId} of ${a.userId}`);
      account.keepPlacedAs(clientOrderId, order, { price: Number(price), quantity: Number(quantity) });
    }
  }
}

/** Recreates an order from its tuple and indexes it. */
function decodeOrder(state: EngineState, t: OrderTuple): OrderRef {
  const [id, clientOrderId, userId, symbol, side, type, price, quantity, filled, status, cancelReason, tif, postOnly, stp, locked, createdAt, updatedAt] = t;
  const account = state.accounts.get(userId) ?? corrupt(`order ${id} of unknown user ${userId}`);
  const market = state.markets.find((m) => m.symbol === symbol) ?? corrupt(`order ${id} in unknown market ${symbol}`);
  if (state.orders.has(id)) corrupt(`order ${id} appears twice`);
  const order = state.store.create(
    id, account.index, market.index, side === 'buy' ? market.quoteIndex : market.baseIndex, side, type, price === null ? 0 : Number(price),
    Number(quantity), Number(locked), createdAt, tif,
    postOnly, stp, clientOrderId ?? undefined,
  );
  state.store.restoreProgress(order, Number(filled), status, cancelReason ?? undefined, updatedAt);
  state.orders.add(id, order);
  return order;
}
