/**
 * The engine: applies commands in sequence order to the books and accounts, one at a time, and
 * answers queries. Deterministic: no clock, no randomness, no I/O — ids, seqs and timestamps come
 * in with the commands, so replaying the same commands reproduces the same state.
 *
 * A placement goes through the stages exchange-core names: validation (validation.ts), the risk
 * stage that checks and locks funds (risk.ts), matching against the book (matching.ts, book.ts),
 * and settlement of each fill (settlement.ts), reported by execution.ts. Queries are queries.ts.
 *
 * Every command is validated completely before anything changes, so a rejected command
 * (ok: false) leaves the state as it was and emits nothing. Its seq is still consumed: lastSeq()
 * advances for every command, accepted or rejected, and stateHash() leaves lastSeq out.
 *
 * Self-trade prevention defaults to cancel_resting (see matching.ts): the service fills it in
 * when a request leaves it unspecified.
 */
import type {
  AmendCommand,
  CancelAllAfterCommand,
  CancelAllCommand,
  CancelAllResult,
  CancelReason,
  CancelSessionCommand,
  ConfigureCommand,
  EngineLimits,
  ExpireCommand,
  BalanceView,
  CancelCommand,
  CandleView,
  FillView,
  LedgerEntryView,
  LedgerQuery,
  ListFillsQuery,
  TickerView,
  TradeView,
  Command,
  CommandResult,
  DepositCommand,
  DepthView,
  EngineConfig,
  EngineError,
  EngineQueries,
  ListOrdersQuery,
  MarketConfig,
  OrderView,
  PlaceLimitCommand,
  PlaceMarketCommand,
  PlaceOcoCommand,
} from './api';
import type { Account } from './account';
import { EventRecorder } from './events';
import { copyOfLimits, invalidLimit } from './limits';
import { Execution } from './execution';
import { formatAmount, formatQuantity, MAX_ORDER_UNITS, MAX_UNITS } from './fixed-point';
import * as matching from './matching';
import type { Market } from './market';
import { NO_ORDER as NONE, type OrderRef } from './order-store';
import { Queries } from './queries';
import { lockIndexOf, Risk } from './risk';
import { freedStopView, samePair, samePlacement } from './retries';
import * as settlement from './settlement';
import { Settlement } from './settlement';
import { encodeNow, restoreSnapshot, stateHash } from './snapshot';
import { EngineState } from './state';
import { stopMarketBuyLockPrice } from './stops';
import * as validation from './validation';
import { isAdminId, isReference, REFERENCE_MAX_LENGTH, Withdrawals } from './withdrawal';

