/**
 * The engine's public contract: commands in, results and events out.
 *
 * Prices are integers in units of 10^-6 of the quote asset; quantities and asset amounts are
 * integers in units of 10^-8. Ids, sequence numbers and timestamps are assigned by the caller
 * (the sequencer) so that replaying the same commands reproduces the same state.
 */

export type Side = 'buy' | 'sell';
/** GTD: good till date, a GTC order that the engine cancels (reason 'expired') at its expireAt. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTD';
export type SelfTradePrevention = 'cancel_resting' | 'cancel_taker' | 'cancel_both';
export type OrderType = 'limit' | 'market';
/** 'untriggered': a stop order waiting for its trigger, off the book (stops.ts). */
export type OrderStatus = 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'untriggered';
/**
 * Why an order was cancelled: its user; the unfilled rest of an IOC/FOK order; self-trade
 * prevention; its GTD expiry; its user's dead-man switch (CancelAllAfterCommand); the end of the
 * order session that placed it with cancel-on-disconnect (CancelSessionCommand); the other order of
 * its one-cancels-other pair filled, triggered or was cancelled ('oco').
 */
export type CancelReason = 'user' | 'ioc' | 'self_trade' | 'expired' | 'dead_man' | 'disconnect' | 'oco';

export interface MarketConfig {
  /** "BASE-QUOTE", e.g. "BTC-USD". */
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /**
   * Fee of a fill's maker, in basis points of what the maker receives (see settlement.ts for the
   * fee rule): an integer from -takerFeeBps (a rebate) to MAX_FEE_BPS. Default 0.
   */
  readonly makerFeeBps?: number;
  /** Fee of a fill's taker, in basis points of what the taker receives: 0 to MAX_FEE_BPS. Default 0. */
  readonly takerFeeBps?: number;
  /** Prices must be multiples of this, in price units (10^-6). Default 1 (any price). */
  readonly tickSize?: bigint;
  /** Quantities must be multiples of this, in quantity units (10^-8). Default 1 (any quantity). */
  readonly lotSize?: bigint;
  /** The smallest order quantity, in quantity units. Default 1. */
  readonly minQuantity?: bigint;
  /** The smallest order value (floor(price × quantity / 10^6)), in quote units (10^-8). Default 0 (none). */
  readonly minNotional?: bigint;
}

/**
 * The account every fee is credited to and every maker rebate paid from. Not a possible user id of
 * the auth service (those are UUIDs), so no one can sign up as it; it never trades (placements
 * naming it are refused), and an admin may fund it with a deposit so that it can pay rebates.
 */
export const FEE_ACCOUNT_ID = 'exchange:fees';
/** The largest fee, in basis points (10 %): a fee never takes more than a tenth of what a side receives. */
export const MAX_FEE_BPS = 1000;

export interface EngineConfig {
  readonly markets: readonly MarketConfig[];
  /**
   * Closed (filled or cancelled) orders kept per user for GetOrder/ListOrders; oldest evicted first.
   * It is also the retry window: a client order id is remembered while its order is open or
   * retained, and a deposit's (a withdrawal's) request id among the user's last this-many
   * deposits (withdrawals) that had one.
   */
  readonly closedOrdersRetainedPerUser: number;
  /** Fills kept per user for listFills (the newest; the oldest forgotten first). Default 100. */
  readonly fillsRetainedPerUser?: number;
  /** Trades kept per market for recentTrades (the newest). Default 1000. */
  readonly tradesRetainedPerMarket?: number;
  /**
   * Stop orders one user may have waiting for their trigger in one market (an OCO pair's stop
   * included); past it a stop is refused. Default DEFAULT_MAX_STOPS_PER_USER_MARKET (1000).
   */
  readonly maxStopsPerUserMarket?: number;
  /**
   * The most orders one user may have resting on one market's book; past it a GTC or GTD limit order
   * (an OCO pair's too) is refused. Default DEFAULT_MAX_OPEN_ORDERS_PER_USER_MARKET (10,000).
   */
  readonly maxOpenOrdersPerUserMarket?: number;
}

