/**
 * A deliberately naive exchange for differential testing: plain arrays scanned and sorted on every
 * step, bigint arithmetic throughout, and all-or-nothing orders decided by trying them on a deep
 * copy. It shares nothing with the engine but the API types and the written rules (api.ts, the
 * rounding rule of settlement.ts), so a disagreement points at a bug in one of them.
 *
 * It answers every command with a complete CommandResult — the order views, trades and events the
 * engine's contract promises — so that the differential test can compare every field. Level and
 * balance events are coalesced per command as the contract says (one per changed level or
 * balance, carrying its final value); their order among themselves is not part of the contract.
 *
 * Stop orders are orders flagged `waiting`, found by filtering and sorting every order on each
 * trade round; one-cancels-other partners are plain ids.
 */
import type {
  CancelReason,
  Command,
  CommandResult,
  EngineConfig,
  EngineLimits,
  EngineErrorCode,
  EngineEvent,
  CandleView,
  FillView,
  LedgerEntryView,
  MarketConfig,
  OrderView,
  TickerView,
  SelfTradePrevention,
  Side,
  TimeInForce,
  TradeView,
} from '../src/index';
import { FEE_ACCOUNT_ID } from '../src/index';

interface RefOrder {
  id: number;
  clientOrderId: string | undefined;
  userId: string;
  market: string;
  side: Side;
  type: 'limit' | 'market';
  price: bigint; // 0n for market orders
  quantity: bigint;
  remaining: bigint;
  locked: bigint;
  status: 'open' | 'partially_filled' | 'filled' | 'cancelled';
  cancelReason: CancelReason | undefined;
  timeInForce: TimeInForce;
  postOnly: boolean;
  selfTradePrevention: SelfTradePrevention;
  expireAt: number | undefined;
  createdAt: number;
  updatedAt: number;
  resting: boolean;
  arrival: number;
  /** What it traded when placed: the answer to a retry of its client order id. */
  placementTrades: TradeView[];
  /** Price and quantity as placed, which a retry must repeat (an amendment changes price and quantity). */
  placedPrice: bigint;
  placedQuantity: bigint;
  stopPrice: bigint | undefined;
  /** A stop waiting for its trigger (status 'open' here, 'untriggered' in its view). */
  waiting: boolean;
  /** Its one-cancels-other partner's id, while both are open. */
  oco: number | undefined;
  /** The limit order of a pair placed with a client order id: its stop order, and that order's last view once evicted. */
  pairStop?: { id: number; stopPrice: bigint; stopLimitPrice: bigint | undefined; evicted: OrderView | undefined };
  /** Sum of its fills' fees, in the asset it receives. */
  feesPaid: bigint;
}

interface RefState {
  orders: RefOrder[]; // every retained order
  closedQueue: Record<string, number[]>; // per user, ids in closing order
  depositRequests: Record<string, { requestId: string; asset: string; amount: bigint; reference: string | undefined }[]>; // per user, oldest first
  balances: Record<string, { available: bigint; locked: bigint }>; // `${user}\n${asset}`
  supply: Record<string, bigint>;
  bookSeq: Record<string, number>;
  nextTradeId: number;
  arrivals: number;
  /** Armed dead-man switches: deadline per user. */
  deadMan: Record<string, number>;
  /** Every trade ever, oldest first. */
  trades: TradeView[];
  /** Per user, every deposit and withdrawal, oldest first. */
  ledger: Record<string, LedgerEntryView[]>;
}

/** What one command did, gathered as it runs. */
interface Effects {
  readonly seq: number;
  readonly now: number;
  readonly events: EngineEvent[];
  readonly trades: TradeView[];
  /** `${market}\n${side}\n${price}` of every level touched. */
  readonly levels: Set<string>;
  /** `${user}\n${asset}` of every balance touched. */
  readonly balances: Set<string>;
}

const MAX_UNITS = 2n ** 64n - 1n;
const MAX_ORDER = 2n ** 53n - 1n;
const floorQuote = (price: bigint, quantity: bigint): bigint => (price * quantity) / 1_000_000n;
const ceilQuote = (price: bigint, quantity: bigint): bigint => (price * quantity + 999_999n) / 1_000_000n;
const SIDES: readonly unknown[] = ['buy', 'sell'];
const TIMES_IN_FORCE: readonly unknown[] = ['GTC', 'IOC', 'FOK', 'GTD'];
const MAX_GTD_MS = 90 * 86_400_000;
const MAX_DEAD_MAN_SECONDS = 86_400;
const isOpen = (o: RefOrder): boolean => o.status === 'open' || o.status === 'partially_filled';
const STPS: readonly unknown[] = ['cancel_resting', 'cancel_taker', 'cancel_both'];
/** The written rules of stops.ts. */
const STOP_TRIGGERS_PER_COMMAND = 64;
const stopMarketBuyLockPrice = (stop: bigint): bigint => stop + (stop + 9n) / 10n;

function fail(code: EngineErrorCode, field?: string): CommandResult {
  return { ok: false, error: field === undefined ? { code, message: '' } : { code, field, message: `${field}: ` } };
}

/** 1 to 64 characters, each printable ASCII (space to tilde). */
function validClientOrderId(id: string): boolean {
  if (id.length < 1 || id.length > 64) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 32 || c > 126) return false;
  }
  return true;
}

function aggregate(trades: TradeView[]): Omit<CandleView, 'start'> {
  const prices = trades.map((t) => t.price);
  return {
    open: prices[0]!, high: prices.reduce((a, b) => (b > a ? b : a)), low: prices.reduce((a, b) => (b < a ? b : a)), close: prices[prices.length - 1]!,
    volume: trades.reduce((n, t) => n + t.quantity, 0n), quoteVolume: trades.reduce((n, t) => n + t.quoteAmount, 0n), tradeCount: trades.length,
  };
}

const badUnits = (value: unknown, max: bigint): boolean => typeof value !== 'bigint' || value < 1n || value > max;
/** The fee rule, in bigint: ceil(received × bps / 10^4), for fees and rebates alike. */
const fee = (received: bigint, bps: number): bigint => {
  const product = received * BigInt(bps);
  return product >= 0n ? (product + 9_999n) / 10_000n : -(-product / 10_000n);
};

/** The first instrument rule an order breaks (field name), or undefined. `notional` undefined: not known yet. */
function brokenRule(m: MarketConfig, price: bigint | undefined, quantity: bigint, notional: bigint | undefined): string | undefined {
  if (price !== undefined && price % (m.tickSize ?? 1n) !== 0n) return 'price';
  if (quantity % (m.lotSize ?? 1n) !== 0n || quantity < (m.minQuantity ?? 1n)) return 'quantity';
  if (notional !== undefined && notional < (m.minNotional ?? 0n)) return 'quantity';
  return undefined;
}
/** `field` when `price` is off the market's tick, else undefined. */
const offTick = (m: MarketConfig, price: bigint, field: string): string | undefined => (price % (m.tickSize ?? 1n) !== 0n ? field : undefined);

export class ReferenceExchange {
  private s: RefState = { orders: [], closedQueue: {}, depositRequests: {}, balances: {}, supply: {}, bookSeq: {}, nextTradeId: 1, arrivals: 0, trades: [], ledger: {}, deadMan: {} };
  private lastSeq = 0;