/**
 * Module-local copies of what the command path uses: tsx (esbuild) compiles each use of an
 * imported binding into getter calls, measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;
const { planTake, wouldCross } = matching;
const { buyLockAmount } = settlement;
const { amendError, amountError, deadManTimeoutError, instrumentRuleError, invalid, isClientOrderId, limitError, notionalError, ocoPriceError, placementError, reject } = validation;
const { stopLimitError, stopPriceError, tickError, userIdError } = validation;
const { quoteAmount } = settlement;
const ORDER_LIMIT = MAX_ORDER_UNITS;

export class Engine implements EngineQueries {
  private readonly state: EngineState;
  private readonly recorder: EventRecorder;
  private readonly risk: Risk;
  private readonly execution: Execution;
  private readonly queries: Queries;
  private readonly withdrawals: Withdrawals;

  constructor(config: EngineConfig) {
    this.state = new EngineState(config);
    this.recorder = new EventRecorder(this.state.balances, this.state.accountList);
    this.risk = new Risk(this.state, this.recorder);
    this.execution = new Execution(this.state, new Settlement(this.state, this.recorder), this.recorder);
    this.queries = new Queries(this.state);
    this.withdrawals = new Withdrawals(this.state, this.recorder);
  }

  /** The whole state as a binary snapshot (snapshot.ts), encoded at once. */
  snapshot(): Uint8Array {
    return encodeNow(this.state);
  }

  /** An engine in the state of `snapshot`; throws SnapshotInvalidError if it is damaged or inconsistent. */
  static restore(config: EngineConfig, snapshot: Uint8Array): Engine {
    const engine = new Engine(config);
    restoreSnapshot(engine.state, snapshot);
    return engine;
  }

  /** sha256 (hex) of the canonical state: books, orders, balances and counters; not lastSeq. */
  stateHash(): string {
    return stateHash(this.state);
  }

  apply(cmd: Command): CommandResult {
    if (cmd.seq !== this.state.lastSeq + 1) {
      throw new Error(`command seq ${cmd.seq} out of order: expected ${this.state.lastSeq + 1}`);
    }
    this.recorder.begin(cmd.seq);
    this.execution.now = cmd.timestamp;
    let result: CommandResult;
    switch (cmd.kind) {
      case 'placeLimit':
        result = this.placeLimit(cmd);
        break;
      case 'placeMarket':
        result = this.placeMarket(cmd);
        break;
      case 'cancel':
        result = this.cancel(cmd);
        break;
      case 'deposit':
        result = this.deposit(cmd);
        break;
      case 'amend':
        result = this.amend(cmd);
        break;
      case 'cancelAll':
        result = this.cancelAll(cmd);
        break;
      case 'expire':
        result = this.expire(cmd);
        break;
      case 'cancelAllAfter':
        result = this.cancelAllAfter(cmd);
        break;
      case 'cancelSession':
        result = this.cancelSession(cmd);
        break;
      case 'placeOco':
        result = this.placeOco(cmd);
        break;
      case 'withdraw':
        result = this.withdrawals.apply(cmd);
        break;
      case 'configure':
        result = this.configure(cmd);
        break;
      default:
        throw new Error(`unknown command kind ${(cmd as { kind: unknown }).kind}`);
    }
    this.state.lastSeq = cmd.seq;
    return result;
  }

  // ---- commands -----------------------------------------------------------------------------

  private placeLimit(cmd: PlaceLimitCommand): CommandResult {
    const market = this.state.marketsBySymbol.get(cmd.market);
    if (market === undefined) return invalid('market', `unknown market "${cmd.market}"`);
    const account = this.state.accounts.get(cmd.userId);
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    const fieldError = this.checkPlacement(cmd, clientOrderId);
    if (fieldError !== undefined) return { ok: false, error: fieldError };
    if (clientOrderId !== undefined && account !== undefined) {
      const repeat = this.repeatedPlacement(cmd, account, clientOrderId, market.index);
      if (repeat !== undefined) return repeat;
    }
    const limitFieldError = limitError(cmd) ?? (cmd.stopPrice === undefined ? undefined : stopLimitError(cmd.stopPrice, cmd));
    if (limitFieldError !== undefined) return { ok: false, error: limitFieldError };
    const price = Number(cmd.price);
    const quantity = Number(cmd.quantity);
    // Bounded for sells too, so that any fill's quote amount is below 2^53 whoever the taker is.
    const value = buyLockAmount(price, quantity);
    if (value > ORDER_LIMIT) return this.risk.tooValuable(market);
    if (market.hasRules) {
      const ruleError =
        instrumentRuleError(market, price, quantity) ??
        (cmd.stopPrice === undefined ? undefined : tickError(market, 'stop_price', Number(cmd.stopPrice))) ??
        notionalError(market, quoteAmount(price, quantity));
      if (ruleError !== undefined) return { ok: false, error: ruleError };
    }

    const lock = cmd.side === 'buy' ? value : quantity;
    const lockUnits = cmd.side === 'buy' ? BigInt(lock) : cmd.quantity;
    const lockIndex = lockIndexOf(market, cmd.side);
    const fundsError = this.risk.fundsError(account, lockIndex, lockUnits);
    if (fundsError !== undefined) return fundsError;
    if (cmd.stopPrice !== undefined) {
      const boundError = this.stopBoundError(market, account);
      if (boundError !== undefined) return boundError;
      const owner = account ?? this.state.newAccount(cmd.userId);
      const order = this.state.store.create(
        cmd.orderId, owner.index, market.index, lockIndex, cmd.side, 'limit', price, quantity, lock, cmd.timestamp,
        cmd.timeInForce, false, cmd.selfTradePrevention, clientOrderId, undefined,
      );
      return this.placeStop(order, Number(cmd.stopPrice), lock);
    }
    if (cmd.timeInForce === 'GTC' || cmd.timeInForce === 'GTD') {
      const boundError = this.openOrdersBoundError(market, account);
      if (boundError !== undefined) return boundError;
    }
    if (cmd.postOnly && wouldCross(market.book, cmd.side, price)) {
      return reject('FAILED_PRECONDITION', 'post_only', 'post_only: the order would trade on arrival');
    }
    if (
      cmd.timeInForce === 'FOK' &&
      planTake(this.state.store, market.book, account?.index ?? -1, cmd.side, price, quantity, cmd.selfTradePrevention).filled !== quantity
    ) {
      return reject('FAILED_PRECONDITION', 'time_in_force', 'time_in_force: FOK order cannot be filled completely now');
    }
    const owner = account ?? this.state.newAccount(cmd.userId);
    const order = this.state.store.create(
      cmd.orderId, owner.index, market.index, lockIndex, cmd.side, 'limit', price, quantity, lock, cmd.timestamp,
      cmd.timeInForce, cmd.postOnly, cmd.selfTradePrevention, clientOrderId, cmd.expireAt,
    );
    this.risk.lock(order, lock);
    return this.keptForRetries(owner, clientOrderId, order, this.execution.execute(order, lockUnits, cmd.price, cmd.quantity));
  }

  /** Market orders are all-or-nothing: they fill completely now, or are rejected and change nothing. */
  private placeMarket(cmd: PlaceMarketCommand): CommandResult {
    const market = this.state.marketsBySymbol.get(cmd.market);
    if (market === undefined) return invalid('market', `unknown market "${cmd.market}"`);
    const account = this.state.accounts.get(cmd.userId);
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    const fieldError = this.checkPlacement(cmd, clientOrderId);
    if (fieldError !== undefined) return { ok: false, error: fieldError };
    if (clientOrderId !== undefined && account !== undefined) {
      const repeat = this.repeatedPlacement(cmd, account, clientOrderId, market.index);
      if (repeat !== undefined) return repeat;
    }
    const quantity = Number(cmd.quantity);
    const ruleError = market.hasRules ? instrumentRuleError(market, undefined, quantity) : undefined;
    if (ruleError !== undefined) return { ok: false, error: ruleError };
    if (cmd.stopPrice !== undefined) return this.placeStopMarket(cmd, account, clientOrderId, quantity);
    const plan = planTake(this.state.store, market.book, account?.index ?? -1, cmd.side, undefined, quantity, cmd.selfTradePrevention);
    if (plan.stoppedBySelfTrade) {
      return reject('FAILED_PRECONDITION', 'self_trade_prevention', 'self_trade_prevention: the market order would trade with your own order');
    }
    if (plan.filled !== quantity) {
      return reject('FAILED_PRECONDITION', 'quantity', 'quantity: insufficient liquidity for market order');
    }
    if (plan.cost > ORDER_LIMIT) return this.risk.tooValuable(market);
    const notionalRuleError = market.hasRules ? notionalError(market, plan.cost) : undefined;
    if (notionalRuleError !== undefined) return { ok: false, error: notionalRuleError };
    // Locks exactly what the fills will pay, so the lock ends at zero.
    const lock = cmd.side === 'buy' ? plan.cost : quantity;
    const lockUnits = cmd.side === 'buy' ? BigInt(lock) : cmd.quantity;
    const lockIndex = lockIndexOf(market, cmd.side);
    const fundsError = this.risk.fundsError(account, lockIndex, lockUnits);
    if (fundsError !== undefined) return fundsError;
    // A market buy that costs nothing (sub-unit fills) needs no funds, hence maybe no account yet.
    const owner = account ?? this.state.newAccount(cmd.userId);
    const order = this.state.store.create(
      cmd.orderId, owner.index, market.index, lockIndex, cmd.side, 'market', 0, quantity, lock, cmd.timestamp,
      'FOK', false, cmd.selfTradePrevention, clientOrderId, undefined,
    );
    this.risk.lock(order, lock);
    return this.keptForRetries(owner, clientOrderId, order, this.execution.execute(order, lockUnits, undefined, cmd.quantity));
  }

  /**
   * A stop-market order (stops.ts): a sell locks its quantity; a buy what the quantity costs at
   * stopMarketBuyLockPrice (rounded up, as a limit buy's lock). Both are bounded as that limit order would be.
   */
  private placeStopMarket(cmd: PlaceMarketCommand, account: Account | undefined, clientOrderId: string | undefined, quantity: number): CommandResult {
    const market = this.state.marketsBySymbol.get(cmd.market)!;
    const stopPrice = Number(cmd.stopPrice);
    const stopError = stopPriceError(cmd.stopPrice!) ?? (market.hasRules ? tickError(market, 'stop_price', stopPrice) : undefined);
    if (stopError !== undefined) return { ok: false, error: stopError };
    const lockPrice = stopMarketBuyLockPrice(stopPrice);
    const value = buyLockAmount(lockPrice, quantity);
    if (lockPrice > ORDER_LIMIT || value > ORDER_LIMIT) return this.risk.tooValuable(market);
    // Its value for the minimum notional: its quantity at the stop price.
    const notionalRuleError = market.hasRules ? notionalError(market, quoteAmount(stopPrice, quantity)) : undefined;
    if (notionalRuleError !== undefined) return { ok: false, error: notionalRuleError };
    const lock = cmd.side === 'buy' ? value : quantity;
    const lockIndex = lockIndexOf(market, cmd.side);
    const fundsError = this.risk.fundsError(account, lockIndex, BigInt(lock)) ?? this.stopBoundError(market, account);
    if (fundsError !== undefined) return fundsError;
    const owner = account ?? this.state.newAccount(cmd.userId);
    const order = this.state.store.create(
      cmd.orderId, owner.index, market.index, lockIndex, cmd.side, 'market', 0, quantity, lock, cmd.timestamp,
      'FOK', false, cmd.selfTradePrevention, clientOrderId, undefined,
    );
    return this.placeStop(order, stopPrice, lock);
  }

  /** The rejection of one more waiting stop for a user who has the most allowed in the market. */
  private stopBoundError(market: Market, account: Account | undefined): CommandResult | undefined {
    const bound = this.state.maxStopsPerUserMarket;
    if (account === undefined ? bound > 0 : market.stops.waitingOf(account.index) < bound) return undefined;
    return reject('FAILED_PRECONDITION', 'stop_price', `stop_price: ${bound} stop orders are already waiting in ${market.symbol}, the most one user may have: cancel one first`);
  }

  /**
   * The rejection of an order that may rest, for a user who has the most resting orders allowed in
   * the market (counted at entry, as exchanges count open orders: even one that would fill at once).
   */
  private openOrdersBoundError(market: Market, account: Account | undefined): CommandResult | undefined {
    const bound = this.state.maxOpenOrdersPerUserMarket;
    if (account === undefined ? bound > 0 : market.book.restingOf(account.index) < bound) return undefined;
    return reject('FAILED_PRECONDITION', 'market', `market: ${bound} orders are already resting in ${market.symbol}, the most one user may have: cancel one first`);
  }

  /** A created stop order: its funds locked, it waits for its trigger. */
  private placeStop(order: OrderRef, stopPrice: number, lock: number): CommandResult {
    this.state.store.makeStop(order, stopPrice);
    this.risk.lock(order, lock);
    const view = this.execution.wait(order);
    return { ok: true, value: { kind: 'placed', order: view, trades: [] }, events: this.recorder.finish() };
  }

  /**
   * A one-cancels-other pair (PlaceOcoCommand): the stop waits, then the limit order executes; if
   * it trades at once, its first fill cancels the stop. Both locks must be available together.
   */
  private placeOco(cmd: PlaceOcoCommand): CommandResult {
    const market = this.state.marketsBySymbol.get(cmd.market);
    if (market === undefined) return invalid('market', `unknown market "${cmd.market}"`);
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    const fieldError = placementError(cmd, clientOrderId) ?? ocoPriceError(cmd);
    if (fieldError !== undefined) return { ok: false, error: fieldError };
    this.checkOrderId(cmd.orderId);
    this.checkOrderId(cmd.stopOrderId);
    if (cmd.stopOrderId === cmd.orderId) throw new Error(`order id ${cmd.orderId} given to both orders of a pair`);
    const account = this.state.accounts.get(cmd.userId);
    if (clientOrderId !== undefined && account !== undefined) {
      const repeat = this.repeatedPair(cmd, account, clientOrderId, market.index);
      if (repeat !== undefined) return repeat;
    }
    const quantity = Number(cmd.quantity);
    const price = Number(cmd.price);
    const stopPrice = Number(cmd.stopPrice);
    const stopLimit = cmd.stopLimitPrice === undefined ? undefined : Number(cmd.stopLimitPrice);
    const limitValue = buyLockAmount(price, quantity);
    const stopLockPrice = stopLimit ?? stopMarketBuyLockPrice(stopPrice);
    const stopValue = buyLockAmount(stopLockPrice, quantity);
    if (limitValue > ORDER_LIMIT || stopLockPrice > ORDER_LIMIT || stopValue > ORDER_LIMIT) return this.risk.tooValuable(market);
    if (market.hasRules) {
      const ruleError =
        instrumentRuleError(market, price, quantity) ??
        tickError(market, 'stop_price', stopPrice) ??
        (stopLimit === undefined ? undefined : tickError(market, 'stop_limit_price', stopLimit)) ??
        notionalError(market, quoteAmount(price, quantity)) ??
        // The stop order's value as it would be alone: at its limit price, or (a stop-market) at its stop price.
        notionalError(market, quoteAmount(stopLimit ?? stopPrice, quantity), stopLimit === undefined ? 'stop_price' : 'stop_limit_price', "the stop order's");
      if (ruleError !== undefined) return { ok: false, error: ruleError };
    }
    const buy = cmd.side === 'buy';
    const limitLock = buy ? limitValue : quantity;
    const stopLock = buy ? stopValue : quantity;
    const lockIndex = lockIndexOf(market, cmd.side);
    const fundsError =
      this.risk.fundsError(account, lockIndex, BigInt(limitLock) + BigInt(stopLock)) ?? this.stopBoundError(market, account) ?? this.openOrdersBoundError(market, account);
    if (fundsError !== undefined) return fundsError;

    const owner = account ?? this.state.newAccount(cmd.userId);
    const store = this.state.store;
    const stop = store.create(
      cmd.stopOrderId, owner.index, market.index, lockIndex, cmd.side, stopLimit === undefined ? 'market' : 'limit', stopLimit ?? 0, quantity,
      stopLock, cmd.timestamp, stopLimit === undefined ? 'FOK' : 'GTC', false, cmd.selfTradePrevention, undefined, undefined,
    );
    store.makeStop(stop, stopPrice);
    const order = store.create(
      cmd.orderId, owner.index, market.index, lockIndex, cmd.side, 'limit', price, quantity, limitLock, cmd.timestamp,
      'GTC', false, cmd.selfTradePrevention, clientOrderId, undefined,
    );
    if (clientOrderId !== undefined) owner.keepOcoRetry(clientOrderId, { stopOrderId: cmd.stopOrderId, stopPrice, stopLimitPrice: stopLimit, freed: undefined });
    store.linkOco(order, stop);
    this.risk.lock(stop, stopLock);
    this.execution.wait(stop);
    this.risk.lock(order, limitLock);
    const result = this.execution.execute(order, BigInt(limitLock), cmd.price, cmd.quantity);
    if (!result.ok || result.value.kind !== 'placed') return result;
    const value = { kind: 'placedOco' as const, order: result.value.order, stopOrder: store.view(stop), trades: result.value.trades };
    this.keptForRetries(owner, clientOrderId, order, result);
    return { ok: true, value, events: result.events };
  }

  /**
   * A pair whose client order id is retained: the same parameters are a retry, answered with both
   * orders as they are now (a freed stop as it ended) and the placement's trades; others are refused.
   */
  private repeatedPair(cmd: PlaceOcoCommand, account: Account, clientOrderId: string, marketIndex: number): CommandResult | undefined {
    const order = account.orderByClientOrderId(clientOrderId);
    if (order === NO_ORDER) return undefined;
    const store = this.state.store;
    const pair = account.ocoRetryOf(clientOrderId);
    if (pair === undefined || !samePair(store, order, pair, cmd, marketIndex, account.placedAsOf(clientOrderId))) {
      return this.clientOrderIdTaken(clientOrderId, store.id(order));
    }
    const view = store.view(order);
    const stopOrder = pair.freed === undefined ? store.view(this.state.orders.get(pair.stopOrderId)!) : freedStopView(view, pair);
    const value = { kind: 'placedOco' as const, order: view, stopOrder, trades: account.placementTradesOf(clientOrderId) };
    return { ok: true, value, events: this.recorder.finish() };
  }

  private clientOrderIdTaken(clientOrderId: string, orderId: number): CommandResult {
    return reject('ALREADY_EXISTS', 'client_order_id', `client_order_id: "${clientOrderId}" is already used by your order ${orderId}, with other parameters`);
  }

  /** The field checks, then the order id (a caller bug if not unused). */
  private checkPlacement(cmd: PlaceLimitCommand | PlaceMarketCommand, clientOrderId: string | undefined): EngineError | undefined {
    const fieldError = placementError(cmd, clientOrderId);
    if (fieldError !== undefined) return fieldError;
    this.checkOrderId(cmd.orderId);
    return undefined;
  }

  /** Order ids come from the sequencer, unique by contract: anything else is a bug, caught before it corrupts state. */
  private checkOrderId(orderId: number): void {
    if (!Number.isSafeInteger(orderId) || orderId <= 0) throw new Error(`order id ${orderId} is not a positive integer`);
    if (this.state.orders.has(orderId)) throw new Error(`order id ${orderId} reused`);
  }

  /**
   * A placement whose client order id is retained: the same parameters are a retry, answered with
   * that order as it is now and the trades it made when placed, changing nothing; others are refused.
   */
  private repeatedPlacement(
    cmd: PlaceLimitCommand | PlaceMarketCommand,
    account: Account,
    clientOrderId: string,
    marketIndex: number,
  ): CommandResult | undefined {
    const order = account.orderByClientOrderId(clientOrderId);
    if (order === NO_ORDER) return undefined;
    if (account.ocoRetryOf(clientOrderId) !== undefined || !samePlacement(this.state.store, order, cmd, marketIndex, account.placedAsOf(clientOrderId))) {
      return this.clientOrderIdTaken(clientOrderId, this.state.store.id(order));
    }
    const value = { kind: 'placed' as const, order: this.state.store.view(order), trades: account.placementTradesOf(clientOrderId) };
    return { ok: true, value, events: this.recorder.finish() };
  }

  /** Keeps an accepted placement's trades for retries of its client order id. */
  private keptForRetries(owner: Account, clientOrderId: string | undefined, order: OrderRef, result: CommandResult): CommandResult {
    if (clientOrderId !== undefined && result.ok && result.value.kind === 'placed' && result.value.trades.length > 0) {
      owner.keepPlacementTrades(clientOrderId, order, result.value.trades);
    }
    return result;
  }

  /**
   * The caller's retained order that a cancel or amend names, by order id or client order id; or
   * the rejection. Unknown and someone else's order get the same answer: never reveal that an id exists.
   */
  private ownOrder(cmd: CancelCommand | AmendCommand): { order: OrderRef; field: string; name: string } | CommandResult {
    const byClientOrderId = cmd.clientOrderId !== undefined;
    const field = byClientOrderId ? 'client_order_id' : 'order_id';
    const name = byClientOrderId ? `order "${cmd.clientOrderId}"` : `order ${cmd.orderId}`;
    if (byClientOrderId && !isClientOrderId(cmd.clientOrderId!)) return invalid(field, 'must be 1 to 64 printable ASCII characters');
    const order = byClientOrderId ? this.queries.ownOrderByClientOrderId(cmd.userId, cmd.clientOrderId!) : this.queries.ownOrder(cmd.userId, cmd.orderId);
    if (order === NO_ORDER) return reject('NOT_FOUND', field, `${field}: ${name} not found`);
    return { order, field, name };
  }

  private cancel(cmd: CancelCommand): CommandResult {
    const found = this.ownOrder(cmd);
    if (!('order' in found)) return found;
    const { order, field, name } = found;
    const store = this.state.store;
    const releasedAsset = this.state.assets[store.lockIndex(order)]!;
    if (!store.isOpen(order)) {
      // A repeated cancel (a retry after a lost answer) gets the order again, with nothing more released.
      if (store.status(order) === 'cancelled') {
        return { ok: true, value: { kind: 'cancelled', order: store.view(order), releasedAsset, releasedAmount: 0n }, events: this.recorder.finish() };
      }
      return reject('FAILED_PRECONDITION', field, `${field}: ${name} is already ${store.status(order)}`);
    }
    const releasedAmount = BigInt(store.locked(order));
    const view = this.execution.cancel(order, 'user', undefined, undefined);
    return { ok: true, value: { kind: 'cancelled', order: view, releasedAsset, releasedAmount }, events: this.recorder.finish() };
  }

  /** The user's open orders of the market and side asked for, cancelled oldest (lowest id) first. */
  private cancelAll(cmd: CancelAllCommand): CommandResult {
    const market = cmd.market === undefined ? undefined : this.state.marketsBySymbol.get(cmd.market);
    if (cmd.market !== undefined && market === undefined) return invalid('market', `unknown market "${cmd.market}"`);
    if (cmd.side !== undefined && cmd.side !== 'buy' && cmd.side !== 'sell') return invalid('side', 'must be buy or sell');
    const account = this.state.accounts.get(cmd.userId);
    const store = this.state.store;
    const chosen = (account?.openOrders(store) ?? []).filter(
      (o) => (market === undefined || store.marketIndex(o) === market.index) && (cmd.side === undefined || store.side(o) === cmd.side),
    );
    return { ok: true, value: this.cancelEach(chosen, 'user'), events: this.recorder.finish() };
  }

  /**
   * Cancels open orders oldest (lowest id) first — by id, not by the open list, whose order a
   * snapshot does not keep: the same events after a restore — and sums what they release.
   */
  private cancelEach(orders: OrderRef[], reason: CancelReason): CancelAllResult {
    const store = this.state.store;
    orders.sort((a, b) => store.id(a) - store.id(b));
    // Both orders of a pair chosen: each is cancelled for `reason`, not the second as the first's partner.
    const chosen = new Set(orders);
    for (const order of orders) if (store.hasOcoPartner(order) && chosen.has(store.ocoPartner(order))) this.execution.unpair(order);
    const released = new Map<string, bigint>();
    for (const order of orders) {
      const asset = this.state.assets[store.lockIndex(order)]!;
      released.set(asset, (released.get(asset) ?? 0n) + BigInt(store.locked(order)));
      this.execution.cancel(order, reason, undefined, undefined);
    }
    const amounts = [...released].sort(([a], [b]) => (a < b ? -1 : 1)).map(([asset, amount]) => ({ asset, amount }));
    return { kind: 'cancelledAll', count: orders.length, released: amounts };
  }

  /** Cancel on disconnect: those of the session's orders that are the user's and still open. */
  private cancelSession(cmd: CancelSessionCommand): CommandResult {
    const userError = userIdError(cmd.userId);
    if (userError !== undefined) return { ok: false, error: userError };
    if (!Array.isArray(cmd.orderIds) || !cmd.orderIds.every((id) => Number.isSafeInteger(id) && id > 0)) {
      return invalid('order_ids', 'must be positive integers');
    }
    const store = this.state.store;
    const chosen = new Set<OrderRef>();
    for (const id of cmd.orderIds) {
      const order = this.queries.ownOrder(cmd.userId, id);
      if (order !== NO_ORDER && store.isOpen(order)) chosen.add(order);
    }
    return { ok: true, value: this.cancelEach([...chosen], 'disconnect'), events: this.recorder.finish() };
  }

  /** Arms (or renews) the user's dead-man switch, or disarms it (timeout 0). */
  private cancelAllAfter(cmd: CancelAllAfterCommand): CommandResult {
    const error = userIdError(cmd.userId) ?? deadManTimeoutError(cmd.timeoutSeconds);
    if (error !== undefined) return { ok: false, error };
    const deadMan = this.state.timers.deadMan;
    let triggerTime: number | undefined;
    if (cmd.timeoutSeconds === 0) {
      const account = this.state.accounts.get(cmd.userId);
      if (account !== undefined) deadMan.delete(account.index);
    } else {
      const account = this.state.accounts.get(cmd.userId) ?? this.state.newAccount(cmd.userId);
      triggerTime = cmd.timestamp + cmd.timeoutSeconds * 1000;
      deadMan.set(account.index, triggerTime);
    }
    return { ok: true, value: { kind: 'cancelAllAfterSet', currentTime: cmd.timestamp, triggerTime }, events: this.recorder.finish() };
  }

  /**
   * Fires every timer due at the command's timestamp, earliest first: at the same instant
   * dead-man switches before expiries (see ExpireCommand). Each timer leaves its queue before it
   * fires, so the loop ends.
   */
  private expire(cmd: ExpireCommand): CommandResult {
    const { expiries, deadMan } = this.state.timers;
    const store = this.state.store;
    let expiredOrders = 0;
    let deadManSwitches = 0;
    let deadManOrders = 0;
    for (;;) {
      const switchAt = deadMan.peekDeadline();
      const expiryAt = expiries.peekDeadline();
      if (switchAt <= cmd.timestamp && switchAt <= expiryAt) {
        const account = this.state.accountList[deadMan.peekKey()]!;
        deadMan.delete(account.index);
        const orders = account.openOrders(store);
        deadManSwitches++;
        deadManOrders += orders.length;
        this.cancelEach(orders, 'dead_man');
      } else if (expiryAt <= cmd.timestamp) {
        const orderId = expiries.peekKey();
        expiries.delete(orderId);
        this.execution.cancel(this.state.orders.get(orderId), 'expired', undefined, undefined);
        expiredOrders++;
      } else {
        break;
      }
    }
    return { ok: true, value: { kind: 'expired', expiredOrders, deadManSwitches, deadManOrders }, events: this.recorder.finish() };
  }

  /** See AmendCommand. Every check comes first: a refused amendment changes nothing. */
  private amend(cmd: AmendCommand): CommandResult {
    const fieldError = amendError(cmd.price, cmd.quantity);
    if (fieldError !== undefined) return { ok: false, error: fieldError };
    const found = this.ownOrder(cmd);
    if (!('order' in found)) return found;
    const { order, field, name } = found;
    const store = this.state.store;
    if (!store.isOpen(order)) return reject('FAILED_PRECONDITION', field, `${field}: ${name} is already ${store.status(order)}`);
    // Named by the property that forbids it: the order's stop price, or its pair.
    if (store.isWaiting(order)) {
      return reject('FAILED_PRECONDITION', 'stop_price', `stop_price: ${name} is a stop order waiting for its trigger: cancel it and place another`);
    }
    if (store.hasOcoPartner(order)) {
      return reject('FAILED_PRECONDITION', 'oco_order_id', `oco_order_id: ${name} is one order of a one-cancels-other pair: cancel the pair and place another`);
    }
    const market = this.state.marketOf(order);
    const oldPrice = store.price(order);
    const price = cmd.price === undefined ? oldPrice : Number(cmd.price);
    const quantity = cmd.quantity === undefined ? store.quantity(order) : Number(cmd.quantity);
    const filled = store.filled(order);
    if (quantity <= filled) return reject('FAILED_PRECONDITION', 'quantity', `quantity: must be above the filled quantity ${formatQuantity(BigInt(filled))}`);
    if (buyLockAmount(price, quantity) > ORDER_LIMIT) return this.risk.tooValuable(market);
    if (market.hasRules) {
      const ruleError = instrumentRuleError(market, price, quantity) ?? notionalError(market, quoteAmount(price, quantity));
      if (ruleError !== undefined) return { ok: false, error: ruleError };
    }
    const keepsPlace = quantity <= store.quantity(order);
    const side = store.side(order);
    if (price !== oldPrice && store.postOnly(order) && wouldCross(market.book, side, price)) {
      return reject('FAILED_PRECONDITION', 'post_only', 'post_only: the amended order would trade');
    }
    const remaining = quantity - filled;
    const lock = side === 'buy' ? buyLockAmount(price, remaining) : remaining;
    const more = lock - store.locked(order);
    if (more > 0) {
      const fundsError = this.risk.fundsError(this.state.accountOf(order), store.lockIndex(order), BigInt(more));
      if (fundsError !== undefined) return fundsError;
    }

    const clientOrderId = store.clientOrderId(order);
    if (clientOrderId !== undefined) {
      this.state.accountOf(order).keepPlacedAs(clientOrderId, order, { price: oldPrice, quantity: store.quantity(order) });
    }
    this.risk.relock(order, lock);
    if (price === oldPrice) {
      // It cannot cross at the price it rested at: it stays in its level, in place or at the back.
      const level = market.book.levelOf(order);
      if (keepsPlace) level.reduce(BigInt(store.remaining(order) - remaining));
      else level.remove(store, order);
      store.amend(order, price, quantity, cmd.timestamp);
      if (!keepsPlace) level.append(store, order);
      this.recorder.level(market.book, level);
      const view = store.view(order);
      this.recorder.push({ type: 'orderUpdated', order: view, trade: undefined });
      return { ok: true, value: { kind: 'amended', order: view, trades: [] }, events: this.recorder.finish() };
    }
    this.recorder.level(market.book, market.book.remove(order));
    store.amend(order, price, quantity, cmd.timestamp);
    return this.execution.reenter(order);
  }

  /** See ConfigureCommand. */
  private configure(cmd: ConfigureCommand): CommandResult {
    const limits = cmd.limits;
    const wrong = typeof limits === 'object' && limits !== null ? invalidLimit(limits) : 'limits';
    if (wrong !== undefined) return invalid(wrong, 'must be a non-negative integer');
    const previous = this.state.limits;
    this.state.setLimits(copyOfLimits(limits));
    return { ok: true, value: { kind: 'configured', previous, limits: this.state.limits }, events: this.recorder.finish() };
  }

  private deposit(cmd: DepositCommand): CommandResult {
    const userError = userIdError(cmd.userId);
    if (userError !== undefined) return { ok: false, error: userError };
    const index = this.state.assetIndex.get(cmd.asset);
    if (index === undefined) return invalid('asset', `unknown asset "${cmd.asset}"`);
    const error = amountError(cmd.amount);
    if (error !== undefined) return { ok: false, error };
    const requestId = cmd.requestId === '' ? undefined : cmd.requestId;
    if (requestId !== undefined && !isClientOrderId(requestId)) return invalid('request_id', 'must be 1 to 64 printable ASCII characters');
    if (cmd.adminId !== undefined && !isAdminId(cmd.adminId)) return invalid('admin_id', 'must not be empty');
    if (cmd.reference !== undefined && !isReference(cmd.reference)) return invalid('reference', `must be 1 to ${REFERENCE_MAX_LENGTH} printable ASCII characters`);
    const ledger = this.state.balances;
    const known = this.state.accounts.get(cmd.userId);
    const earlier = requestId === undefined ? undefined : known?.depositRequest(requestId);
    if (earlier !== undefined) {
      // Deposits journaled before the ledger existed have no entry: no reference.
      const reference = this.state.ledger.deposit(known!.index, requestId!)?.reference;
      if (earlier.asset !== cmd.asset || earlier.amount !== cmd.amount || reference !== cmd.reference) {
        return reject('ALREADY_EXISTS', 'request_id', `request_id: "${requestId}" is already used by a deposit of another asset, amount or reference`);
      }
      const ref = ledger.ref(known!.index, index);
      const balance = { asset: cmd.asset, available: ledger.available(ref), locked: ledger.locked(ref) };
      return { ok: true, value: { kind: 'deposited', userId: cmd.userId, balance }, events: this.recorder.finish() };
    }
    if (!ledger.canDeposit(index, cmd.amount)) {
      return invalid('amount', `the total ${cmd.asset} held by all users would exceed the maximum ${formatAmount(MAX_UNITS)}`);
    }
    const account = this.state.accounts.get(cmd.userId) ?? this.state.newAccount(cmd.userId);
    const ref = ledger.ref(account.index, index);
    ledger.deposit(ref, cmd.amount);
    if (requestId !== undefined) account.rememberDeposit(requestId, { asset: cmd.asset, amount: cmd.amount });
    this.state.ledger.record(account.index, {
      seq: cmd.seq, timestamp: cmd.timestamp, kind: 'deposit', asset: cmd.asset, amount: cmd.amount,
      ...(requestId === undefined ? {} : { requestId }), ...(cmd.adminId === undefined ? {} : { adminId: cmd.adminId }),
      ...(cmd.reference === undefined ? {} : { reference: cmd.reference }), balanceAfter: ledger.available(ref),
    });
    this.recorder.balance(ref);
    const balance = { asset: cmd.asset, available: ledger.available(ref), locked: ledger.locked(ref) };
    return { ok: true, value: { kind: 'deposited', userId: cmd.userId, balance }, events: this.recorder.finish() };
  }

  // ---- queries (queries.ts) -----------------------------------------------------------------

  markets(): readonly MarketConfig[] {
    return this.queries.markets();
  }

  getOrder(userId: string, orderId: number): OrderView | undefined {
    return this.queries.getOrder(userId, orderId);
  }

  listOrders(userId: string, query: ListOrdersQuery): readonly OrderView[] {
    return this.queries.listOrders(userId, query);
  }

  depth(market: string, levels: number): DepthView | undefined {
    return this.queries.depth(market, levels);
  }

  balances(userId: string): readonly BalanceView[] {
    return this.queries.balances(userId);
  }

  listFills(userId: string, query: ListFillsQuery): readonly FillView[] {
    return this.queries.listFills(userId, query);
  }

  recentTrades(market: string, limit: number): readonly TradeView[] | undefined {
    return this.queries.recentTrades(market, limit);
  }

  ticker(market: string, now: number): TickerView | undefined {
    return this.queries.ticker(market, now);
  }

  candles(market: string, intervalMinutes: number, now: number, limit: number): readonly CandleView[] | undefined {
    return this.queries.candles(market, intervalMinutes, now, limit);
  }

  ledger(userId: string, query: LedgerQuery): readonly LedgerEntryView[] {
    return this.queries.ledger(userId, query);
  }

  lastSeq(): number {
    return this.state.lastSeq;
  }

  limits(): EngineLimits {
    return this.queries.limits();
  }

  nextDeadline(): number {
    return this.queries.nextDeadline();
  }

  deadManDeadline(userId: string): number | undefined {
    return this.queries.deadManDeadline(userId);
  }
}
