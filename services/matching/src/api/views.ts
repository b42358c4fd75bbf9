import {
  formatAmount,
  formatPrice,
  formatQuantity,
  PRICE_DECIMALS,
  QUANTITY_DECIMALS,
  type BalanceView,
  type CancelReason,
  type CandleView,
  type DepthView,
  type FillView,
  type LedgerEntryKind,
  type LedgerEntryView,
  type Liquidity,
  type LevelView,
  type MarketConfig,
  type OrderStatus,
  type OrderType,
  type OrderView,
  type SelfTradePrevention,
  type Side,
  type TickerView,
  type TimeInForce,
  type TradeView,
} from '@orderbook/engine';
import { matching } from '@orderbook/proto';
import { writtenRules } from '../storage/market-rules-record';

/** Engine views as proto messages: fixed-point integers as canonical decimal strings, ids as uint64. */

const SIDES: Readonly<Record<Side, matching.Side>> = { buy: matching.Side.SIDE_BUY, sell: matching.Side.SIDE_SELL };

const ORDER_TYPES: Readonly<Record<OrderType, matching.OrderType>> = {
  limit: matching.OrderType.ORDER_TYPE_LIMIT,
  market: matching.OrderType.ORDER_TYPE_MARKET,
};
/** The type of an order placed with a stop price (waiting or triggered). */
const STOP_ORDER_TYPES: Readonly<Record<OrderType, matching.OrderType>> = {
  limit: matching.OrderType.ORDER_TYPE_STOP_LIMIT,
  market: matching.OrderType.ORDER_TYPE_STOP_MARKET,
};

const STATUSES: Readonly<Record<OrderStatus, matching.OrderStatus>> = {
  open: matching.OrderStatus.ORDER_STATUS_OPEN,
  partially_filled: matching.OrderStatus.ORDER_STATUS_PARTIALLY_FILLED,
  filled: matching.OrderStatus.ORDER_STATUS_FILLED,
  cancelled: matching.OrderStatus.ORDER_STATUS_CANCELLED,
  untriggered: matching.OrderStatus.ORDER_STATUS_UNTRIGGERED,
};

const TIMES_IN_FORCE: Readonly<Record<TimeInForce, matching.TimeInForce>> = {
  GTC: matching.TimeInForce.TIME_IN_FORCE_GTC,
  IOC: matching.TimeInForce.TIME_IN_FORCE_IOC,
  FOK: matching.TimeInForce.TIME_IN_FORCE_FOK,
  GTD: matching.TimeInForce.TIME_IN_FORCE_GTD,
};

const SELF_TRADE_PREVENTIONS: Readonly<Record<SelfTradePrevention, matching.SelfTradePrevention>> = {
  cancel_resting: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_RESTING,
  cancel_taker: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_TAKER,
  cancel_both: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_BOTH,
};

const CANCEL_REASONS: Readonly<Record<CancelReason, matching.CancelReason>> = {
  user: matching.CancelReason.CANCEL_REASON_USER,
  ioc: matching.CancelReason.CANCEL_REASON_IOC,
  self_trade: matching.CancelReason.CANCEL_REASON_SELF_TRADE,
  expired: matching.CancelReason.CANCEL_REASON_EXPIRED,
  dead_man: matching.CancelReason.CANCEL_REASON_DEAD_MAN,
  disconnect: matching.CancelReason.CANCEL_REASON_DISCONNECT,
  oco: matching.CancelReason.CANCEL_REASON_OCO,
};