  constructor(private config: EngineConfig) {}

  private marketOf(symbol: string) {
    return this.config.markets.find((m) => m.symbol === symbol);
  }

  private assets(): string[] {
    return [...new Set(this.config.markets.flatMap((m) => [m.base, m.quote]))];
  }

  private bal(s: RefState, fx: Effects, userId: string, asset: string) {
    fx.balances.add(`${userId}\n${asset}`);
    return (s.balances[`${userId}\n${asset}`] ??= { available: 0n, locked: 0n });
  }

  balance(userId: string, asset: string): { available: bigint; locked: bigint } {
    return { ...(this.s.balances[`${userId}\n${asset}`] ?? { available: 0n, locked: 0n }) };
  }

  /** Resting orders of one side, best first, then by arrival. */
  book(symbol: string, side: Side, s: RefState = this.s): RefOrder[] {
    return s.orders
      .filter((o) => o.resting && o.market === symbol && o.side === side)
      .sort((a, b) => (a.price === b.price ? a.arrival - b.arrival : (side === 'buy' ? a.price < b.price : a.price > b.price) ? 1 : -1));
  }

  /** Every open order: id and owner (for cancels of live orders), oldest first. */
  openOrders(): { orderId: number; userId: string }[] {
    return this.s.orders.filter((o) => o.status === 'open' || o.status === 'partially_filled').map((o) => ({ orderId: o.id, userId: o.userId }));
  }

  /** Every retained order of `userId`, newest first, as ListOrders shows them. */
  listOrders(userId: string): OrderView[] {
    return this.s.orders.filter((o) => o.userId === userId).sort((a, b) => b.id - a.id).map((o) => this.view(o));
  }

  /** The user's ledger, newest first. */
  ledger(userId: string): LedgerEntryView[] {
    return [...(this.s.ledger[userId] ?? [])].reverse();
  }

  /** The user's newest fills (as many as retained), newest first. */
  fills(userId: string): FillView[] {
    const mine = this.s.trades.filter((t) => t.makerUserId === userId || t.takerUserId === userId);
    return mine.slice(Math.max(0, mine.length - (this.config.fillsRetainedPerUser ?? 100))).reverse().map((t): FillView => {
      const taker = t.takerUserId === userId;
      const side: Side = taker ? t.takerSide : t.takerSide === 'buy' ? 'sell' : 'buy';
      const market = this.marketOf(t.market)!;
      return {
        tradeId: t.tradeId, market: t.market, orderId: taker ? t.takerOrderId : t.makerOrderId, side, liquidity: taker ? 'taker' : 'maker',
        price: t.price, quantity: t.quantity, quoteAmount: t.quoteAmount, fee: taker ? t.takerFee : t.makerFee,
        feeAsset: side === 'buy' ? market.base : market.quote, timestamp: t.timestamp, seq: t.seq,
      };
    });
  }

  /** The market's newest trades (as many as retained), newest first. */
  recentTrades(symbol: string): TradeView[] {
    const all = this.s.trades.filter((t) => t.market === symbol);
    return all.slice(Math.max(0, all.length - (this.config.tradesRetainedPerMarket ?? 1000))).reverse();
  }

  /** Candles of `interval` minutes over the 1440 minutes ending with now's, newest first, from every trade. */
  candles(symbol: string, interval: number, now: number): CandleView[] {
    const last = Math.floor(now / 60_000);
    const inWindow = this.s.trades.filter((t) => t.market === symbol && Math.floor(t.timestamp / 60_000) > last - 1440 && Math.floor(t.timestamp / 60_000) <= last);
    const spans = new Map<number, TradeView[]>();
    for (const t of inWindow) {
      const span = Math.floor(Math.floor(t.timestamp / 60_000) / interval) * interval;
      spans.set(span, [...(spans.get(span) ?? []), t]);
    }
    return [...spans].sort(([a], [b]) => b - a).map(([span, trades]) => ({ start: span * 60_000, ...aggregate(trades) }));
  }

  ticker(symbol: string, now: number): TickerView {
    const last = Math.floor(now / 60_000);
    const all = this.s.trades.filter((t) => t.market === symbol);
    const lastTrade = all[all.length - 1];
    const inWindow = all.filter((t) => Math.floor(t.timestamp / 60_000) > last - 1440 && Math.floor(t.timestamp / 60_000) <= last);
    const bid = this.levels(symbol, 'buy')[0];
    const ask = this.levels(symbol, 'sell')[0];
    return {
      market: symbol,
      ...(lastTrade === undefined ? {} : { lastPrice: lastTrade.price, lastTradeAt: lastTrade.timestamp }),
      ...(bid === undefined ? {} : { bestBid: bid[0] }),
      ...(ask === undefined ? {} : { bestAsk: ask[0] }),
      windowStart: (last - 1439) * 60_000,
      windowEnd: (last + 1) * 60_000,
      ...(inWindow.length === 0 ? {} : { window: aggregate(inWindow) }),
    };
  }

  bookSeq(symbol: string): number {
    return this.s.bookSeq[symbol] ?? 0;
  }

  apply(cmd: Command): CommandResult {
    if (cmd.seq !== this.lastSeq + 1) throw new Error(`reference: seq ${cmd.seq} out of order`);
    this.lastSeq = cmd.seq;
    // Rejections are decided on a copy, which is dropped: a rejected command changes nothing.
    const s = structuredClone(this.s);
    const fx: Effects = { seq: cmd.seq, now: cmd.timestamp, events: [], trades: [], levels: new Set(), balances: new Set() };
    const result = this.run(s, fx, cmd);
    if (!result.ok) return result;
    this.s = s;
    return { ...result, events: [...fx.events, ...this.levelEvents(s, fx), ...this.balanceEvents(s, fx)] };
  }

