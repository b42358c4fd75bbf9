/**
 * The engine: applies commands in sequence order to the books and accounts, one at a time, and
 * answers queries. Deterministic: no clock, no randomness, no I/O — ids, seqs and timestamps come
 * in with the commands, so replaying the same commands reproduces the same state.
 *
 * Every command is validated completely before anything changes, so a rejected command
 * (ok: false) leaves the state as it was and emits nothing. Its seq is still consumed: lastSeq()
 * advances for every command, accepted or rejected, and stateHash() leaves lastSeq out.
 *
 * Self-trade prevention defaults to cancel_resting (see matching.ts): the service fills it in
 * when a request leaves it unspecified.
 */
import type {
  BalanceView,
  CancelCommand,
  Command,
  CommandResult,
  DepositCommand,
  DepthView,
  EngineConfig,
  EngineError,
  EngineErrorCode,
  EngineQueries,
  ListOrdersQuery,
  MarketConfig,
  OrderView,
  PlaceLimitCommand,
  PlaceMarketCommand,
  Side,
  TradeView,
} from './api';
import { Account } from './account';
import { Balances } from './balances';
import { EventRecorder } from './events';
import { BalanceFaultError } from './faults';
import { AMOUNT_DECIMALS, formatAmount, MAX_ORDER_UNITS, MAX_UNITS, PRICE_DECIMALS, QUANTITY_DECIMALS, unitsChecker } from './fixed-point';
import { Market } from './market';
import * as matching from './matching';
import type { FillHandler } from './matching';
import { OrderIndex } from './order-index';
import { NO_ORDER as NONE, type OrderRef, OrderStore } from './order-store';
import type { PriceLevel } from './price-level';
import * as settlement from './settlement';
import { type EngineState, readSnapshot, stateHash, writeSnapshot } from './snapshot';

/**
 * Module-local copies of what the command path uses: tsx (esbuild) compiles each use of an
 * imported binding into getter calls, measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;
const { matchOrder, planTake, wouldCross } = matching;
const { buyLockAmount, quoteAmount, settleFill } = settlement;
const ORDER_LIMIT = MAX_ORDER_UNITS;

// Plain comparisons rather than Set.has: measured far cheaper on the placement path.
const isSide = (v: unknown): boolean => v === 'buy' || v === 'sell';
const isTimeInForce = (v: unknown): boolean => v === 'GTC' || v === 'IOC' || v === 'FOK';
const isSelfTradePrevention = (v: unknown): boolean => v === 'cancel_resting' || v === 'cancel_taker' || v === 'cancel_both';
/** The service's rule for client order ids: 1 to 64 printable ASCII characters. */
const CLIENT_ORDER_ID = /^[\x20-\x7e]{1,64}$/;
const MAX_ORDER = BigInt(MAX_ORDER_UNITS);
const checkPrice = unitsChecker(PRICE_DECIMALS, 'price', MAX_ORDER);
const checkQuantity = unitsChecker(QUANTITY_DECIMALS, 'quantity', MAX_ORDER);
const checkAmount = unitsChecker(AMOUNT_DECIMALS, 'amount');
/** The trades of a placement that traded nothing: shared, as most placements do not trade. */
const NO_TRADES: TradeView[] = [];
Object.freeze(NO_TRADES);

function failure(code: EngineErrorCode, field: string | undefined, message: string): EngineError {
  return field === undefined ? { code, message } : { code, field, message };
}

function reject(code: EngineErrorCode, field: string | undefined, message: string): CommandResult {
  return { ok: false, error: failure(code, field, message) };
}

const invalidArgument = (field: string, what: string): EngineError => failure('INVALID_ARGUMENT', field, `${field}: ${what}`);
const invalid = (field: string, what: string): CommandResult => ({ ok: false, error: invalidArgument(field, what) });
const lockIndexOf = (market: Market, side: Side): number => (side === 'buy' ? market.quoteIndex : market.baseIndex);

