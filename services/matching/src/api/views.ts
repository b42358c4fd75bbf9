import {
  formatAmount,
  formatPrice,
  formatQuantity,
  PRICE_DECIMALS,
  QUANTITY_DECIMALS,
  type BalanceView,
  type CancelReason,
  type DepthView,
  type LevelView,
  type MarketConfig,
  type OrderStatus,
  type OrderType,
  type OrderView,
  type SelfTradePrevention,
  type Side,
  type TimeInForce,
  type TradeView,
} from '@orderbook/engine';
import { matching } from '@orderbook/proto';

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
  return {
    symbol: market.symbol,
    baseAsset: market.base,
    quoteAsset: market.quote,
    priceDecimals: PRICE_DECIMALS,
    quantityDecimals: QUANTITY_DECIMALS,
    makerFeeBps: market.makerFeeBps ?? 0,
    takerFeeBps: market.takerFeeBps ?? 0,
    tickSize: formatPrice(market.tickSize ?? 1n),
    lotSize: formatQuantity(market.lotSize ?? 1n),
    minQuantity: formatQuantity(market.minQuantity ?? 1n),
    minNotional: formatAmount(market.minNotional ?? 0n),
  };
}