export function orderToProto(order: OrderView): matching.Order {
  return {
    orderId: BigInt(order.orderId),
    clientOrderId: order.clientOrderId ?? '',
    market: order.market,
    side: SIDES[order.side],
    type: (order.stopPrice === undefined ? ORDER_TYPES : STOP_ORDER_TYPES)[order.type],
    price: order.price === undefined ? '' : formatPrice(order.price),
    quantity: formatQuantity(order.quantity),
    filledQuantity: formatQuantity(order.filled),
    remainingQuantity: formatQuantity(order.quantity - order.filled),
    status: STATUSES[order.status],
    timeInForce: TIMES_IN_FORCE[order.timeInForce],
    postOnly: order.postOnly,
    selfTradePrevention: SELF_TRADE_PREVENTIONS[order.selfTradePrevention],
    createdAtUnixMs: BigInt(order.createdAt),
    updatedAtUnixMs: BigInt(order.updatedAt),
    lockedAmount: formatAmount(order.locked),
    expireAtUnixMs: BigInt(order.expireAt ?? 0),
    stopPrice: order.stopPrice === undefined ? '' : formatPrice(order.stopPrice),
    ocoOrderId: BigInt(order.ocoOrderId ?? 0),
    feesPaid: formatSignedAmount(order.feesPaid),
    feeAsset: feeAssetOf(order),
    cancelReason: order.cancelReason === undefined ? matching.CancelReason.CANCEL_REASON_UNSPECIFIED : CANCEL_REASONS[order.cancelReason],
  };
}

/** A fee or rebate (negative) in units of 10^-8 of its asset: "-" and the amount for a rebate. */
export function formatSignedAmount(units: bigint): string {
  return units < 0n ? `-${formatAmount(-units)}` : formatAmount(units);
}

/** What an order receives, and so pays its fees in: base for a buy, quote for a sell (markets are BASE-QUOTE). */
function feeAssetOf(order: Pick<OrderView, 'market' | 'side'>): string {
  const dash = order.market.indexOf('-');
  return order.side === 'buy' ? order.market.slice(0, dash) : order.market.slice(dash + 1);
}

/** A trade as the public sees it (StreamTrades): neither side's fee. */
export function tradeToProto(trade: TradeView): matching.Trade {
  return {
    tradeId: BigInt(trade.tradeId),
    market: trade.market,
    price: formatPrice(trade.price),
    quantity: formatQuantity(trade.quantity),
    quoteAmount: formatAmount(trade.quoteAmount),
    makerOrderId: BigInt(trade.makerOrderId),
    takerOrderId: BigInt(trade.takerOrderId),
    takerSide: SIDES[trade.takerSide],
    executedAtUnixMs: BigInt(trade.timestamp),
    sequence: BigInt(trade.seq),
    makerFee: '',
    makerFeeAsset: '',
    takerFee: '',
    takerFeeAsset: '',
  };
}

/** A trade as the owner of `order`, one of its two sides, sees it: with its own fee, and nothing of the other side's. */
export function ownTradeToProto(trade: TradeView, order: OrderView): matching.Trade {
  const proto = tradeToProto(trade);
  if (trade.makerOrderId === order.orderId) {
    proto.makerFee = formatSignedAmount(trade.makerFee);
    proto.makerFeeAsset = feeAssetOf(order);
  } else if (trade.takerOrderId === order.orderId) {
    proto.takerFee = formatSignedAmount(trade.takerFee);
    proto.takerFeeAsset = feeAssetOf(order);
  }
  return proto;
}

function levelToProto(level: LevelView): matching.PriceLevel {
  return { price: formatPrice(level.price), quantity: formatQuantity(level.quantity), orderCount: level.orderCount };
}

export function levelUpdateToProto(level: Pick<LevelView, 'price' | 'quantity' | 'orderCount'> & { readonly side: Side }): matching.LevelUpdate {
  return { side: SIDES[level.side], price: formatPrice(level.price), quantity: formatQuantity(level.quantity), orderCount: level.orderCount };
}

export function depthToProto(depth: DepthView): matching.GetOrderBookResponse {
  return {
    market: depth.market,
    bids: depth.bids.map(levelToProto),
    asks: depth.asks.map(levelToProto),
    sequence: BigInt(depth.bookSeq),
  };
}

export function balanceToProto(balance: BalanceView): matching.Balance {
  return { asset: balance.asset, available: formatAmount(balance.available), locked: formatAmount(balance.locked) };
}