/**
 * The limits of EngineConfig, defaults filled in: engine state, because they judge commands (the
 * bounds refuse placements; the retention is the retry window). The config's are the limits before
 * the first ConfigureCommand (and those of a snapshot written before limits were recorded); only a
 * sequenced ConfigureCommand changes them, so that a replay judges every command by the limits in
 * force when it was first executed.
 */
export interface EngineLimits {
  readonly closedOrdersRetainedPerUser: number;
  readonly fillsRetainedPerUser: number;
  readonly tradesRetainedPerMarket: number;
  readonly maxStopsPerUserMarket: number;
  readonly maxOpenOrdersPerUserMarket: number;
}

interface CommandHeader {
  /** Engine sequence number: strictly increasing by one per command. */
  readonly seq: number;
  /** Unix milliseconds, assigned by the sequencer. */
  readonly timestamp: number;
}

export interface PlaceLimitCommand extends CommandHeader {
  readonly kind: 'placeLimit';
  readonly orderId: number;
  readonly userId: string;
  readonly market: string;
  readonly side: Side;
  readonly price: bigint;
  readonly quantity: bigint;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  readonly selfTradePrevention: SelfTradePrevention;
  /**
   * Unix milliseconds at which a GTD order expires: required with GTD (after the command's
   * timestamp, at most MAX_GTD_MS after it), absent with every other time in force.
   */
  readonly expireAt?: number;
  /**
   * The caller's idempotency key. A placement repeating a retained one's parameters answers with
   * that order (as it is now) and the trades it made when placed, and changes nothing; with other
   * parameters it is rejected (ALREADY_EXISTS).
   */
  readonly clientOrderId?: string;
  /**
   * Makes it a stop-limit order (stops.ts): it waits off the book, locking what the limit order
   * locks, until a trade of its market prints at or beyond this price. Time in force GTC or IOC, not post-only.
   */
  readonly stopPrice?: bigint;
}

export interface PlaceMarketCommand extends CommandHeader {
  readonly kind: 'placeMarket';
  readonly orderId: number;
  readonly userId: string;
  readonly market: string;
  readonly side: Side;
  readonly quantity: bigint;
  readonly selfTradePrevention: SelfTradePrevention;
  /** As PlaceLimitCommand.clientOrderId. */
  readonly clientOrderId?: string;
  /**
   * Makes it a stop-market order (stops.ts): a sell locks its quantity, a buy what the quantity
   * costs at the stop price plus a tenth (stopMarketBuyLockPrice); triggered, it fills completely
   * within that lock or is cancelled.
   */
  readonly stopPrice?: bigint;
}

/**
 * A one-cancels-other pair (stops.ts): a GTC limit order and a stop order of the same user, market,
 * side and quantity, placed together; each locks its own funds. Any fill of the limit order, the
 * trigger of the stop, or a cancel of either cancels the other (reason 'oco').
 */
export interface PlaceOcoCommand extends CommandHeader {
  readonly kind: 'placeOco';
  /** The limit order's id; the stop's is stopOrderId. */
  readonly orderId: number;
  readonly stopOrderId: number;
  readonly userId: string;
  readonly market: string;
  readonly side: Side;
  readonly quantity: bigint;
  /** The limit order's price. */
  readonly price: bigint;
  /** The stop's trigger: below price for a sell, above it for a buy. */
  readonly stopPrice: bigint;
  /** The stop's limit price once triggered (a stop-limit); undefined for a stop-market. */
  readonly stopLimitPrice?: bigint;
  readonly selfTradePrevention: SelfTradePrevention;
  /**
   * Carried by the limit order: a repeat with the same parameters while it is retained answers
   * with the pair and the trades it made when placed (AIP-155), as PlaceLimitCommand's.
   */
  readonly clientOrderId?: string;
}

/** Cancelling an order that is already cancelled answers with it (nothing released) and changes nothing. */
export interface CancelCommand extends CommandHeader {
  readonly kind: 'cancel';
  readonly userId: string;
  /** The order; ignored (0 by convention) when clientOrderId names it instead. */
  readonly orderId: number;
  readonly clientOrderId?: string;
}

