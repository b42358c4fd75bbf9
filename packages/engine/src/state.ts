/**
 * Everything the engine holds: markets and their books, assets, accounts, orders, balances and the
 * counters. Commands change it through the risk, matching and settlement stages; queries and
 * snapshots read it.
 */
import { type EngineConfig, type EngineLimits, FEE_ACCOUNT_ID } from './api';
import { Account } from './account';
import { Balances } from './balances';
import { FundsLedger } from './funds-ledger';
import { Market } from './market';
import { OrderIndex } from './order-index';
import { marketConfigError } from './validation';
import { type OrderRef, OrderStore } from './order-store';
import { invalidLimit, limitsOf } from './limits';
import { Timers } from './timers';
import { TradeHistory } from './trade-history';

export class EngineState {
  readonly markets: Market[] = [];
  readonly marketsBySymbol = new Map<string, Market>();
  /** Every asset of every market, in order of first appearance: asset indexes point here. */
  readonly assets: string[] = [];
  readonly assetIndex = new Map<string, number>();
  readonly accounts = new Map<string, Account>();
  /** The same accounts by Account.index. */
  readonly accountList: Account[] = [];
  /** User ids by Account.index, for the order store. */
  private readonly userIds: string[] = [];
  readonly store: OrderStore;
  /** Every retrievable order by id. */
  readonly orders = new OrderIndex();
  readonly balances: Balances;
  readonly timers = new Timers(this.accountList);
  /** Every deposit and withdrawal. */
  readonly ledger: FundsLedger;
  /** Recent trades per market and per user, and the tickers. */
  readonly history: TradeHistory;
  lastSeq = 0;
  nextTradeId = 1;
  /** The account of FEE_ACCOUNT_ID, once a fee or a deposit has created it. */
  feeAccount: Account | undefined = undefined;
  /** The limits in force: the config's until a configure command changes them. */
  limits: EngineLimits;
  /** Whether a configure command set the limits (then snapshots record them): not the config's any more. */
  limitsConfigured = false;
  /** limits.maxStopsPerUserMarket and maxOpenOrdersPerUserMarket, read on every placement. */
  maxStopsPerUserMarket: number;
  maxOpenOrdersPerUserMarket: number;

  constructor(readonly config: EngineConfig) {
    this.limits = limitsOf(config);
    const wrong = invalidLimit(this.limits);
    if (wrong !== undefined) throw new Error(`${wrong} must be a non-negative integer`);
    this.maxStopsPerUserMarket = this.limits.maxStopsPerUserMarket;
    this.maxOpenOrdersPerUserMarket = this.limits.maxOpenOrdersPerUserMarket;
    const symbols: string[] = [];
    this.store = new OrderStore(this.userIds, symbols);
    for (const mc of config.markets) {
      if (this.marketsBySymbol.has(mc.symbol)) throw new Error(`duplicate market ${mc.symbol}`);
      if (mc.base === mc.quote) throw new Error(`market ${mc.symbol} trades ${mc.base} against itself`);
      const rulesError = marketConfigError(mc);
      if (rulesError !== undefined) throw new Error(`market ${mc.symbol}: ${rulesError}`);
      const market = new Market(mc, this.markets.length, this.assetIndexOf(mc.base), this.assetIndexOf(mc.quote), this.store);
      this.markets.push(market);
      symbols.push(mc.symbol);
      this.marketsBySymbol.set(mc.symbol, market);
    }
    this.balances = new Balances(this.assets);
    this.ledger = new FundsLedger(this.limits.closedOrdersRetainedPerUser);
    this.history = new TradeHistory(this.markets.length, this.limits.tradesRetainedPerMarket, this.limits.fillsRetainedPerUser);
  }

  /**
   * Puts `limits` (checked by the caller) in force: what a lowered retention no longer keeps is
   * forgotten at once, account by account in creation order (see ConfigureCommand).
   */
  setLimits(limits: EngineLimits): void {
    this.limits = limits;
    this.limitsConfigured = true;
    this.maxStopsPerUserMarket = limits.maxStopsPerUserMarket;
    this.maxOpenOrdersPerUserMarket = limits.maxOpenOrdersPerUserMarket;
    for (const account of this.accountList) account.setRetention(limits.closedOrdersRetainedPerUser, this.store, this.orders);
    this.ledger.setRetention(limits.closedOrdersRetainedPerUser);
    this.history.resize(limits.tradesRetainedPerMarket, limits.fillsRetainedPerUser, this.accountList.length);
  }

  private assetIndexOf(asset: string): number {
    if (typeof asset !== 'string' || asset.length === 0) throw new Error('market assets must be non-empty strings');
    let index = this.assetIndex.get(asset);
    if (index === undefined) {
      index = this.assets.push(asset) - 1;
      this.assetIndex.set(asset, index);
    }
    return index;
  }

  newAccount(userId: string): Account {
    const account = new Account(userId, this.accountList.length, this.limits.closedOrdersRetainedPerUser);
    this.accountList.push(account);
    this.userIds.push(userId);
    this.balances.addAccount(account.index);
    this.accounts.set(userId, account);
    if (userId === FEE_ACCOUNT_ID) this.feeAccount = account;
    return account;
  }

  accountOf(order: OrderRef): Account {
    return this.accountList[this.store.accountIndex(order)]!;
  }

  marketOf(order: OrderRef): Market {
    return this.markets[this.store.marketIndex(order)]!;
  }
}
