/**
 * Execution of an accepted order: it enters the order index and its user's open orders, is matched
 * (matching.ts), and rests or is cancelled; each fill is settled (settlement.ts) and reported as a
 * trade, order updates and coalesced level and balance events. Also where orders close: off the
 * book, their leftover lock released, into their user's retained closed orders. And where stop
 * orders wait and trigger (stops.ts) and one-cancels-other pairs cancel each other.
 */
import type { AmendResult, CancelReason, CommandResult, OrderView, PlaceResult, TradeView } from './api';
import type { EventRecorder } from './events';
import { MAX_ORDER_UNITS } from './fixed-point';
import * as matching from './matching';
import type { FillHandler } from './matching';
import type { Market } from './market';
import { NO_ORDER as NONE, type OrderRef } from './order-store';
import type { PriceLevel } from './price-level';
import * as settlement from './settlement';
import type { Settlement } from './settlement';
import type { EngineState } from './state';
import { STOP_TRIGGERS_PER_COMMAND } from './stops';

/**
 * Module-local copies of what the command path uses: tsx (esbuild) compiles each use of an
 * imported binding into getter calls, measured at 10-15% of the engine's time.
 */
const { matchOrder, planTake } = matching;
const NO_ORDER = NONE;
const TRIGGER_BOUND = STOP_TRIGGERS_PER_COMMAND;
const { quoteAmount } = settlement;
/** What a triggered stop-market sell's fills may be worth in all (the engine's bound on one order). */
const MAX_COST = MAX_ORDER_UNITS;
const ZERO = 0n;
/** The trades of a placement that traded nothing: shared, as most placements do not trade. */
const NO_TRADES: TradeView[] = [];
Object.freeze(NO_TRADES);

export class Execution implements FillHandler {
  /** Timestamp of the command being applied. */
  now = 0;
  /** Trades of the command being applied. */
  private trades: TradeView[] = NO_TRADES;
  /** Latest view of the incoming order of the command being applied. */
  private takerView: OrderView | undefined = undefined;
  /** The incoming order's price (undefined for market orders) and quantity as its command carried them. */
  private takerPrice: bigint | undefined = undefined;
  private takerQuantity = 0n;
  /** The lowest and highest price of the trades since the last look at the stops (none: low > high). */
  private tradeLow = Infinity;
  private tradeHigh = -Infinity;

  constructor(
    private readonly state: EngineState,
    private readonly settlement: Settlement,
    private readonly recorder: EventRecorder,
  ) {}

  /** Matches an order whose funds are locked, then rests or cancels what is left. */
  execute(order: OrderRef, lockUnits: bigint, price: bigint | undefined, quantity: bigint): CommandResult {
    const { store } = this.state;
    this.state.orders.add(store.id(order), order);
    this.state.accountOf(order).addOpen(store, order);
    this.takerView = store.view(order, price, quantity, 0n, lockUnits);
    this.recorder.push({ type: 'orderAccepted', order: this.takerView });
    return this.matchAndRest(order, price, quantity, 'placed');
  }

  /**
   * An amended order that lost its place (it is off the book, its lock already the amended one):
   * reported, then matched as a taker would be, and rested at the back of its level.
   */
  reenter(order: OrderRef): CommandResult {
    this.takerView = this.state.store.view(order);
    this.recorder.push({ type: 'orderUpdated', order: this.takerView, trade: undefined });
    return this.matchAndRest(order, this.takerView.price, this.takerView.quantity, 'amended');
  }

  /**
   * A stop order accepted to wait for its trigger (its funds locked): in the order index and its
   * user's open orders, not on the book.
   */
  wait(order: OrderRef): OrderView {
    const { store } = this.state;
    this.state.orders.add(store.id(order), order);
    this.state.accountOf(order).addOpen(store, order);
    this.state.marketOf(order).stops.add(order);
    const view = store.view(order);
    this.recorder.push({ type: 'orderAccepted', order: view });
    return view;
  }

  private matchAndRest(order: OrderRef, price: bigint | undefined, quantity: bigint, kind: 'placed' | 'amended'): CommandResult {
    this.trades = NO_TRADES;
    this.tradeLow = Infinity;
    this.tradeHigh = -Infinity;
    this.run(order, price, quantity);
    // One literal for both kinds (a placement and an amendment answer alike).
    const value = { kind, order: this.takerView!, trades: this.trades } as PlaceResult | AmendResult;
    const market = this.state.marketOf(order);
    if (market.stops.size > 0 && this.tradeLow <= this.tradeHigh) this.triggerStops(market);
    return { ok: true, value, events: this.recorder.finish() };
  }