export class Engine implements EngineQueries, FillHandler {
  private readonly state: EngineState;
  private readonly store: OrderStore;
  private readonly marketsBySymbol = new Map<string, Market>();
  private readonly assetIndex = new Map<string, number>();
  private readonly ledger: Balances;
  private readonly recorder: EventRecorder;
  /** Timestamp of the command being applied. */
  private now = 0;
  /** Trades of the command being applied. */
  private trades: TradeView[] = [];
  /** Latest view of the incoming order of the command being applied. */
  private takerView: OrderView | undefined = undefined;
  /** The incoming order's price (undefined for market orders) and quantity as its command carried them. */
  private takerPrice: bigint | undefined = undefined;
  private takerQuantity = 0n;

  constructor(private readonly config: EngineConfig) {
    const retain = config.closedOrdersRetainedPerUser;
    if (!Number.isSafeInteger(retain) || retain < 0) throw new Error('closedOrdersRetainedPerUser must be a non-negative integer');
    const assets: string[] = [];
    const indexOf = (asset: string): number => {
      if (typeof asset !== 'string' || asset.length === 0) throw new Error('market assets must be non-empty strings');
      let index = this.assetIndex.get(asset);
      if (index === undefined) {
        index = assets.push(asset) - 1;
        this.assetIndex.set(asset, index);
      }
      return index;
    };
    const markets: Market[] = [];
    const accountList: Account[] = [];
    this.store = new OrderStore(accountList, markets);
    for (const mc of config.markets) {
      if (this.marketsBySymbol.has(mc.symbol)) throw new Error(`duplicate market ${mc.symbol}`);
      if (mc.base === mc.quote) throw new Error(`market ${mc.symbol} trades ${mc.base} against itself`);
      const market = new Market(mc, markets.length, indexOf(mc.base), indexOf(mc.quote), this.store);
      markets.push(market);
      this.marketsBySymbol.set(mc.symbol, market);
    }
    this.ledger = new Balances(assets);
    this.recorder = new EventRecorder(this.ledger, accountList);
    this.state = {
      markets, assets, accounts: new Map(), accountList, store: this.store, orders: new OrderIndex(), balances: this.ledger,
      lastSeq: 0, nextTradeId: 1,
    };
  }

  /** Whole state as deterministic JSON text (amounts as decimal strings). */
  snapshot(): string {
    return writeSnapshot(this.state);
  }