  private run(s: RefState, fx: Effects, cmd: Command): CommandResult {
    switch (cmd.kind) {
      case 'deposit': {
        if (typeof cmd.userId !== 'string' || cmd.userId === '') return fail('INVALID_ARGUMENT', 'user_id');
        if (!this.assets().includes(cmd.asset)) return fail('INVALID_ARGUMENT', 'asset');
        if (badUnits(cmd.amount, MAX_UNITS)) return fail('INVALID_ARGUMENT', 'amount');
        const requestId = cmd.requestId === '' ? undefined : cmd.requestId;
        if (requestId !== undefined && !validClientOrderId(requestId)) return fail('INVALID_ARGUMENT', 'request_id');
        if (cmd.adminId !== undefined && (typeof cmd.adminId !== 'string' || cmd.adminId === '')) return fail('INVALID_ARGUMENT', 'admin_id');
        if (cmd.reference !== undefined && !/^[\x20-\x7e]{1,128}$/.test(cmd.reference)) return fail('INVALID_ARGUMENT', 'reference');
        const requests = (s.depositRequests[cmd.userId] ??= []);
        const earlier = requests.find((r) => r.requestId === requestId);
        if (earlier !== undefined) {
          if (earlier.asset !== cmd.asset || earlier.amount !== cmd.amount || earlier.reference !== cmd.reference) return fail('ALREADY_EXISTS', 'request_id');
          const balance = { asset: cmd.asset, ...this.balance(cmd.userId, cmd.asset) };
          return { ok: true, value: { kind: 'deposited', userId: cmd.userId, balance }, events: [] };
        }
        if ((s.supply[cmd.asset] ?? 0n) + cmd.amount > MAX_UNITS) return fail('INVALID_ARGUMENT', 'amount');
        s.supply[cmd.asset] = (s.supply[cmd.asset] ?? 0n) + cmd.amount;
        const b = this.bal(s, fx, cmd.userId, cmd.asset);
        b.available += cmd.amount;
        if (requestId !== undefined) {
          requests.push({ requestId, asset: cmd.asset, amount: cmd.amount, reference: cmd.reference });
          if (requests.length > this.config.closedOrdersRetainedPerUser) requests.shift();
        }
        (s.ledger[cmd.userId] ??= []).push({
          seq: cmd.seq, timestamp: cmd.timestamp, kind: 'deposit', asset: cmd.asset, amount: cmd.amount,
          ...(requestId === undefined ? {} : { requestId }), ...(cmd.adminId === undefined ? {} : { adminId: cmd.adminId }),
          ...(cmd.reference === undefined ? {} : { reference: cmd.reference }), balanceAfter: b.available,
        });
        const balance = { asset: cmd.asset, available: b.available, locked: b.locked };
        return { ok: true, value: { kind: 'deposited', userId: cmd.userId, balance }, events: [] };
      }
      case 'withdraw': {
        if (typeof cmd.userId !== 'string' || cmd.userId === '') return fail('INVALID_ARGUMENT', 'user_id');
        if (!this.assets().includes(cmd.asset)) return fail('INVALID_ARGUMENT', 'asset');
        if (badUnits(cmd.amount, MAX_UNITS)) return fail('INVALID_ARGUMENT', 'amount');
        const requestId = cmd.requestId === '' ? undefined : cmd.requestId;
        if (requestId !== undefined && !validClientOrderId(requestId)) return fail('INVALID_ARGUMENT', 'request_id');
        if (!/^[\x20-\x7e]{1,128}$/.test(cmd.reference)) return fail('INVALID_ARGUMENT', 'reference');
        if (typeof cmd.adminId !== 'string' || cmd.adminId === '') return fail('INVALID_ARGUMENT', 'admin_id');
        // The request ids of the user's last retained withdrawals that had one.
        const keyed = (s.ledger[cmd.userId] ?? []).filter((e) => e.kind === 'withdrawal' && e.requestId !== undefined);
        const retain = this.config.closedOrdersRetainedPerUser;
        const earlier = retain === 0 ? undefined : keyed.slice(-retain).find((e) => e.requestId === requestId);
        const current = () => ({ asset: cmd.asset, ...this.balance(cmd.userId, cmd.asset) });
        if (earlier !== undefined) {
          if (earlier.asset !== cmd.asset || earlier.amount !== cmd.amount || earlier.reference !== cmd.reference) return fail('ALREADY_EXISTS', 'request_id');
          return { ok: true, value: { kind: 'withdrawn', userId: cmd.userId, balance: current(), entry: earlier }, events: [] };
        }
        if (this.balance(cmd.userId, cmd.asset).available < cmd.amount) return fail('FAILED_PRECONDITION', 'amount');
        const b = this.bal(s, fx, cmd.userId, cmd.asset);
        b.available -= cmd.amount;
        s.supply[cmd.asset] = (s.supply[cmd.asset] ?? 0n) - cmd.amount;
        const entry: LedgerEntryView = {
          seq: cmd.seq, timestamp: cmd.timestamp, kind: 'withdrawal', asset: cmd.asset, amount: cmd.amount,
          ...(requestId === undefined ? {} : { requestId }), adminId: cmd.adminId, reference: cmd.reference, balanceAfter: b.available,
        };
        (s.ledger[cmd.userId] ??= []).push(entry);
        const balance = { asset: cmd.asset, available: b.available, locked: b.locked };
        return { ok: true, value: { kind: 'withdrawn', userId: cmd.userId, balance, entry }, events: [] };
      }
      case 'cancel': {
        const byClientOrderId = cmd.clientOrderId !== undefined;
        const field = byClientOrderId ? 'client_order_id' : 'order_id';
        if (byClientOrderId && !validClientOrderId(cmd.clientOrderId!)) return fail('INVALID_ARGUMENT', field);
        const order = s.orders.find((o) => (byClientOrderId ? o.clientOrderId === cmd.clientOrderId : o.id === cmd.orderId) && o.userId === cmd.userId);
        if (order === undefined) return fail('NOT_FOUND', field);
        if (order.status === 'filled') return fail('FAILED_PRECONDITION', field);
        if (order.status === 'cancelled') {
          return { ok: true, value: { kind: 'cancelled', order: this.view(order), releasedAsset: this.lockAsset(order), releasedAmount: 0n }, events: [] };
        }
        const released = order.locked;
        const view = this.cancelReported(s, fx, order, 'user');
        const releasedAsset = this.lockAsset(order);
        return { ok: true, value: { kind: 'cancelled', order: view, releasedAsset, releasedAmount: released }, events: [] };
      }
      case 'placeLimit':
      case 'placeMarket':
        return this.place(s, fx, cmd);
      case 'amend':
        return this.amend(s, fx, cmd);
      case 'placeOco':
        return this.placeOco(s, fx, cmd);
      case 'cancelAll': {
        if (cmd.market !== undefined && this.marketOf(cmd.market) === undefined) return fail('INVALID_ARGUMENT', 'market');
        if (cmd.side !== undefined && !SIDES.includes(cmd.side)) return fail('INVALID_ARGUMENT', 'side');
        const chosen = s.orders
          .filter((o) => o.userId === cmd.userId && (o.status === 'open' || o.status === 'partially_filled'))
          .filter((o) => (cmd.market === undefined || o.market === cmd.market) && (cmd.side === undefined || o.side === cmd.side));
        return { ok: true, value: this.cancelEach(s, fx, chosen, 'user'), events: [] };
      }
      case 'cancelSession': {
        if (typeof cmd.userId !== 'string' || cmd.userId === '') return fail('INVALID_ARGUMENT', 'user_id');
        if (!cmd.orderIds.every((id) => Number.isSafeInteger(id) && id > 0)) return fail('INVALID_ARGUMENT', 'order_ids');
        const chosen = s.orders.filter((o) => o.userId === cmd.userId && isOpen(o) && cmd.orderIds.includes(o.id));
        return { ok: true, value: this.cancelEach(s, fx, chosen, 'disconnect'), events: [] };
      }
      case 'cancelAllAfter': {
        if (typeof cmd.userId !== 'string' || cmd.userId === '') return fail('INVALID_ARGUMENT', 'user_id');
        const t = cmd.timeoutSeconds;
        if (!Number.isSafeInteger(t) || t < 0 || t > MAX_DEAD_MAN_SECONDS) return fail('INVALID_ARGUMENT', 'timeout_seconds');
        const triggerTime = t === 0 ? undefined : fx.now + t * 1000;
        if (triggerTime === undefined) delete s.deadMan[cmd.userId];
        else s.deadMan[cmd.userId] = triggerTime;
        return { ok: true, value: { kind: 'cancelAllAfterSet', currentTime: fx.now, triggerTime }, events: [] };
      }
      case 'expire':
        return { ok: true, value: this.expire(s, fx), events: [] };
      case 'configure':
        return this.configure(s, cmd.limits);
    }
  }