export interface DepositCommand extends CommandHeader {
  readonly kind: 'deposit';
  readonly userId: string;
  readonly asset: string;
  readonly amount: bigint;
  /**
   * Idempotency key: a deposit repeating a retained request id with the same asset, amount and
   * reference credits nothing and answers with the balance as it is; with others it is rejected (ALREADY_EXISTS).
   */
  readonly requestId?: string;
  /** The admin who made the deposit (the verified caller); absent in commands journaled before it was recorded. */
  readonly adminId?: string;
  /**
   * Where the funds came from outside the exchange (a transfer or transaction id), 1 to 128
   * printable ASCII characters, kept in the funds ledger; optional. A retry must repeat it.
   */
  readonly reference?: string;
}

/**
 * Takes an amount out of a user's available balance (never out of what open orders lock), for an
 * admin, with the admin and an external reference kept in the funds ledger.
 */
export interface WithdrawCommand extends CommandHeader {
  readonly kind: 'withdraw';
  readonly userId: string;
  readonly asset: string;
  readonly amount: bigint;
  /**
   * Idempotency key: a withdrawal repeating one of the user's last retained request ids with the
   * same asset, amount and reference debits nothing and answers with that withdrawal's ledger
   * entry and the balance as it is; with others it is rejected (ALREADY_EXISTS).
   */
  readonly requestId?: string;
  /** The admin who withdraws (the verified caller, never a request field). */
  readonly adminId: string;
  /** Where the funds went outside the exchange (a bank transfer or transaction id): 1 to 128 printable ASCII characters. */
  readonly reference: string;
}

/**
 * Changes the price and/or the quantity (the total, filled part included) of an open order. Only
 * a smaller quantity at the same price keeps the order's place in its queue; anything else moves
 * it to the back of its (new) level, and a new price that crosses the book trades first, as a
 * taker would. Its lock becomes exactly what the amended rest reserves: the difference is locked
 * (refused if not available) or released.
 */
export interface AmendCommand extends CommandHeader {
  readonly kind: 'amend';
  readonly userId: string;
  /** The order; ignored (0 by convention) when clientOrderId names it instead. */
  readonly orderId: number;
  readonly clientOrderId?: string;
  /** The new limit price; undefined keeps it. */
  readonly price?: bigint;
  /** The new total quantity, above what is filled; undefined keeps it. */
  readonly quantity?: bigint;
}

/** Cancels all of the user's open orders, or those of one market and/or side: one command, one seq. */
export interface CancelAllCommand extends CommandHeader {
  readonly kind: 'cancelAll';
  readonly userId: string;
  /** Only this market; undefined for all. */
  readonly market?: string;
  /** Only this side; undefined for both. */
  readonly side?: Side;
}

/**
 * The timer command: fires what is due at its timestamp — each dead-man switch whose deadline and
 * each GTD order whose expiry is at or before it, earliest first (at the same instant switches
 * before expiries; switches by user id, orders by id). Only this command fires timers:
 * the service sequences one whenever nextDeadline() is reached, and before any command whose
 * timestamp reaches it, so no other command sees an order past its expiry.
 */
export interface ExpireCommand extends CommandHeader {
  readonly kind: 'expire';
}

/**
 * The dead-man switch (Kraken's CancelAllOrdersAfter): unless renewed, all of the user's open
 * orders are cancelled (reason 'dead_man') timeoutSeconds after this command. Renewing replaces
 * the deadline; 0 disarms. 1 to MAX_DEAD_MAN_SECONDS.
 */
export interface CancelAllAfterCommand extends CommandHeader {
  readonly kind: 'cancelAllAfter';
  readonly userId: string;
  readonly timeoutSeconds: number;
}

/**
 * Cancel on disconnect: cancels those of `orderIds` that are the user's and still open (reason
 * 'disconnect'), oldest first, in one command — the orders an order session placed, when it ended.
 * Ids that are closed, unknown or someone else's are skipped.
 */