export function marketToProto(market: MarketConfig): matching.Market {
  const rules = writtenRules(market);
  return {
    symbol: market.symbol,
    baseAsset: market.base,
    quoteAsset: market.quote,
    priceDecimals: PRICE_DECIMALS,
    quantityDecimals: QUANTITY_DECIMALS,
    makerFeeBps: rules.maker_fee_bps,
    takerFeeBps: rules.taker_fee_bps,
    tickSize: rules.tick_size,
    lotSize: rules.lot_size,
    minQuantity: rules.min_quantity,
    minNotional: rules.min_notional,
  };
}

const LEDGER_KINDS: Readonly<Record<LedgerEntryKind, matching.LedgerEntryKind>> = {
  deposit: matching.LedgerEntryKind.LEDGER_ENTRY_KIND_DEPOSIT,
  withdrawal: matching.LedgerEntryKind.LEDGER_ENTRY_KIND_WITHDRAWAL,
};

export function ledgerEntryToProto(entry: LedgerEntryView): matching.LedgerEntry {
  return {
    sequence: BigInt(entry.seq),
    createdAtUnixMs: BigInt(entry.timestamp),
    kind: LEDGER_KINDS[entry.kind],
    asset: entry.asset,
    amount: formatAmount(entry.amount),
    requestId: entry.requestId ?? '',
    adminId: entry.adminId ?? '',
    reference: entry.reference ?? '',
    balanceAfter: formatAmount(entry.balanceAfter),
  };
}

const LIQUIDITY: Readonly<Record<Liquidity, matching.Liquidity>> = {
  maker: matching.Liquidity.LIQUIDITY_MAKER,
  taker: matching.Liquidity.LIQUIDITY_TAKER,
};

export function fillToProto(fill: FillView): matching.Fill {
  return {
    tradeId: BigInt(fill.tradeId),
    market: fill.market,
    orderId: BigInt(fill.orderId),
    side: SIDES[fill.side],
    liquidity: LIQUIDITY[fill.liquidity],
    price: formatPrice(fill.price),
    quantity: formatQuantity(fill.quantity),
    quoteAmount: formatAmount(fill.quoteAmount),
    executedAtUnixMs: BigInt(fill.timestamp),
    sequence: BigInt(fill.seq),
    fee: fill.fee < 0n ? `-${formatAmount(-fill.fee)}` : formatAmount(fill.fee),
    feeAsset: fill.feeAsset,
  };
}

/** A trade without who made it: no user ids, no order ids. */
export function publicTradeToProto(trade: TradeView): matching.PublicTrade {
  return {
    tradeId: BigInt(trade.tradeId),
    market: trade.market,
    price: formatPrice(trade.price),
    quantity: formatQuantity(trade.quantity),
    quoteAmount: formatAmount(trade.quoteAmount),
    takerSide: SIDES[trade.takerSide],
    executedAtUnixMs: BigInt(trade.timestamp),
    sequence: BigInt(trade.seq),
  };
}

const optionalPrice = (price: bigint | undefined): string => (price === undefined ? '' : formatPrice(price));

export function tickerToProto(ticker: TickerView): matching.GetTickerResponse {
  const w = ticker.window;
  return {
    market: ticker.market,
    lastPrice: optionalPrice(ticker.lastPrice),
    lastTradeAtUnixMs: BigInt(ticker.lastTradeAt ?? 0),
    bestBid: optionalPrice(ticker.bestBid),
    bestAsk: optionalPrice(ticker.bestAsk),
    windowStartUnixMs: BigInt(ticker.windowStart),
    windowEndUnixMs: BigInt(ticker.windowEnd),
    open: optionalPrice(w?.open),
    high: optionalPrice(w?.high),
    low: optionalPrice(w?.low),
    volume: formatQuantity(w?.volume ?? 0n),
    quoteVolume: formatAmount(w?.quoteVolume ?? 0n),
    tradeCount: BigInt(w?.tradeCount ?? 0),
  };
}

export function candleToProto(candle: CandleView): matching.Candle {
  return {
    startUnixMs: BigInt(candle.start),
    open: formatPrice(candle.open),
    high: formatPrice(candle.high),
    low: formatPrice(candle.low),
    close: formatPrice(candle.close),
    volume: formatQuantity(candle.volume),
    quoteVolume: formatAmount(candle.quoteVolume),
    tradeCount: BigInt(candle.tradeCount),
  };
}