  /**
   * New limits: a lower retention forgets each user's oldest closed orders and deposit request ids
   * beyond it. (Withdrawal request ids, fills and trades are read back from whole lists here, so a
   * retention lowered and raised again is modelled only for closed orders and deposits.)
   */
  private configure(s: RefState, limits: EngineLimits): CommandResult {
    const previous: EngineLimits = {
      closedOrdersRetainedPerUser: this.config.closedOrdersRetainedPerUser,
      fillsRetainedPerUser: this.config.fillsRetainedPerUser ?? 100,
      tradesRetainedPerMarket: this.config.tradesRetainedPerMarket ?? 1000,
      maxStopsPerUserMarket: this.config.maxStopsPerUserMarket ?? 1000,
      maxOpenOrdersPerUserMarket: this.config.maxOpenOrdersPerUserMarket ?? 10_000,
    };
    const wrong = (Object.keys(previous) as (keyof EngineLimits)[]).find((name) => !Number.isSafeInteger(limits[name]) || limits[name] < 0);
    if (wrong !== undefined) return fail('INVALID_ARGUMENT', wrong);
    this.config = { ...this.config, ...limits };
    for (const queue of Object.values(s.closedQueue)) {
      while (queue.length > limits.closedOrdersRetainedPerUser) this.evict(s, queue.shift()!);
    }
    for (const requests of Object.values(s.depositRequests)) requests.splice(0, Math.max(0, requests.length - limits.closedOrdersRetainedPerUser));
    return { ok: true, value: { kind: 'configured', previous, limits: { ...limits } }, events: [] };
  }

