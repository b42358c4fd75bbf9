/** One configured market: its symbol, its assets' indexes (rows of the balance table), its rules and fees, and its book. */
import type { MarketConfig } from './api';
import { OrderBook } from './book';
import type { OrderStore } from './order-store';
import { StopQueue } from './stops';

export class Market {
  readonly symbol: string;
  readonly book: OrderBook;
  /** Its stop orders waiting for their trigger. */
  readonly stops: StopQueue;
  /** Fees in basis points of what each side of a fill receives (settlement.ts). */
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
  /** Whether any fill is charged a fee: false keeps settlement on its fee-free path. */
  readonly chargesFees: boolean;
  /** The instrument rules, in units (validation.ts instrumentRuleError). */
  readonly tickSize: number;
  readonly lotSize: number;
  readonly minQuantity: number;
  readonly minNotional: number;
  /** Whether any rule restricts an order beyond the engine's own bounds: false skips the checks. */
  readonly hasRules: boolean;

  constructor(
    readonly config: MarketConfig,
    /** Position in the engine's market list (what orders record). */
    readonly index: number,
    /** Indexes of the base and quote assets among the engine's assets. */
    readonly baseIndex: number,
    readonly quoteIndex: number,
    store: OrderStore,
  ) {
    this.symbol = config.symbol;
    this.book = new OrderBook(config.symbol, store);
    this.stops = new StopQueue(store);
    this.makerFeeBps = config.makerFeeBps ?? 0;
    this.takerFeeBps = config.takerFeeBps ?? 0;
    this.chargesFees = this.makerFeeBps !== 0 || this.takerFeeBps !== 0;
    this.tickSize = Number(config.tickSize ?? 1n);
    this.lotSize = Number(config.lotSize ?? 1n);
    this.minQuantity = Number(config.minQuantity ?? 1n);
    this.minNotional = Number(config.minNotional ?? 0n);
    this.hasRules = this.tickSize !== 1 || this.lotSize !== 1 || this.minQuantity !== 1 || this.minNotional !== 0;
  }
}