  static restore(config: EngineConfig, snapshot: string): Engine {
    const engine = new Engine(config);
    readSnapshot(engine.state, snapshot, (userId) => engine.newAccount(userId));
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
    this.now = cmd.timestamp;
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
      default:
        throw new Error(`unknown command kind ${(cmd as { kind: unknown }).kind}`);
    }
    this.state.lastSeq = cmd.seq;
    return result;
  }

  // ---- commands -----------------------------------------------------------------------------

  private placeLimit(cmd: PlaceLimitCommand): CommandResult {
    const market = this.marketsBySymbol.get(cmd.market);
    if (market === undefined) return invalid('market', `unknown market "${cmd.market}"`);
    const account = this.state.accounts.get(cmd.userId);
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    const placementError = this.checkPlacement(cmd, account, clientOrderId);
    if (placementError !== undefined) return { ok: false, error: placementError };
    const priceError = checkPrice(cmd.price);
    if (priceError !== undefined) return { ok: false, error: priceError };
    if (!isTimeInForce(cmd.timeInForce)) return invalid('time_in_force', 'must be GTC, IOC or FOK');
    if (typeof cmd.postOnly !== 'boolean') return invalid('post_only', 'must be a boolean');
    if (cmd.postOnly && cmd.timeInForce !== 'GTC') return invalid('post_only', 'requires time_in_force GTC');
    const price = Number(cmd.price);
    const quantity = Number(cmd.quantity);
    // Bounded for sells too, so that any fill's quote amount is below 2^53 whoever the taker is.
    const value = buyLockAmount(price, quantity);
    if (value > ORDER_LIMIT) return this.tooValuable(market);

    const lock = cmd.side === 'buy' ? value : quantity;
    const lockUnits = cmd.side === 'buy' ? BigInt(lock) : cmd.quantity;
    const fundsError = this.checkFunds(account, lockIndexOf(market, cmd.side), lockUnits);
    if (fundsError !== undefined) return fundsError;
    if (cmd.postOnly && wouldCross(market.book, cmd.side, price)) {
      return reject('FAILED_PRECONDITION', 'post_only', 'post_only: the order would trade on arrival');
    }
    if (
      cmd.timeInForce === 'FOK' &&
      planTake(this.store, market.book, account, cmd.side, price, quantity, cmd.selfTradePrevention).filled !== quantity
    ) {
      return reject('FAILED_PRECONDITION', 'time_in_force', 'time_in_force: FOK order cannot be filled completely now');
    }
    const order = this.store.create(
      cmd.orderId, account ?? this.newAccount(cmd.userId), market, cmd.side, 'limit', price, quantity, lock, cmd.timestamp,
      cmd.timeInForce, cmd.postOnly, cmd.selfTradePrevention, clientOrderId,
    );
    return this.execute(order, lockUnits, cmd.price, cmd.quantity);
  }

  /** Market orders are all-or-nothing: they fill completely now, or are rejected and change nothing. */
  private placeMarket(cmd: PlaceMarketCommand): CommandResult {
    const market = this.marketsBySymbol.get(cmd.market);
    if (market === undefined) return invalid('market', `unknown market "${cmd.market}"`);
    const account = this.state.accounts.get(cmd.userId);
    const clientOrderId = cmd.clientOrderId === '' ? undefined : cmd.clientOrderId;
    const placementError = this.checkPlacement(cmd, account, clientOrderId);
    if (placementError !== undefined) return { ok: false, error: placementError };
    const quantity = Number(cmd.quantity);
    const plan = planTake(this.store, market.book, account, cmd.side, undefined, quantity, cmd.selfTradePrevention);
    if (plan.stoppedBySelfTrade) {
      return reject('FAILED_PRECONDITION', 'self_trade_prevention', 'self_trade_prevention: the market order would trade with your own order');
    }
    if (plan.filled !== quantity) {
      return reject('FAILED_PRECONDITION', 'quantity', 'quantity: insufficient liquidity for market order');
    }
    if (plan.cost > ORDER_LIMIT) return this.tooValuable(market);
    // Locks exactly what the fills will pay, so the lock ends at zero.
    const lock = cmd.side === 'buy' ? plan.cost : quantity;
    const lockUnits = cmd.side === 'buy' ? BigInt(lock) : cmd.quantity;
    const fundsError = this.checkFunds(account, lockIndexOf(market, cmd.side), lockUnits);
    if (fundsError !== undefined) return fundsError;
    // A market buy that costs nothing (sub-unit fills) needs no funds, hence maybe no account yet.
    const order = this.store.create(
      cmd.orderId, account ?? this.newAccount(cmd.userId), market, cmd.side, 'market', 0, quantity, lock, cmd.timestamp,
      'FOK', false, cmd.selfTradePrevention, clientOrderId,
    );
    return this.execute(order, lockUnits, undefined, cmd.quantity);
  }

  private tooValuable(market: Market): CommandResult {
    const max = formatAmount(MAX_ORDER);
    return invalid('quantity', `the order is worth more than the maximum ${max} ${market.config.quote}`);
  }

  private cancel(cmd: CancelCommand): CommandResult {
    // Unknown and someone else's order get the same answer: never reveal that an id exists.
    const order = this.ownOrder(cmd.userId, cmd.orderId);
    if (order === NO_ORDER) return reject('NOT_FOUND', 'order_id', `order_id: order ${cmd.orderId} not found`);
    const store = this.store;
    if (!store.isOpen(order)) {
      return reject('FAILED_PRECONDITION', 'order_id', `order_id: order ${cmd.orderId} is already ${store.status(order)}`);
    }
    const releasedAmount = BigInt(store.locked(order));
    const releasedAsset = this.state.assets[store.lockIndex(order)]!;
    store.cancel(order, 'user', this.now);
    this.unlock(order);
    const view = store.view(order, undefined, undefined, undefined, 0n);
    this.retire(order);
    this.recorder.push({ type: 'orderUpdated', order: view, trade: undefined });
    return { ok: true, value: { kind: 'cancelled', order: view, releasedAsset, releasedAmount }, events: this.recorder.finish() };
  }

  private deposit(cmd: DepositCommand): CommandResult {
    if (typeof cmd.userId !== 'string' || cmd.userId.length === 0) return invalid('user_id', 'must not be empty');
    const index = this.assetIndex.get(cmd.asset);
    if (index === undefined) return invalid('asset', `unknown asset "${cmd.asset}"`);
    const amountError = checkAmount(cmd.amount);
    if (amountError !== undefined) return { ok: false, error: amountError };
    if (!this.ledger.canDeposit(index, cmd.amount)) {
      return invalid('amount', `the total ${cmd.asset} held by all users would exceed the maximum ${formatAmount(MAX_UNITS)}`);
    }
    const account = this.state.accounts.get(cmd.userId) ?? this.newAccount(cmd.userId);
    const ref = this.ledger.ref(account.index, index);
    this.ledger.deposit(ref, cmd.amount);
    this.recorder.balance(ref);
    const balance = { asset: cmd.asset, available: this.ledger.available(ref), locked: this.ledger.locked(ref) };
    return { ok: true, value: { kind: 'deposited', userId: cmd.userId, balance }, events: this.recorder.finish() };
  }

  // ---- validation ---------------------------------------------------------------------------

  /** Checks what limit and market orders share. An empty client order id means none (proto3 strings cannot be absent). */
  private checkPlacement(
    cmd: PlaceLimitCommand | PlaceMarketCommand,
    account: Account | undefined,
    clientOrderId: string | undefined,
  ): EngineError | undefined {
    if (typeof cmd.userId !== 'string' || cmd.userId.length === 0) return invalidArgument('user_id', 'must not be empty');
    if (!isSide(cmd.side)) return invalidArgument('side', 'must be buy or sell');
    const quantityError = checkQuantity(cmd.quantity);
    if (quantityError !== undefined) return quantityError;
    if (!isSelfTradePrevention(cmd.selfTradePrevention)) {
      return invalidArgument('self_trade_prevention', 'must be cancel_resting, cancel_taker or cancel_both');
    }
    if (clientOrderId !== undefined && !CLIENT_ORDER_ID.test(clientOrderId)) {
      return invalidArgument('client_order_id', 'must be 1 to 64 printable ASCII characters');
    }
    // Order ids come from the sequencer, unique by contract: anything else is a bug, caught before it corrupts state.
    if (!Number.isSafeInteger(cmd.orderId) || cmd.orderId <= 0) throw new Error(`order id ${cmd.orderId} is not a positive integer`);
    if (this.state.orders.has(cmd.orderId)) throw new Error(`order id ${cmd.orderId} reused`);
    if (clientOrderId !== undefined && account?.hasClientOrderId(clientOrderId)) {
      return failure('ALREADY_EXISTS', 'client_order_id', `client_order_id: "${clientOrderId}" is already used by one of your orders`);
    }
    return undefined;
  }

  private checkFunds(account: Account | undefined, assetIndex: number, amount: bigint): CommandResult | undefined {
    const available = account === undefined ? 0n : this.ledger.available(this.ledger.ref(account.index, assetIndex));
    if (available >= amount) return undefined;
    const asset = this.state.assets[assetIndex]!;
    return reject(
      'FAILED_PRECONDITION',
      undefined,
      `insufficient ${asset}: available ${formatAmount(available)}, required ${formatAmount(amount)}`,
    );
  }

  // ---- execution ----------------------------------------------------------------------------

  /** Accepts a checked order: locks its funds, matches it, then rests or cancels what is left. */
  private execute(order: OrderRef, lockUnits: bigint, price: bigint | undefined, quantity: bigint): CommandResult {
    const store = this.store;
    const recorder = this.recorder;
    this.state.orders.add(store.id(order), order);
    const account = store.account(order);
    const lockBalance = this.ledger.ref(account.index, store.lockIndex(order));
    this.ledger.lock(lockBalance, lockUnits);
    recorder.balance(lockBalance);
    account.addOpen(store, order);
    this.trades = NO_TRADES;
    this.takerPrice = price;
    this.takerQuantity = quantity;
    this.takerView = store.view(order, price, quantity, 0n, lockUnits);
    recorder.push({ type: 'orderAccepted', order: this.takerView });

    const book = store.market(order).book;
    const stopped = matchOrder(store, book, order, this);
    if (store.remaining(order) > 0) {
      if (!stopped && store.type(order) === 'limit' && store.timeInForce(order) === 'GTC') {
        recorder.level(book, book.add(order));
      } else {
        store.cancel(order, stopped ? 'self_trade' : 'ioc', this.now);
        this.unlock(order);
        this.takerView = store.view(order, price, quantity, undefined, 0n);
        this.retire(order);
        recorder.push({ type: 'orderUpdated', order: this.takerView, trade: undefined });
      }
    }
    const value = { kind: 'placed' as const, order: this.takerView, trades: this.trades };
    return { ok: true, value, events: recorder.finish() };
  }

  /** FillHandler: one fill at the maker's price, settled from both orders' locks. */
  fill(maker: OrderRef, level: PriceLevel, taker: OrderRef, quantity: number): void {
    const store = this.store;
    const recorder = this.recorder;
    const market = store.market(taker);
    const quote = quoteAmount(level.price, quantity);
    const quantityUnits = BigInt(quantity);
    const quoteUnits = BigInt(quote);
    const takerBuys = store.isBuy(taker);
    const makerAccount = store.account(maker);
    const takerAccount = store.account(taker);
    if (takerBuys) settleFill(this.ledger, market, takerAccount, makerAccount, quantityUnits, quoteUnits, recorder);
    else settleFill(this.ledger, market, makerAccount, takerAccount, quantityUnits, quoteUnits, recorder);
    this.takeFromLock(maker, takerBuys ? quantity : quote);
    this.takeFromLock(taker, takerBuys ? quote : quantity);

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
      makerUserId: makerAccount.userId,
      takerUserId: takerAccount.userId,
      takerSide: takerBuys ? 'buy' : 'sell',
      timestamp: this.now,
      seq: this.state.lastSeq + 1,
    };
    if (this.trades === NO_TRADES) this.trades = [];
    this.trades.push(trade);
    const makerView = this.viewAfterFill(maker, level.priceUnits, undefined);
    this.takerView = this.viewAfterFill(taker, this.takerPrice, this.takerQuantity);
    recorder.push({ type: 'trade', trade });
    recorder.push({ type: 'orderUpdated', order: makerView, trade });
    recorder.push({ type: 'orderUpdated', order: this.takerView, trade });
  }

  /** Pays `amount` of a fill out of the order's own lock, which must cover it (else: an engine fault). */
  private takeFromLock(order: OrderRef, amount: number): void {
    const locked = this.store.locked(order);
    if (amount > locked) throw new BalanceFaultError(`fill payment from order ${this.store.id(order)}'s lock`, locked, amount);
    this.store.setLocked(order, locked - amount);
  }

  /** The order's view after a fill, closing it if the fill completed it. */
  private viewAfterFill(order: OrderRef, price: bigint | undefined, quantity: bigint | undefined): OrderView {
    if (this.store.remaining(order) > 0) return this.store.view(order, price, quantity);
    this.unlock(order);
    const view = this.store.view(order, price, quantity, undefined, 0n);
    this.retire(order);
    return view;
  }

  /** FillHandler: self-trade prevention cancels a resting order of the taker's user. */
  cancelResting(maker: OrderRef): void {
    this.store.cancel(maker, 'self_trade', this.now);
    this.unlock(maker);
    const view = this.store.view(maker, undefined, undefined, undefined, 0n);
    this.retire(maker);
    this.recorder.push({ type: 'orderUpdated', order: view, trade: undefined });
  }

  /**
   * First half of closing a filled or cancelled order: it leaves the book and gives back what it
   * still locks (for a buy: price improvement and rounding dust).
   */
  private unlock(order: OrderRef): void {
    const store = this.store;
    if (store.isOnBook(order)) {
      const book = store.market(order).book;
      this.recorder.level(book, book.remove(order));
    }
    const locked = store.locked(order);
    if (locked > 0) {
      const balance = this.ledger.ref(store.account(order).index, store.lockIndex(order));
      this.ledger.release(balance, BigInt(locked));
      store.setLocked(order, 0);
      this.recorder.balance(balance);
    }
  }

  /**
   * Second half, once its final view is taken: it joins its user's retained closed orders, which
   * may evict and free the oldest of them (the order itself when nothing is retained).
   */
  private retire(order: OrderRef): void {
    this.store.account(order).close(this.store, this.state.orders, order);
  }

  private newAccount(userId: string): Account {
    const accounts = this.state.accountList;
    const account = new Account(userId, accounts.length, this.config.closedOrdersRetainedPerUser);
    accounts.push(account);
    this.ledger.addAccount(account.index);
    this.state.accounts.set(userId, account);
    return account;
  }

  // ---- queries ------------------------------------------------------------------------------

  markets(): readonly MarketConfig[] {
    return this.config.markets;
  }

  /** The order if it is retrievable and `userId`'s, else NO_ORDER. */
  private ownOrder(userId: string, orderId: number): OrderRef {
    const order = this.state.orders.get(orderId);
    return order !== NO_ORDER && this.store.account(order).userId === userId ? order : NO_ORDER;
  }

  getOrder(userId: string, orderId: number): OrderView | undefined {
    const order = this.ownOrder(userId, orderId);
    return order === NO_ORDER ? undefined : this.store.view(order);
  }

  listOrders(userId: string, query: ListOrdersQuery): readonly OrderView[] {
    const account = this.state.accounts.get(userId);
    if (account === undefined || query.limit <= 0) return [];
    const store = this.store;
    const before = query.beforeOrderId ?? Infinity;
    const market = query.market === undefined ? undefined : this.marketsBySymbol.get(query.market);
    if (query.market !== undefined && market === undefined) return [];
    const wanted = (order: OrderRef): boolean => store.id(order) < before && (market === undefined || store.market(order) === market);
    const selected = account.openOrders(store).filter(wanted);
    if (!query.openOnly) selected.push(...account.closedOrders(store).filter(wanted));
    selected.sort((a, b) => store.id(b) - store.id(a));
    return selected.slice(0, query.limit).map((order) => store.view(order));
  }

  depth(market: string, levels: number): DepthView | undefined {
    const book = this.marketsBySymbol.get(market)?.book;
    if (book === undefined) return undefined;
    return { market, bids: book.bids.depth(levels), asks: book.asks.depth(levels), bookSeq: book.seq };
  }

  /** Every asset the engine trades, zero where the user holds none. */
  balances(userId: string): readonly BalanceView[] {
    const account = this.state.accounts.get(userId);
    return this.state.assets.map((asset, i) => {
      if (account === undefined) return { asset, available: 0n, locked: 0n };
      const ref = this.ledger.ref(account.index, i);
      return { asset, available: this.ledger.available(ref), locked: this.ledger.locked(ref) };
    });
  }

  lastSeq(): number {
    return this.state.lastSeq;
  }
}
