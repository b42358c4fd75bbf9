/**
 * Everything the engine holds: markets and their books, assets, accounts, orders, balances and the
 * counters. Commands change it through the risk, matching and settlement stages; queries and
 * snapshots read it.
 */
import { type EngineConfig, FEE_ACCOUNT_ID } from './api';
import { Account } from './account';
import { Balances } from './balances';
import { FundsLedger } from './funds-ledger';
import { Market } from './market';
import { OrderIndex } from './order-index';
import { marketConfigError } from './validation';
import { type OrderRef, OrderStore } from './order-store';
import { DEFAULT_MAX_OPEN_ORDERS_PER_USER_MARKET } from './book';
import { DEFAULT_MAX_STOPS_PER_USER_MARKET } from './stops';
import { Timers } from './timers';
import { DEFAULT_FILLS_RETAINED_PER_USER, DEFAULT_TRADES_RETAINED_PER_MARKET, TradeHistory } from './trade-history';

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
  /** EngineConfig.maxStopsPerUserMarket with its default. */
  readonly maxStopsPerUserMarket: number;
  /** EngineConfig.maxOpenOrdersPerUserMarket with its default. */
  readonly maxOpenOrdersPerUserMarket: number;

  constructor(readonly config: EngineConfig) {
    const retain = config.closedOrdersRetainedPerUser;
    const perUser = config.fillsRetainedPerUser ?? DEFAULT_FILLS_RETAINED_PER_USER;
    const perMarket = config.tradesRetainedPerMarket ?? DEFAULT_TRADES_RETAINED_PER_MARKET;
    this.maxStopsPerUserMarket = config.maxStopsPerUserMarket ?? DEFAULT_MAX_STOPS_PER_USER_MARKET;
    this.maxOpenOrdersPerUserMarket = config.maxOpenOrdersPerUserMarket ?? DEFAULT_MAX_OPEN_ORDERS_PER_USER_MARKET;
    const bounds = [
      ['closedOrdersRetainedPerUser', retain],
      ['fillsRetainedPerUser', perUser],
      ['tradesRetainedPerMarket', perMarket],
      ['maxStopsPerUserMarket', this.maxStopsPerUserMarket],
      ['maxOpenOrdersPerUserMarket', this.maxOpenOrdersPerUserMarket],
    ] as const;
    for (const [name, value] of bounds) {
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
    }
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
    this.ledger = new FundsLedger(retain);
    this.history = new TradeHistory(this.markets.length, perMarket, perUser);
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
    const account = new Account(userId, this.accountList.length, this.config.closedOrdersRetainedPerUser);
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