  /** Every timer due now, earliest first; at one instant switches (by user) before expiries (by order id). */
  private expire(s: RefState, fx: Effects) {
    type Due = { at: number; kind: 0 | 1; userId: string; orderId: number };
    const due: Due[] = [
      ...Object.entries(s.deadMan).filter(([, at]) => at <= fx.now).map(([userId, at]): Due => ({ at, kind: 0, userId, orderId: 0 })),
      ...s.orders.filter((o) => isOpen(o) && o.expireAt !== undefined && o.expireAt <= fx.now).map((o): Due => ({ at: o.expireAt!, kind: 1, userId: '', orderId: o.id })),
    ].sort((a, b) => a.at - b.at || a.kind - b.kind || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0) || a.orderId - b.orderId);
    let expiredOrders = 0;
    let deadManSwitches = 0;
    let deadManOrders = 0;
    for (const d of due) {
      if (d.kind === 0) {
        delete s.deadMan[d.userId];
        deadManSwitches++;
        deadManOrders += this.cancelEach(s, fx, s.orders.filter((o) => o.userId === d.userId && isOpen(o)), 'dead_man').count;
      } else {
        const order = s.orders.find((o) => o.id === d.orderId);
        if (order === undefined || !isOpen(order)) continue;
        this.cancelOrder(s, fx, order, 'expired');
        fx.events.push({ type: 'orderUpdated', order: this.view(order), trade: undefined });
        expiredOrders++;
      }
    }
    return { kind: 'expired' as const, expiredOrders, deadManSwitches, deadManOrders };
  }

  /** Cancels open orders, oldest (lowest id) first, and sums what they release per asset. */
  private cancelEach(s: RefState, fx: Effects, orders: RefOrder[], reason: CancelReason) {
    const released: Record<string, bigint> = {};
    const sorted = [...orders].sort((a, b) => a.id - b.id);
    // Both orders of a pair chosen: each is cancelled for `reason`, not the second as the first's partner.
    const ids = new Set(sorted.map((o) => o.id));
    for (const order of sorted) if (order.oco !== undefined && ids.has(order.oco)) this.unpair(s, order);
    for (const order of sorted) {
      const asset = this.lockAsset(order);
      released[asset] = (released[asset] ?? 0n) + order.locked;
      this.cancelReported(s, fx, order, reason);
    }
    const amounts = Object.keys(released).sort().map((asset) => ({ asset, amount: released[asset]! }));
    return { kind: 'cancelledAll' as const, count: orders.length, released: amounts };
  }

  /** When the next timer is due: the earliest armed switch or open GTD order's expiry. */
  nextDeadline(): number {
    const times = [...Object.values(this.s.deadMan), ...this.s.orders.filter((o) => isOpen(o) && o.expireAt !== undefined).map((o) => o.expireAt!)];
    return Math.min(Infinity, ...times);
  }

  deadManDeadline(userId: string): number | undefined {
    return this.s.deadMan[userId];
  }

  private amend(s: RefState, fx: Effects, cmd: Extract<Command, { kind: 'amend' }>): CommandResult {
    if (cmd.price === undefined && cmd.quantity === undefined) return fail('INVALID_ARGUMENT', 'quantity');
    if (cmd.price !== undefined && badUnits(cmd.price, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'price');
    if (cmd.quantity !== undefined && badUnits(cmd.quantity, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'quantity');
    const byClientOrderId = cmd.clientOrderId !== undefined;
    const field = byClientOrderId ? 'client_order_id' : 'order_id';
    if (byClientOrderId && !validClientOrderId(cmd.clientOrderId!)) return fail('INVALID_ARGUMENT', field);
    const order = s.orders.find((o) => (byClientOrderId ? o.clientOrderId === cmd.clientOrderId : o.id === cmd.orderId) && o.userId === cmd.userId);
    if (order === undefined) return fail('NOT_FOUND', field);
    if (order.status === 'filled' || order.status === 'cancelled') return fail('FAILED_PRECONDITION', field);
    if (order.waiting) return fail('FAILED_PRECONDITION', 'stop_price');
    if (order.oco !== undefined) return fail('FAILED_PRECONDITION', 'oco_order_id');
    const price = cmd.price ?? order.price;
    const quantity = cmd.quantity ?? order.quantity;
    const filled = order.quantity - order.remaining;
    if (quantity <= filled) return fail('FAILED_PRECONDITION', 'quantity');
    if (ceilQuote(price, quantity) > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
    const rule = brokenRule(this.marketOf(order.market)!, price, quantity, floorQuote(price, quantity));
    if (rule !== undefined) return fail('INVALID_ARGUMENT', rule);
    const keepsPlace = price === order.price && quantity <= order.quantity;
    const best = this.book(order.market, order.side === 'buy' ? 'sell' : 'buy', s)[0];
    const crosses = best !== undefined && (order.side === 'buy' ? best.price <= price : best.price >= price);
    if (price !== order.price && order.postOnly && crosses) return fail('FAILED_PRECONDITION', 'post_only');
    const remaining = quantity - filled;
    const lock = order.side === 'buy' ? ceilQuote(price, remaining) : remaining;
    const more = lock - order.locked;
    const available = s.balances[`${order.userId}\n${this.lockAsset(order)}`]?.available ?? 0n;
    if (more > available) return fail('FAILED_PRECONDITION');

    if (more !== 0n) {
      const b = this.bal(s, fx, order.userId, this.lockAsset(order));
      b.available -= more;
      b.locked += more;
    }
    order.locked = lock;
    this.touchLevel(fx, order);
    order.price = price;
    order.quantity = quantity;
    order.remaining = remaining;
    order.updatedAt = fx.now;
    if (keepsPlace) {
      const view = this.view(order);
      fx.events.push({ type: 'orderUpdated', order: view, trade: undefined });
      return { ok: true, value: { kind: 'amended', order: view, trades: [] }, events: [] };
    }
    // Back of its new level, behind everything resting: it lost its time priority.
    order.resting = false;
    order.arrival = ++s.arrivals;
    fx.events.push({ type: 'orderUpdated', order: this.view(order), trade: undefined });
    const trades = [...this.matchTaker(s, fx, order).trades];
    const value = { kind: 'amended' as const, order: this.view(order), trades };
    this.cascade(s, fx, order.market, 0);
    return { ok: true, value, events: [] };
  }

  /** The fields every placement has: market, user, side, quantity, self-trade prevention. */
  private placementError(cmd: Extract<Command, { kind: 'placeLimit' | 'placeMarket' | 'placeOco' }>): CommandResult | undefined {
    if (this.marketOf(cmd.market) === undefined) return fail('INVALID_ARGUMENT', 'market');
    if (typeof cmd.userId !== 'string' || cmd.userId === '' || cmd.userId === FEE_ACCOUNT_ID) return fail('INVALID_ARGUMENT', 'user_id');
    if (!SIDES.includes(cmd.side)) return fail('INVALID_ARGUMENT', 'side');
    if (badUnits(cmd.quantity, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'quantity');
    if (!STPS.includes(cmd.selfTradePrevention)) return fail('INVALID_ARGUMENT', 'self_trade_prevention');
    return undefined;
  }

  private place(s: RefState, fx: Effects, cmd: Extract<Command, { kind: 'placeLimit' | 'placeMarket' }>): CommandResult {
    const invalid = this.placementError(cmd);
    if (invalid !== undefined) return invalid;
    const market = this.marketOf(cmd.market)!;
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    if (clientOrderId !== undefined && !validClientOrderId(clientOrderId)) return fail('INVALID_ARGUMENT', 'client_order_id');
    const isLimit = cmd.kind === 'placeLimit';
    const earlier = clientOrderId === undefined ? undefined : s.orders.find((o) => o.userId === cmd.userId && o.clientOrderId === clientOrderId);
    if (earlier !== undefined) {
      const same =
        earlier.pairStop === undefined &&
        earlier.market === cmd.market && earlier.side === cmd.side && earlier.placedQuantity === cmd.quantity &&
        earlier.selfTradePrevention === cmd.selfTradePrevention && earlier.type === (isLimit ? 'limit' : 'market') && earlier.stopPrice === cmd.stopPrice &&
        (!isLimit ||
          (earlier.placedPrice === cmd.price && earlier.timeInForce === cmd.timeInForce && earlier.postOnly === cmd.postOnly && earlier.expireAt === cmd.expireAt));
      if (!same) return fail('ALREADY_EXISTS', 'client_order_id');
      return { ok: true, value: { kind: 'placed', order: this.view(earlier), trades: earlier.placementTrades }, events: [] };
    }
    const order: RefOrder = {
      id: cmd.orderId, clientOrderId, userId: cmd.userId, market: cmd.market, side: cmd.side, type: isLimit ? 'limit' : 'market',
      price: isLimit ? cmd.price : 0n, quantity: cmd.quantity, remaining: cmd.quantity, locked: 0n, status: 'open', cancelReason: undefined,
      timeInForce: isLimit ? cmd.timeInForce : 'FOK', postOnly: isLimit ? cmd.postOnly : false, selfTradePrevention: cmd.selfTradePrevention,
      expireAt: isLimit ? cmd.expireAt : undefined, createdAt: fx.now, updatedAt: fx.now, resting: false, arrival: 0, placementTrades: [], placedPrice: isLimit ? cmd.price : 0n, placedQuantity: cmd.quantity,
      stopPrice: cmd.stopPrice, waiting: cmd.stopPrice !== undefined, oco: undefined, feesPaid: 0n,
    };
    const available = s.balances[`${cmd.userId}\n${this.lockAsset(order)}`]?.available ?? 0n;
    if (isLimit) {
      if (badUnits(cmd.price, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'price');
      if (!TIMES_IN_FORCE.includes(cmd.timeInForce)) return fail('INVALID_ARGUMENT', 'time_in_force');
      if (typeof cmd.postOnly !== 'boolean') return fail('INVALID_ARGUMENT', 'post_only');
      if (cmd.postOnly && cmd.timeInForce !== 'GTC' && cmd.timeInForce !== 'GTD') return fail('INVALID_ARGUMENT', 'post_only');
      if (cmd.timeInForce === 'GTD' || cmd.expireAt !== undefined) {
        const e = cmd.expireAt;
        if (cmd.timeInForce !== 'GTD' || e === undefined || !Number.isSafeInteger(e) || e <= fx.now || e - fx.now > MAX_GTD_MS) {
          return fail('INVALID_ARGUMENT', 'expire_at_unix_ms');
        }
      }
      if (cmd.stopPrice !== undefined) {
        if (badUnits(cmd.stopPrice, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'stop_price');
        if (cmd.timeInForce !== 'GTC' && cmd.timeInForce !== 'IOC') return fail('INVALID_ARGUMENT', 'time_in_force');
        if (cmd.postOnly) return fail('INVALID_ARGUMENT', 'post_only');
      }
      if (ceilQuote(cmd.price, cmd.quantity) > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
      const rule =
        brokenRule(market, cmd.price, cmd.quantity, undefined) ??
        (cmd.stopPrice === undefined ? undefined : offTick(market, cmd.stopPrice, 'stop_price')) ??
        brokenRule(market, undefined, cmd.quantity, floorQuote(cmd.price, cmd.quantity));
      if (rule !== undefined) return fail('INVALID_ARGUMENT', rule);
      order.locked = cmd.side === 'buy' ? ceilQuote(cmd.price, cmd.quantity) : cmd.quantity;
      if (available < order.locked) return fail('FAILED_PRECONDITION');
      if (cmd.stopPrice !== undefined) return this.tooManyStops(s, cmd.userId, cmd.market) ?? this.placeWaiting(s, fx, order);
      if (cmd.timeInForce === 'GTC' || cmd.timeInForce === 'GTD') {
        const tooMany = this.tooManyResting(s, cmd.userId, cmd.market);
        if (tooMany !== undefined) return tooMany;
      }
      const best = this.book(cmd.market, cmd.side === 'buy' ? 'sell' : 'buy', s)[0];
      if (cmd.postOnly && best !== undefined && (cmd.side === 'buy' ? best.price <= cmd.price : best.price >= cmd.price)) {
        return fail('FAILED_PRECONDITION', 'post_only');
      }
      if (order.timeInForce === 'FOK') {
        const copy = structuredClone(order);
        this.match(structuredClone(s), this.scratch(fx), copy);
        if (copy.remaining > 0n) return fail('FAILED_PRECONDITION', 'time_in_force');
      }
    } else if (cmd.stopPrice !== undefined) {
      const rule = brokenRule(market, undefined, cmd.quantity, undefined);
      if (rule !== undefined) return fail('INVALID_ARGUMENT', rule);
      if (badUnits(cmd.stopPrice, MAX_ORDER) || offTick(market, cmd.stopPrice, 'stop_price')) return fail('INVALID_ARGUMENT', 'stop_price');
      const value = ceilQuote(stopMarketBuyLockPrice(cmd.stopPrice), cmd.quantity);
      if (stopMarketBuyLockPrice(cmd.stopPrice) > MAX_ORDER || value > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
      if (brokenRule(market, undefined, cmd.quantity, floorQuote(cmd.stopPrice, cmd.quantity)) !== undefined) return fail('INVALID_ARGUMENT', 'quantity');
      order.locked = cmd.side === 'buy' ? value : cmd.quantity;
      if (available < order.locked) return fail('FAILED_PRECONDITION');
      return this.tooManyStops(s, cmd.userId, cmd.market) ?? this.placeWaiting(s, fx, order);
    } else {
      const rule = brokenRule(market, undefined, cmd.quantity, undefined);
      if (rule !== undefined) return fail('INVALID_ARGUMENT', rule);
      // Try it on a copy, with funds to spare, to learn whether it fills and what it costs.
      const trial = structuredClone(s);
      const copy = structuredClone(order);
      copy.locked = cmd.side === 'buy' ? MAX_UNITS * MAX_UNITS : cmd.quantity;
      this.bal(trial, this.scratch(fx), cmd.userId, this.lockAsset(order)).available += copy.locked;
      const { trades, stopped } = this.match(trial, this.scratch(fx), copy);
      if (stopped) return fail('FAILED_PRECONDITION', 'self_trade_prevention');
      if (copy.remaining > 0n) return fail('FAILED_PRECONDITION', 'quantity');
      const notional = trades.reduce((a, t) => a + t.quoteAmount, 0n);
      const cost = cmd.side === 'buy' ? notional : cmd.quantity;
      if (cost > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
      if (brokenRule(market, undefined, cmd.quantity, notional) !== undefined) return fail('INVALID_ARGUMENT', 'quantity');
      if (available < cost) return fail('FAILED_PRECONDITION');
      order.locked = cost;
    }
    const trades = [...this.match(s, fx, order).trades];
    order.placementTrades = trades;
    const value = { kind: 'placed' as const, order: this.view(order), trades };
    this.cascade(s, fx, order.market, 0);
    return { ok: true, value, events: [] };
  }

  /** A user may have maxStopsPerUserMarket (default 1000) stops waiting in a market, no more. */
  private tooManyStops(s: RefState, userId: string, market: string): CommandResult | undefined {
    const waiting = s.orders.filter((o) => o.waiting && o.userId === userId && o.market === market).length;
    return waiting < (this.config.maxStopsPerUserMarket ?? 1000) ? undefined : fail('FAILED_PRECONDITION', 'stop_price');
  }

  /** A user may have maxOpenOrdersPerUserMarket (default 10,000) orders resting in a market; an order that may rest is refused past it. */
  private tooManyResting(s: RefState, userId: string, market: string): CommandResult | undefined {
    const resting = s.orders.filter((o) => o.resting && o.userId === userId && o.market === market).length;
    return resting < (this.config.maxOpenOrdersPerUserMarket ?? 10_000) ? undefined : fail('FAILED_PRECONDITION', 'market');
  }

  /** A stop order whose lock is known: it waits, off the book. */
  private placeWaiting(s: RefState, fx: Effects, order: RefOrder): CommandResult {
    this.enter(s, fx, order);
    return { ok: true, value: { kind: 'placed', order: this.view(order), trades: [] }, events: [] };
  }

  /** Locks an order's funds, gives it its arrival and reports it. */
  private enter(s: RefState, fx: Effects, order: RefOrder): void {
    const lockBalance = this.bal(s, fx, order.userId, this.lockAsset(order));
    lockBalance.available -= order.locked;
    lockBalance.locked += order.locked;
    order.arrival = ++s.arrivals;
    s.orders.push(order);
    fx.events.push({ type: 'orderAccepted', order: this.view(order) });
  }

  private placeOco(s: RefState, fx: Effects, cmd: Extract<Command, { kind: 'placeOco' }>): CommandResult {
    const invalid = this.placementError(cmd);
    if (invalid !== undefined) return invalid;
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    if (clientOrderId !== undefined && !validClientOrderId(clientOrderId)) return fail('INVALID_ARGUMENT', 'client_order_id');
    if (badUnits(cmd.price, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'price');
    if (badUnits(cmd.stopPrice, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'stop_price');
    if (cmd.stopLimitPrice !== undefined && badUnits(cmd.stopLimitPrice, MAX_ORDER)) return fail('INVALID_ARGUMENT', 'stop_limit_price');
    if (cmd.side === 'sell' ? cmd.stopPrice >= cmd.price : cmd.stopPrice <= cmd.price) return fail('INVALID_ARGUMENT', 'stop_price');
    const earlier = clientOrderId === undefined ? undefined : s.orders.find((o) => o.userId === cmd.userId && o.clientOrderId === clientOrderId);
    if (earlier !== undefined) {
      const pair = earlier.pairStop;
      const same =
        pair !== undefined && earlier.market === cmd.market && earlier.side === cmd.side && earlier.placedQuantity === cmd.quantity &&
        earlier.placedPrice === cmd.price && earlier.selfTradePrevention === cmd.selfTradePrevention &&
        pair.stopPrice === cmd.stopPrice && pair.stopLimitPrice === cmd.stopLimitPrice;
      if (!same) return fail('ALREADY_EXISTS', 'client_order_id');
      const stopOrder = pair.evicted ?? this.view(s.orders.find((o) => o.id === pair.id)!);
      return { ok: true, value: { kind: 'placedOco', order: this.view(earlier), stopOrder, trades: earlier.placementTrades }, events: [] };
    }
    const limitValue = ceilQuote(cmd.price, cmd.quantity);
    const stopLockPrice = cmd.stopLimitPrice ?? stopMarketBuyLockPrice(cmd.stopPrice);
    const stopValue = ceilQuote(stopLockPrice, cmd.quantity);
    if (limitValue > MAX_ORDER || stopLockPrice > MAX_ORDER || stopValue > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
    const market = this.marketOf(cmd.market)!;
    const rule =
      brokenRule(market, cmd.price, cmd.quantity, undefined) ??
      offTick(market, cmd.stopPrice, 'stop_price') ??
      (cmd.stopLimitPrice === undefined ? undefined : offTick(market, cmd.stopLimitPrice, 'stop_limit_price')) ??
      brokenRule(market, undefined, cmd.quantity, floorQuote(cmd.price, cmd.quantity)) ??
      (floorQuote(cmd.stopLimitPrice ?? cmd.stopPrice, cmd.quantity) < (market.minNotional ?? 0n) ? (cmd.stopLimitPrice === undefined ? 'stop_price' : 'stop_limit_price') : undefined);
    if (rule !== undefined) return fail('INVALID_ARGUMENT', rule);
    const buy = cmd.side === 'buy';
    const base = {
      clientOrderId: undefined, userId: cmd.userId, market: cmd.market, side: cmd.side, quantity: cmd.quantity, remaining: cmd.quantity,
      status: 'open' as const, cancelReason: undefined, postOnly: false, selfTradePrevention: cmd.selfTradePrevention, createdAt: fx.now,
      updatedAt: fx.now, resting: false, arrival: 0, placementTrades: [], placedQuantity: cmd.quantity, feesPaid: 0n, expireAt: undefined,
    };
    const stop: RefOrder = {
      ...base, id: cmd.stopOrderId, type: cmd.stopLimitPrice === undefined ? 'market' : 'limit', price: cmd.stopLimitPrice ?? 0n,
      placedPrice: cmd.stopLimitPrice ?? 0n, locked: buy ? stopValue : cmd.quantity, timeInForce: cmd.stopLimitPrice === undefined ? 'FOK' : 'GTC',
      stopPrice: cmd.stopPrice, waiting: true, oco: cmd.orderId,
    };
    const limit: RefOrder = {
      ...base, id: cmd.orderId, type: 'limit', price: cmd.price, placedPrice: cmd.price, locked: buy ? limitValue : cmd.quantity, timeInForce: 'GTC',
      stopPrice: undefined, waiting: false, oco: cmd.stopOrderId, placementTrades: [], clientOrderId,
      pairStop: clientOrderId === undefined ? undefined : { id: cmd.stopOrderId, stopPrice: cmd.stopPrice, stopLimitPrice: cmd.stopLimitPrice, evicted: undefined },
    };
    const available = s.balances[`${cmd.userId}\n${this.lockAsset(limit)}`]?.available ?? 0n;
    if (available < stop.locked + limit.locked) return fail('FAILED_PRECONDITION');
    const tooMany = this.tooManyStops(s, cmd.userId, cmd.market) ?? this.tooManyResting(s, cmd.userId, cmd.market);
    if (tooMany !== undefined) return tooMany;
    this.enter(s, fx, stop);
    const trades = [...this.match(s, fx, limit).trades];
    limit.placementTrades = trades;
    const order = this.view(limit);
    this.cascade(s, fx, cmd.market, 0);
    return { ok: true, value: { kind: 'placedOco', order, stopOrder: this.view(stop), trades }, events: [] };
  }

  /**
   * The trigger rounds of stops.ts, from the trades of fx.trades at `from` on: each round's trades
   * reach the waiting stops, which trigger buys (lowest stop first) then sells (highest first), by
   * arrival, up to the bound per command.
   */
  private cascade(s: RefState, fx: Effects, market: string, from: number): void {
    let budget = STOP_TRIGGERS_PER_COMMAND;
    let start = from;
    while (budget > 0) {
      const round = fx.trades.slice(start);
      start = fx.trades.length;
      if (round.length === 0) return;
      const low = round.reduce((a, t) => (t.price < a ? t.price : a), round[0]!.price);
      const high = round.reduce((a, t) => (t.price > a ? t.price : a), round[0]!.price);
      const waiting = s.orders.filter((o) => o.waiting && o.market === market);
      const order = (desc: boolean) => (a: RefOrder, b: RefOrder) =>
        a.stopPrice === b.stopPrice ? a.arrival - b.arrival : (a.stopPrice! < b.stopPrice!) !== desc ? -1 : 1;
      const buys = waiting.filter((o) => o.side === 'buy' && o.stopPrice! <= high).sort(order(false));
      const sells = waiting.filter((o) => o.side === 'sell' && o.stopPrice! >= low).sort(order(true));
      const triggered = [...buys, ...sells].slice(0, budget);
      budget -= triggered.length;
      for (const stop of triggered) if (stop.waiting) this.trigger(s, fx, stop);
    }
  }

  private trigger(s: RefState, fx: Effects, order: RefOrder): void {
    order.waiting = false;
    order.updatedAt = fx.now;
    order.arrival = ++s.arrivals;
    this.cancelPartner(s, fx, order);
    if (order.type === 'market') {
      const trial = structuredClone(s);
      const copy = trial.orders.find((o) => o.id === order.id)!;
      copy.locked = MAX_UNITS * MAX_UNITS;
      const { trades, stopped } = this.matchTaker(trial, this.scratch(fx), copy);
      const cost = trades.reduce((a, t) => a + t.quoteAmount, 0n);
      if (stopped || copy.remaining > 0n || cost > (order.side === 'buy' ? order.locked : MAX_ORDER)) {
        this.cancelReported(s, fx, order, stopped ? 'self_trade' : 'ioc');
        return;
      }
      if (order.side === 'buy' && order.locked > cost) {
        const b = this.bal(s, fx, order.userId, this.lockAsset(order));
        b.locked -= order.locked - cost;
        b.available += order.locked - cost;
        order.locked = cost;
      }
    }
    fx.events.push({ type: 'orderUpdated', order: this.view(order), trade: undefined });
    this.matchTaker(s, fx, order);
  }

  /** Unlinks an order from its partner, if any, and returns the partner. */
  private unpair(s: RefState, order: RefOrder): RefOrder | undefined {
    if (order.oco === undefined) return undefined;
    const partner = s.orders.find((o) => o.id === order.oco)!;
    order.oco = undefined;
    partner.oco = undefined;
    return partner;
  }

  private cancelPartner(s: RefState, fx: Effects, order: RefOrder): void {
    const partner = this.unpair(s, order);
    if (partner !== undefined) this.cancelReported(s, fx, partner, 'oco');
  }

  /** Cancels an open order and reports it; then its partner, if any (reason oco). Returns its view. */
  private cancelReported(s: RefState, fx: Effects, order: RefOrder, reason: CancelReason): OrderView {
    const partner = this.unpair(s, order);
    this.cancelOrder(s, fx, order, reason);
    const view = this.view(order);
    fx.events.push({ type: 'orderUpdated', order: view, trade: undefined });
    if (partner !== undefined) this.cancelReported(s, fx, partner, 'oco');
    return view;
  }

  /** Effects of a trial run: thrown away. */
  private scratch(fx: Effects): Effects {
    return { seq: fx.seq, now: fx.now, events: [], trades: [], levels: new Set(), balances: new Set() };
  }

  private lockAsset(order: RefOrder): string {
    const market = this.marketOf(order.market)!;
    return order.side === 'buy' ? market.quote : market.base;
  }

  private touchLevel(fx: Effects, order: RefOrder): void {
    fx.levels.add(`${order.market}\n${order.side}\n${order.price}`);
  }

  /** Locks the taker's funds, matches it, and rests or cancels the rest. */
  private match(s: RefState, fx: Effects, taker: RefOrder): { trades: TradeView[]; stopped: boolean } {
    this.enter(s, fx, taker);
    return this.matchTaker(s, fx, taker);
  }

  /** Matches a taker whose funds are locked against the other side, then rests or cancels the rest; returns its trades. */
  private matchTaker(s: RefState, fx: Effects, taker: RefOrder): { trades: TradeView[]; stopped: boolean } {
    const market = this.marketOf(taker.market)!;
    const { base, quote } = market;
    const first = fx.trades.length;
    let stopped = false;
    while (taker.remaining > 0n) {
      const maker = this.book(taker.market, taker.side === 'buy' ? 'sell' : 'buy', s)[0];
      if (maker === undefined) break;
      if (taker.type === 'limit' && (taker.side === 'buy' ? maker.price > taker.price : maker.price < taker.price)) break;
      if (maker.userId === taker.userId) {
        if (taker.selfTradePrevention !== 'cancel_taker') this.cancelReported(s, fx, maker, 'self_trade');
        if (taker.selfTradePrevention !== 'cancel_resting') {
          stopped = true;
          break;
        }
        continue;
      }
      const fill = maker.remaining < taker.remaining ? maker.remaining : taker.remaining;
      const amount = floorQuote(maker.price, fill);
      const [buy, sell] = taker.side === 'buy' ? [taker, maker] : [maker, taker];
      buy.locked -= amount;
      this.bal(s, fx, buy.userId, quote).locked -= amount;
      sell.locked -= fill;
      this.bal(s, fx, sell.userId, base).locked -= fill;
      // Each side pays its fee on what it receives, in that asset; a rebate only as far as the fee account holds it.
      const [takerGets, makerGets] = taker.side === 'buy' ? [fill, amount] : [amount, fill];
      const [takerAsset, makerAsset] = taker.side === 'buy' ? [base, quote] : [quote, base];
      const takerFee = fee(takerGets, market.takerFeeBps ?? 0);
      let makerFee = fee(makerGets, market.makerFeeBps ?? 0);
      const feeFunds = s.balances[`${FEE_ACCOUNT_ID}\n${makerAsset}`]?.available ?? 0n;
      if (-makerFee > feeFunds) makerFee = -feeFunds;
      this.bal(s, fx, taker.userId, takerAsset).available += takerGets - takerFee;
      this.bal(s, fx, maker.userId, makerAsset).available += makerGets - makerFee;
      if (takerFee !== 0n) this.bal(s, fx, FEE_ACCOUNT_ID, takerAsset).available += takerFee;
      if (makerFee !== 0n) this.bal(s, fx, FEE_ACCOUNT_ID, makerAsset).available += makerFee;
      taker.feesPaid += takerFee;
      maker.feesPaid += makerFee;
      this.touchLevel(fx, maker);
      for (const o of [maker, taker]) {
        o.remaining -= fill;
        o.status = o.remaining === 0n ? 'filled' : 'partially_filled';
        o.updatedAt = fx.now;
      }
      const trade: TradeView = {
        tradeId: s.nextTradeId++, market: taker.market, price: maker.price, quantity: fill, quoteAmount: amount, makerOrderId: maker.id,
        takerOrderId: taker.id, makerUserId: maker.userId, takerUserId: taker.userId, takerSide: taker.side, makerFee, takerFee,
        timestamp: fx.now, seq: fx.seq,
      };
      fx.trades.push(trade);
      s.trades.push(trade);
      fx.events.push({ type: 'trade', trade });
      const partners = [this.unpair(s, maker), this.unpair(s, taker)];
      for (const o of [maker, taker]) {
        if (o.remaining === 0n) this.close(s, fx, o);
        fx.events.push({ type: 'orderUpdated', order: this.view(o), trade });
      }
      for (const partner of partners) if (partner !== undefined) this.cancelReported(s, fx, partner, 'oco');
    }
    if (taker.remaining > 0n) {
      if (!stopped && taker.type === 'limit' && (taker.timeInForce === 'GTC' || taker.timeInForce === 'GTD')) {
        taker.resting = true;
        this.touchLevel(fx, taker);
      } else {
        this.cancelReported(s, fx, taker, stopped ? 'self_trade' : 'ioc');
      }
    }
    return { trades: fx.trades.slice(first), stopped };
  }

  private cancelOrder(s: RefState, fx: Effects, order: RefOrder, reason: CancelReason): void {
    order.waiting = false;
    order.status = 'cancelled';
    order.cancelReason = reason;
    order.updatedAt = fx.now;
    this.close(s, fx, order);
  }

  /** The order leaves the book, gives back what it still locks, and joins its user's closed orders. */
  private close(s: RefState, fx: Effects, order: RefOrder): void {
    if (order.resting) this.touchLevel(fx, order);
    order.resting = false;
    if (order.locked > 0n) {
      const b = this.bal(s, fx, order.userId, this.lockAsset(order));
      b.locked -= order.locked;
      b.available += order.locked;
      order.locked = 0n;
    }
    const queue = (s.closedQueue[order.userId] ??= []);
    queue.push(order.id);
    while (queue.length > this.config.closedOrdersRetainedPerUser) this.evict(s, queue.shift()!);
  }

  /** A closed order the retention no longer keeps: forgotten, but as its pair's answer to a retry. */
  private evict(s: RefState, evicted: number): void {
    const pairedLimit = s.orders.find((o) => o.pairStop?.id === evicted && o.pairStop.evicted === undefined);
    if (pairedLimit !== undefined) pairedLimit.pairStop!.evicted = this.view(s.orders.find((o) => o.id === evicted)!);
    s.orders = s.orders.filter((o) => o.id !== evicted);
  }

  private view(order: RefOrder): OrderView {
    return {
      orderId: order.id, clientOrderId: order.clientOrderId, userId: order.userId, market: order.market, side: order.side, type: order.type,
      price: order.type === 'limit' ? order.price : undefined, quantity: order.quantity, filled: order.quantity - order.remaining,
      status: order.waiting ? 'untriggered' : order.status, cancelReason: order.cancelReason, timeInForce: order.timeInForce, postOnly: order.postOnly,
      selfTradePrevention: order.selfTradePrevention, expireAt: order.expireAt, locked: order.locked, feesPaid: order.feesPaid, createdAt: order.createdAt, updatedAt: order.updatedAt,
      stopPrice: order.stopPrice, ocoOrderId: order.oco,
    };
  }

  private levelEvents(s: RefState, fx: Effects): EngineEvent[] {
    return [...fx.levels].map((key) => {
      const [market, side, price] = key.split('\n') as [string, Side, string];
      const orders = this.book(market, side, s).filter((o) => o.price === BigInt(price));
      const bookSeq = (s.bookSeq[market] = (s.bookSeq[market] ?? 0) + 1);
      const quantity = orders.reduce((a, o) => a + o.remaining, 0n);
      return { type: 'bookLevel', market, side, price: BigInt(price), quantity, orderCount: orders.length, bookSeq };
    });
  }

  private balanceEvents(s: RefState, fx: Effects): EngineEvent[] {
    return [...fx.balances].map((key) => {
      const [userId, asset] = key.split('\n') as [string, string];
      const { available, locked } = s.balances[key]!;
      return { type: 'balance', userId, balance: { asset, available, locked } };
    });
  }

  /** Levels best first: [price, total, ids in queue order]. */
  levels(symbol: string, side: Side): [bigint, bigint, number[]][] {
    const out: [bigint, bigint, number[]][] = [];
    for (const o of this.book(symbol, side)) {
      const last = out.at(-1);
      if (last !== undefined && last[0] === o.price) {
        last[1] += o.remaining;
        last[2].push(o.id);
      } else out.push([o.price, o.remaining, [o.id]]);
    }
    return out;
  }
}
