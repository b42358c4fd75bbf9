/**
 * A deliberately naive exchange for differential testing: plain arrays scanned and sorted on every
 * step, bigint arithmetic throughout, and all-or-nothing orders decided by trying them on a deep
 * copy. It shares nothing with the engine but the API types and the written rules, so a
 * disagreement points at a bug in one of them.
 */
import type { Command, EngineConfig, EngineErrorCode, SelfTradePrevention, Side, TimeInForce } from '../src/index';

interface RefOrder {
  id: number;
  userId: string;
  market: string;
  side: Side;
  type: 'limit' | 'market';
  price: bigint; // 0n for market orders
  quantity: bigint;
  remaining: bigint;
  locked: bigint;
  status: 'open' | 'partially_filled' | 'filled' | 'cancelled';
  cancelReason?: 'user' | 'ioc' | 'self_trade';
  timeInForce: TimeInForce;
  selfTradePrevention: SelfTradePrevention;
  clientOrderId?: string;
  resting: boolean;
  arrival: number;
}

export interface RefTrade {
  tradeId: number;
  price: bigint;
  quantity: bigint;
  quoteAmount: bigint;
  makerOrderId: number;
  takerOrderId: number;
  makerUserId: string;
  takerUserId: string;
}

export type RefResult =
  | { ok: true; trades: RefTrade[]; order?: { status: string; filled: bigint; locked: bigint } }
  | { ok: false; code: EngineErrorCode; field: string | undefined };

interface RefState {
  orders: RefOrder[]; // every retained order
  closedQueue: Record<string, number[]>; // per user, ids in closing order
  balances: Record<string, { available: bigint; locked: bigint }>; // `${user}:${asset}`
  supply: Record<string, bigint>;
  nextTradeId: number;
  arrivals: number;
}

const MAX_UNITS = 2n ** 64n - 1n;
const MAX_ORDER = 2n ** 53n - 1n;
const floorQuote = (price: bigint, quantity: bigint): bigint => (price * quantity) / 1_000_000n;
const ceilQuote = (price: bigint, quantity: bigint): bigint => (price * quantity + 999_999n) / 1_000_000n;
const fail = (code: EngineErrorCode, field?: string): RefResult => ({ ok: false, code, field });

export class ReferenceExchange {
  private s: RefState = { orders: [], closedQueue: {}, balances: {}, supply: {}, nextTradeId: 1, arrivals: 0 };

  constructor(private readonly config: EngineConfig) {}

  private marketOf(symbol: string) {
    return this.config.markets.find((m) => m.symbol === symbol);
  }

  private bal(s: RefState, userId: string, asset: string) {
    return (s.balances[`${userId}:${asset}`] ??= { available: 0n, locked: 0n });
  }

  balance(userId: string, asset: string): { available: bigint; locked: bigint } {
    return { ...(this.s.balances[`${userId}:${asset}`] ?? { available: 0n, locked: 0n }) };
  }

  /** Resting orders of one side, best first, then by arrival. */
  book(symbol: string, side: Side, s: RefState = this.s): RefOrder[] {
    return s.orders
      .filter((o) => o.resting && o.market === symbol && o.side === side)
      .sort((a, b) => (a.price === b.price ? a.arrival - b.arrival : (side === 'buy' ? a.price < b.price : a.price > b.price) ? 1 : -1));
  }

  apply(cmd: Command): RefResult {
    switch (cmd.kind) {
      case 'deposit': {
        const assets = this.config.markets.flatMap((m) => [m.base, m.quote]);
        if (!assets.includes(cmd.asset)) return fail('INVALID_ARGUMENT', 'asset');
        if (cmd.amount <= 0n || cmd.amount > MAX_UNITS) return fail('INVALID_ARGUMENT', 'amount');
        if ((this.s.supply[cmd.asset] ?? 0n) + cmd.amount > MAX_UNITS) return fail('INVALID_ARGUMENT', 'amount');
        this.s.supply[cmd.asset] = (this.s.supply[cmd.asset] ?? 0n) + cmd.amount;
        this.bal(this.s, cmd.userId, cmd.asset).available += cmd.amount;
        return { ok: true, trades: [] };
      }
      case 'cancel': {
        const order = this.s.orders.find((o) => o.id === cmd.orderId && o.userId === cmd.userId);
        if (order === undefined) return fail('NOT_FOUND', 'order_id');
        if (order.status === 'filled' || order.status === 'cancelled') return fail('FAILED_PRECONDITION', 'order_id');
        order.status = 'cancelled';
        order.cancelReason = 'user';
        this.close(this.s, order);
        return { ok: true, trades: [], order: this.summary(order) };
      }
      case 'placeLimit':
      case 'placeMarket':
        return this.place(cmd);
    }
  }