export interface CancelSessionCommand extends CommandHeader {
  readonly kind: 'cancelSession';
  readonly userId: string;
  readonly orderIds: readonly number[];
}

/**
 * Sets every limit (non-negative integers) from this command on. Lowering a bound leaves what
 * already rests or waits beyond it alone (bounds are checked at entry); lowering a retention forgets
 * at once each user's oldest retained closed orders and request ids, fills and each market's oldest
 * trades beyond it.
 */
export interface ConfigureCommand extends CommandHeader {
  readonly kind: 'configure';
  readonly limits: EngineLimits;
}

export type Command =
  | PlaceLimitCommand
  | PlaceMarketCommand
  | CancelCommand
  | DepositCommand
  | AmendCommand
  | CancelAllCommand
  | ExpireCommand
  | CancelAllAfterCommand
  | CancelSessionCommand
  | PlaceOcoCommand
  | WithdrawCommand
  | ConfigureCommand;

export interface OrderView {
  readonly orderId: number;
  readonly clientOrderId?: string;
  readonly userId: string;
  readonly market: string;
  readonly side: Side;
  readonly type: OrderType;
  /** Limit price; undefined for market orders. */
  readonly price?: bigint;
  readonly quantity: bigint;
  readonly filled: bigint;
  readonly status: OrderStatus;
  readonly cancelReason?: CancelReason;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  readonly selfTradePrevention: SelfTradePrevention;
  /** Unix milliseconds at which a GTD order expires; undefined for other orders. */
  readonly expireAt: number | undefined;
  /** What the order still locks: quote for a buy, base for a sell. */
  readonly locked: bigint;
  /**
   * The sum of the fees of its fills, in the asset it receives (base for a buy, quote for a sell);
   * negative when rebates outweigh them.
   */
  readonly feesPaid: bigint;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** A stop order's trigger price (waiting or triggered); undefined for other orders. */
  readonly stopPrice?: bigint;
  /** The other order of its one-cancels-other pair while both are open. */
  readonly ocoOrderId?: number;
}

export interface TradeView {
  readonly tradeId: number;
  readonly market: string;
  readonly price: bigint;
  readonly quantity: bigint;
  /** Quote paid by the buyer and received by the seller: floor(price × quantity / 10^6). */
  readonly quoteAmount: bigint;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerUserId: string;
  readonly takerUserId: string;
  readonly takerSide: Side;
  /**
   * What the maker paid in fees, in the asset the maker receives (base if it bought, quote if it
   * sold): its credit is that much less. Negative: a rebate, credited on top.
   */
  readonly makerFee: bigint;
  /** What the taker paid in fees, in the asset the taker receives; never negative. */
  readonly takerFee: bigint;
  readonly timestamp: number;
  readonly seq: number;
}

export type Liquidity = 'maker' | 'taker';

/** One of a user's fills: a trade as that user saw it. */
export interface FillView {
  readonly tradeId: number;
  readonly market: string;
  /** The user's order that traded. */
  readonly orderId: number;
  /** The user's side. */
  readonly side: Side;
  readonly liquidity: Liquidity;
  readonly price: bigint;
  readonly quantity: bigint;
  readonly quoteAmount: bigint;
  /** What the user paid in fees for this fill, in feeAsset; negative: a rebate (see TradeView). */
  readonly fee: bigint;
  /** The asset the user received, which the fee is taken from: base for a buy, quote for a sell. */
  readonly feeAsset: string;
  readonly timestamp: number;
  readonly seq: number;
}

/** The aggregate of a market's trades over a span of time; prices undefined when there was no trade. */
export interface CandleView {
  /** Unix milliseconds of the span's start (a multiple of its length). */
  readonly start: number;
  readonly open: bigint;
  readonly high: bigint;
  readonly low: bigint;
  readonly close: bigint;
  /** Base quantity traded. */
  readonly volume: bigint;
  /** Quote amount traded. */
  readonly quoteVolume: bigint;
  readonly tradeCount: number;
}