  /** Matches an incoming order, then rests or cancels what is left. */
  private run(order: OrderRef, price: bigint | undefined, quantity: bigint): void {
    const { store } = this.state;
    this.takerPrice = price;
    this.takerQuantity = quantity;
    const book = this.state.marketOf(order).book;
    const stopped = matchOrder(store, book, order, this);
    if (store.remaining(order) > 0) {
      if (!stopped && store.type(order) === 'limit' && this.rests(order)) {
        this.recorder.level(book, book.add(order));
      } else {
        this.takerView = this.cancel(order, stopped ? 'self_trade' : 'ioc', price, quantity);
      }
    }
  }

  /** The cascade of stops.ts: rounds of the stops the last trades reach, within the bound. */
  private triggerStops(market: Market): void {
    this.recorder.levelsRecreated = true;
    let budget = TRIGGER_BOUND;
    while (budget > 0 && this.tradeLow <= this.tradeHigh) {
      const triggered = market.stops.take(this.tradeLow, this.tradeHigh, budget);
      this.tradeLow = Infinity;
      this.tradeHigh = -Infinity;
      budget -= triggered.length;
      // A stop of the round may have been cancelled by an earlier one's fill of its pair's limit order.
      for (const stop of triggered) if (this.state.store.isWaiting(stop)) this.trigger(stop, market);
    }
  }

  /**
   * A stop (already out of its market's queue) becomes the order it stands for and executes. A
   * stop-market must fill completely within its lock, or it is cancelled (reason ioc, or
   * self_trade when self-trade prevention stops it).
   */
  private trigger(order: OrderRef, market: Market): void {
    const { store } = this.state;
    store.trigger(order, this.now);
    const partner = this.unpair(order);
    if (partner !== NO_ORDER) this.cancel(partner, 'oco', undefined, undefined);
    this.trades = NO_TRADES;
    if (store.type(order) === 'market') {
      const remaining = store.remaining(order);
      const plan = planTake(store, market.book, store.accountIndex(order), store.side(order), undefined, remaining, store.selfTradePrevention(order));
      const buy = store.isBuy(order);
      if (plan.stoppedBySelfTrade || plan.filled !== remaining || plan.cost > (buy ? store.locked(order) : MAX_COST)) {
        this.cancel(order, plan.stoppedBySelfTrade ? 'self_trade' : 'ioc', undefined, undefined);
        return;
      }
      if (buy) this.settlement.releaseAbove(order, plan.cost);
    }
    const view = store.view(order);
    this.takerView = view;
    this.recorder.push({ type: 'orderUpdated', order: view, trade: undefined });
    this.run(order, view.price, view.quantity);
  }

  /** Breaks the one-cancels-other pair of `order`, if it has one: returns the partner, else NO_ORDER. */
  unpair(order: OrderRef): OrderRef {
    const { store } = this.state;
    if (!store.hasOcoPartner(order)) return NO_ORDER;
    const partner = store.ocoPartner(order);
    store.unlinkOco(order, partner);
    return partner;
  }

  /** GTC and GTD orders rest; a GTD order's expiry is then due in the engine's timers. */
  private rests(order: OrderRef): boolean {
    const { store } = this.state;
    const timeInForce = store.timeInForce(order);
    if (timeInForce !== 'GTD') return timeInForce === 'GTC';
    this.state.timers.expiries.set(store.id(order), store.expireAt(order)!);
    return true;
  }