  private place(cmd: Extract<Command, { kind: 'placeLimit' | 'placeMarket' }>): RefResult {
    const market = this.marketOf(cmd.market);
    if (market === undefined) return fail('INVALID_ARGUMENT', 'market');
    if (cmd.quantity <= 0n || cmd.quantity > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    if (clientOrderId !== undefined && this.s.orders.some((o) => o.userId === cmd.userId && o.clientOrderId === clientOrderId)) {
      return fail('ALREADY_EXISTS', 'client_order_id');
    }
    const isLimit = cmd.kind === 'placeLimit';
    const price = isLimit ? cmd.price : 0n;
    const tif: TimeInForce = isLimit ? cmd.timeInForce : 'FOK';
    const base = market.base;
    const quote = market.quote;
    const lockAsset = cmd.side === 'buy' ? quote : base;
    const order: RefOrder = {
      id: cmd.orderId, userId: cmd.userId, market: cmd.market, side: cmd.side, type: isLimit ? 'limit' : 'market', price,
      quantity: cmd.quantity, remaining: cmd.quantity, locked: 0n, status: 'open', timeInForce: tif,
      selfTradePrevention: cmd.selfTradePrevention, resting: false, arrival: 0, ...(clientOrderId === undefined ? {} : { clientOrderId }),
    };
    if (isLimit) {
      if (price <= 0n || price > MAX_ORDER) return fail('INVALID_ARGUMENT', 'price');
      if (cmd.postOnly && tif !== 'GTC') return fail('INVALID_ARGUMENT', 'post_only');
      if (ceilQuote(price, cmd.quantity) > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
      order.locked = cmd.side === 'buy' ? ceilQuote(price, cmd.quantity) : cmd.quantity;
      if (this.bal(this.s, cmd.userId, lockAsset).available < order.locked) return fail('FAILED_PRECONDITION');
      const best = this.book(cmd.market, cmd.side === 'buy' ? 'sell' : 'buy')[0];
      if (cmd.postOnly && best !== undefined && (cmd.side === 'buy' ? best.price <= price : best.price >= price)) {
        return fail('FAILED_PRECONDITION', 'post_only');
      }
      if (tif === 'FOK') {
        const copy = structuredClone(order);
        this.run(structuredClone(this.s), copy, base, quote);
        if (copy.remaining > 0n) return fail('FAILED_PRECONDITION', 'time_in_force');
      }
    } else {
      // Try it on a copy, with funds to spare, to learn whether it fills and what it costs.
      const trial = structuredClone(this.s);
      const copy = structuredClone(order);
      copy.locked = cmd.side === 'buy' ? MAX_UNITS * MAX_UNITS : cmd.quantity;
      this.bal(trial, cmd.userId, lockAsset).available += copy.locked;
      const { trades, stopped } = this.run(trial, copy, base, quote);
      if (stopped && copy.remaining > 0n) return fail('FAILED_PRECONDITION', 'self_trade_prevention');
      if (copy.remaining > 0n) return fail('FAILED_PRECONDITION', 'quantity');
      const cost = cmd.side === 'buy' ? trades.reduce((a, t) => a + t.quoteAmount, 0n) : cmd.quantity;
      if (cost > MAX_ORDER) return fail('INVALID_ARGUMENT', 'quantity');
      if (this.bal(this.s, cmd.userId, lockAsset).available < cost) return fail('FAILED_PRECONDITION');
      order.locked = cost;
    }
    const { trades } = this.run(this.s, order, base, quote);
    return { ok: true, trades, order: this.summary(order) };
  }

  /** Locks the taker's funds, matches it, and rests or cancels the rest. */
  private run(s: RefState, taker: RefOrder, base: string, quote: string): { trades: RefTrade[]; stopped: boolean } {
    const lockAsset = taker.side === 'buy' ? quote : base;
    const lockBalance = this.bal(s, taker.userId, lockAsset);
    lockBalance.available -= taker.locked;
    lockBalance.locked += taker.locked;
    taker.arrival = ++s.arrivals;
    s.orders.push(taker);
    const trades: RefTrade[] = [];
    let stopped = false;
    while (taker.remaining > 0n) {
      const maker = this.book(taker.market, taker.side === 'buy' ? 'sell' : 'buy', s)[0];
      if (maker === undefined) break;
      if (taker.type === 'limit' && (taker.side === 'buy' ? maker.price > taker.price : maker.price < taker.price)) break;
      if (maker.userId === taker.userId) {
        if (taker.selfTradePrevention !== 'cancel_taker') {
          maker.status = 'cancelled';
          maker.cancelReason = 'self_trade';
          this.close(s, maker);
        }
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
      this.bal(s, buy.userId, quote).locked -= amount;
      this.bal(s, buy.userId, base).available += fill;
      sell.locked -= fill;
      this.bal(s, sell.userId, base).locked -= fill;
      this.bal(s, sell.userId, quote).available += amount;
      for (const o of [maker, taker]) {
        o.remaining -= fill;
        o.status = o.remaining === 0n ? 'filled' : 'partially_filled';
      }
      trades.push({
        tradeId: s.nextTradeId++, price: maker.price, quantity: fill, quoteAmount: amount, makerOrderId: maker.id,
        takerOrderId: taker.id, makerUserId: maker.userId, takerUserId: taker.userId,
      });
      if (maker.remaining === 0n) this.close(s, maker);
      if (taker.remaining === 0n) this.close(s, taker);
    }
    if (taker.remaining > 0n) {
      if (!stopped && taker.type === 'limit' && taker.timeInForce === 'GTC') {
        taker.resting = true;
      } else {
        taker.status = 'cancelled';
        taker.cancelReason = stopped ? 'self_trade' : 'ioc';
        this.close(s, taker);
      }
    }
    return { trades, stopped };
  }

  private close(s: RefState, order: RefOrder): void {
    order.resting = false;
    const lockAsset = order.side === 'buy' ? this.marketOf(order.market)!.quote : this.marketOf(order.market)!.base;
    const b = this.bal(s, order.userId, lockAsset);
    b.locked -= order.locked;
    b.available += order.locked;
    order.locked = 0n;
    const queue = (s.closedQueue[order.userId] ??= []);
    queue.push(order.id);
    while (queue.length > this.config.closedOrdersRetainedPerUser) {
      const evicted = queue.shift()!;
      s.orders = s.orders.filter((o) => o.id !== evicted);
    }
  }

  private summary(order: RefOrder) {
    return { status: order.status, filled: order.quantity - order.remaining, locked: order.locked };
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