/** A market's last price, best prices and its last 24 hours of trading (see TICKER_WINDOW_MINUTES). */
export interface TickerView {
  readonly market: string;
  readonly lastPrice?: bigint;
  readonly lastTradeAt?: number;
  readonly bestBid?: bigint;
  readonly bestAsk?: bigint;
  /** The window's first minute and the minute after its last (Unix milliseconds). */
  readonly windowStart: number;
  readonly windowEnd: number;
  /** The trading within the window; undefined when there was none. */
  readonly window?: Omit<CandleView, 'start'>;
}

export type LedgerEntryKind = 'deposit' | 'withdrawal';

/** One move of funds into or out of the exchange, as the funds ledger keeps it. */
export interface LedgerEntryView {
  /** The seq of the command that made it: unique, and increasing along a user's ledger. */
  readonly seq: number;
  readonly timestamp: number;
  readonly kind: LedgerEntryKind;
  readonly asset: string;
  readonly amount: bigint;
  readonly requestId?: string;
  /** The admin who made it; absent for deposits journaled before admins were recorded. */
  readonly adminId?: string;
  readonly reference?: string;
  /** The user's available balance of the asset right after it. */
  readonly balanceAfter: bigint;
}

export interface LevelView {
  readonly price: bigint;
  readonly quantity: bigint;
  readonly orderCount: number;
}

export interface BalanceView {
  readonly asset: string;
  readonly available: bigint;
  readonly locked: bigint;
}

export type EngineEvent =
  | { readonly type: 'orderAccepted'; readonly order: OrderView }
  | { readonly type: 'trade'; readonly trade: TradeView }
  /** An order changed: a fill (trade set), a cancel, or its final state. */
  | { readonly type: 'orderUpdated'; readonly order: OrderView; readonly trade?: TradeView }
  /** A price level changed; quantity 0 means the level is gone. bookSeq grows by one per event per market. */
  | {
      readonly type: 'bookLevel';
      readonly market: string;
      readonly side: Side;
      readonly price: bigint;
      readonly quantity: bigint;
      readonly orderCount: number;
      readonly bookSeq: number;
    }
  | { readonly type: 'balance'; readonly userId: string; readonly balance: BalanceView };

export type EngineErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'FAILED_PRECONDITION' | 'ALREADY_EXISTS';

export interface EngineError {
  readonly code: EngineErrorCode;
  /** The request field at fault, e.g. "quantity", "market", "order_id". */
  readonly field?: string;
  /** Says what was wrong, e.g. "quantity: insufficient liquidity for market order". */
  readonly message: string;
}

export interface PlaceResult {
  readonly kind: 'placed';
  readonly order: OrderView;
  readonly trades: readonly TradeView[];
}
export interface CancelResult {
  readonly kind: 'cancelled';
  readonly order: OrderView;
  readonly releasedAsset: string;
  readonly releasedAmount: bigint;
}
export interface DepositResult {
  readonly kind: 'deposited';
  readonly userId: string;
  readonly balance: BalanceView;
}

export interface WithdrawResult {
  readonly kind: 'withdrawn';
  readonly userId: string;
  readonly balance: BalanceView;
  /** The withdrawal's ledger entry (for a retry: the original's). */
  readonly entry: LedgerEntryView;
}

export interface AmendResult {
  readonly kind: 'amended';
  /** The order after the amendment (and after the trades a crossing price made). */
  readonly order: OrderView;
  readonly trades: readonly TradeView[];
}

export interface CancelAllResult {
  readonly kind: 'cancelledAll';
  /** How many orders were cancelled (each also reported by an orderUpdated event, oldest first). */
  readonly count: number;
  /** What their locks gave back, per asset (sorted by asset). */
  readonly released: readonly { readonly asset: string; readonly amount: bigint }[];
}

export interface ExpireResult {
  readonly kind: 'expired';
  /** GTD orders cancelled at their expiry. */
  readonly expiredOrders: number;
  /** Dead-man switches that fired (each cancelling all of its user's open orders). */
  readonly deadManSwitches: number;
  /** Orders those switches cancelled. */
  readonly deadManOrders: number;
}