  /** FillHandler: one fill at the maker's price, settled from both orders' locks. */
  fill(maker: OrderRef, level: PriceLevel, taker: OrderRef, quantity: number): void {
    const { store } = this.state;
    const recorder = this.recorder;
    const market = this.state.marketOf(taker);
    const price = level.price;
    if (price < this.tradeLow) this.tradeLow = price;
    if (price > this.tradeHigh) this.tradeHigh = price;
    // Any fill of a pair's limit order cancels its stop (after this fill's events).
    const makerPartner = this.unpair(maker);
    const takerPartner = this.unpair(taker);
    const quote = quoteAmount(level.price, quantity);
    const quantityUnits = BigInt(quantity);
    const quoteUnits = BigInt(quote);
    const takerBuys = store.isBuy(taker);
    const settlement = this.settlement;
    settlement.settleFill(market, maker, taker, takerBuys, quantity, quote);

    level.reduce(quantityUnits);
    recorder.level(market.book, level);
    store.recordFill(maker, quantity, this.now);
    store.recordFill(taker, quantity, this.now);
    const trade: TradeView = {
      tradeId: this.state.nextTradeId++,
      market: market.symbol,
      price: level.priceUnits,
      quantity: quantityUnits,
      quoteAmount: quoteUnits,
      makerOrderId: store.id(maker),
      takerOrderId: store.id(taker),
      makerUserId: store.userId(maker),
      takerUserId: store.userId(taker),
      takerSide: takerBuys ? 'buy' : 'sell',
      makerFee: market.chargesFees ? settlement.makerFee : ZERO,
      takerFee: market.chargesFees ? settlement.takerFee : ZERO,
      timestamp: this.now,
      seq: this.state.lastSeq + 1,
    };
    this.state.history.record(
      trade.tradeId, market.index, level.price, quantity, quote, trade.makerOrderId, trade.takerOrderId, store.accountIndex(maker),
      store.accountIndex(taker), takerBuys, this.now, trade.seq, market.chargesFees ? settlement.makerFeeUnits : 0, market.chargesFees ? settlement.takerFeeUnits : 0,
    );
    if (this.trades === NO_TRADES) this.trades = [];
    this.trades.push(trade);
    const makerView = this.viewAfterFill(maker, level.priceUnits, undefined);
    this.takerView = this.viewAfterFill(taker, this.takerPrice, this.takerQuantity);
    recorder.push({ type: 'trade', trade });
    recorder.push({ type: 'orderUpdated', order: makerView, trade });
    recorder.push({ type: 'orderUpdated', order: this.takerView, trade });
    if (makerPartner !== NO_ORDER) this.cancel(makerPartner, 'oco', undefined, undefined);
    if (takerPartner !== NO_ORDER) this.cancel(takerPartner, 'oco', undefined, undefined);
  }

  /** The order's view after a fill, closing it if the fill completed it. */
  private viewAfterFill(order: OrderRef, price: bigint | undefined, quantity: bigint | undefined): OrderView {
    const store = this.state.store;
    if (store.remaining(order) > 0) return store.view(order, price, quantity);
    this.unlock(order);
    const view = store.view(order, price, quantity, undefined, 0n);
    this.retire(order);
    return view;
  }

  /** FillHandler: self-trade prevention cancels a resting order of the taker's user. */
  cancelResting(maker: OrderRef): void {
    this.cancel(maker, 'self_trade', undefined, undefined);
  }

  /**
   * Cancels an open order: it closes and its final view is reported; returns that view. The other
   * order of its one-cancels-other pair, if any, is cancelled next (reason oco).
   */
  cancel(order: OrderRef, reason: CancelReason, price: bigint | undefined, quantity: bigint | undefined): OrderView {
    const store = this.state.store;
    if (store.isWaiting(order)) this.state.marketOf(order).stops.remove(order);
    const partner = this.unpair(order);
    store.cancel(order, reason, this.now);
    this.unlock(order);
    const view = store.view(order, price, quantity, undefined, 0n);
    this.retire(order);
    this.recorder.push({ type: 'orderUpdated', order: view, trade: undefined });
    if (partner !== NO_ORDER) this.cancel(partner, 'oco', undefined, undefined);
    return view;
  }

  /** First half of closing an order: it leaves the book and gives back what it still locks. */
  private unlock(order: OrderRef): void {
    if (this.state.store.isOnBook(order)) {
      const book = this.state.marketOf(order).book;
      this.recorder.level(book, book.remove(order));
    }
    this.settlement.release(order);
  }

  /**
   * Second half, once its final view is taken: it joins its user's retained closed orders, which
   * may evict and free the oldest of them (the order itself when nothing is retained).
   */
  private retire(order: OrderRef): void {
    const { store } = this.state;
    if (store.isGtd(order)) this.state.timers.expiries.delete(store.id(order));
    this.state.accountOf(order).close(store, this.state.orders, order);
  }
}