export interface CancelAllAfterResult {
  readonly kind: 'cancelAllAfterSet';
  /** The command's timestamp (Unix ms). */
  readonly currentTime: number;
  /** When the switch fires unless renewed (Unix ms); undefined when disarmed. */
  readonly triggerTime: number | undefined;
}

export interface OcoResult {
  readonly kind: 'placedOco';
  /** The limit order, after the trades it made on arrival. */
  readonly order: OrderView;
  /** The stop order: untriggered, or cancelled if the limit order traded on arrival. */
  readonly stopOrder: OrderView;
  readonly trades: readonly TradeView[];
}

export interface ConfigureResult {
  readonly kind: 'configured';
  /** The limits before the command. */
  readonly previous: EngineLimits;
  readonly limits: EngineLimits;
}

export type CommandValue =
  | PlaceResult
  | CancelResult
  | DepositResult
  | AmendResult
  | CancelAllResult
  | ExpireResult
  | CancelAllAfterResult
  | OcoResult
  | WithdrawResult
  | ConfigureResult;

/** A rejected command changes nothing and emits no events. */
export type CommandResult =
  | { readonly ok: true; readonly value: CommandValue; readonly events: readonly EngineEvent[] }
  | { readonly ok: false; readonly error: EngineError };

export interface DepthView {
  readonly market: string;
  readonly bids: readonly LevelView[];
  readonly asks: readonly LevelView[];
  readonly bookSeq: number;
}

export interface ListOrdersQuery {
  readonly market?: string;
  readonly openOnly: boolean;
  /** Only orders with an id below this one (pagination cursor); undefined for the first page. */
  readonly beforeOrderId?: number;
  readonly limit: number;
}

export interface ListFillsQuery {
  readonly market?: string;
  /** Only fills at or after this time (Unix milliseconds). */
  readonly from?: number;
  /** Only fills before this time (Unix milliseconds). */
  readonly to?: number;
  /** Only fills of trades with an id below this one (pagination cursor); undefined for the first page. */
  readonly beforeTradeId?: number;
  readonly limit: number;
}

export interface LedgerQuery {
  /** Only entries with a seq below this one (pagination cursor); undefined for the first page. */
  readonly beforeSeq?: number;
  readonly limit: number;
}

/** Read-only queries; they never change state. */
export interface EngineQueries {
  markets(): readonly MarketConfig[];
  getOrder(userId: string, orderId: number): OrderView | undefined;
  /** The user's orders, newest (highest id) first. */
  listOrders(userId: string, query: ListOrdersQuery): readonly OrderView[];
  depth(market: string, levels: number): DepthView | undefined;
  balances(userId: string): readonly BalanceView[];
  /** The user's retained fills, newest first. */
  listFills(userId: string, query: ListFillsQuery): readonly FillView[];
  /** The market's retained trades, newest first; undefined for an unknown market. */
  recentTrades(market: string, limit: number): readonly TradeView[] | undefined;
  /** The market's ticker at time `now` (Unix milliseconds); undefined for an unknown market. */
  ticker(market: string, now: number): TickerView | undefined;
  /**
   * Candles of `intervalMinutes` (a divisor of 1440) within the ticker window at `now`, newest
   * first, at most `limit`, only spans that had trades; undefined for an unknown market.
   */
  candles(market: string, intervalMinutes: number, now: number, limit: number): readonly CandleView[] | undefined;
  /** The user's funds ledger, newest first. */
  ledger(userId: string, query: LedgerQuery): readonly LedgerEntryView[];
  /** The seq of the last command applied (0 before any). */
  lastSeq(): number;
  /** The limits in force (EngineConfig's until a ConfigureCommand changes them). */
  limits(): EngineLimits;
  /**
   * The earliest dead-man deadline or GTD expiry (Unix ms), Infinity when there is none: when the
   * next ExpireCommand has something to do.
   */
  nextDeadline(): number;
  /** When the user's dead-man switch fires (Unix ms); undefined when it is not armed. */
  deadManDeadline(userId: string): number | undefined;
}
