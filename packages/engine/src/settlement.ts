/**
 * Settlement of fills, and THE notional rounding rule (the only place money is rounded):
 *
 *   quoteAmount = floor(price × quantity / 10^6)      in 10^-8 quote units
 *
 * (price in 10^-6 units, quantity in 10^-8 units, so price × quantity / 10^6 is in 10^-8 quote
 * units before rounding). The same quoteAmount leaves the buyer and reaches the seller, so every
 * asset is conserved exactly; the rounding favours the buyer by less than one unit per fill.
 *
 * A buy limit order locks ceil(limitPrice × quantity / 10^6) of quote. Each fill pays
 * floor(makerPrice × fillQty / 10^6) from that lock. Because makerPrice ≤ limitPrice and
 * ceil(a + b) ≥ ceil(a) + floor(b), the remaining lock always covers ceil(limitPrice × remaining / 10^6),
 * i.e. whatever the rest of the order could still cost. When the order closes (filled or
 * cancelled) its leftover lock — price improvement plus rounding dust — returns to available.
 * A sell order locks exactly its base quantity; each fill pays exactly fillQty of it.
 *
 * Order-side values are JS numbers, exact because the engine bounds every price, quantity and order
 * value (ceil(price × quantity / 10^6)) to at most 2^53-1 units; balances are exact u64 (balances.ts).
 */
import type { EventRecorder } from './events';
import { BalanceFaultError } from './faults';
import type { Market } from './market';
import type { OrderRef } from './order-store';
import type { EngineState } from './state';

const SCALE = 1_000_000;

/**
 * floor(price × quantity / 10^6), exact whenever the result is ≤ 2^53-1: both factors are split at
 * 10^6 so that every partial product stays below 2^53. A larger true result comes out > 2^53-1
 * (rounding is monotonic), which callers reject.
 */
export function quoteAmount(price: number, quantity: number): number {
  const priceLow = price % SCALE;
  const quantityLow = quantity % SCALE;
  const low = priceLow * quantityLow; // < 10^12
  return ((price - priceLow) / SCALE) * quantity + priceLow * ((quantity - quantityLow) / SCALE) + (low - (low % SCALE)) / SCALE;
}

/** ceil(price × quantity / 10^6): what a buy limit order locks. Same exactness as quoteAmount. */
export function buyLockAmount(price: number, quantity: number): number {
  const exact = ((price % SCALE) * (quantity % SCALE)) % SCALE === 0; // the only part that can leave a remainder
  return quoteAmount(price, quantity) + (exact ? 0 : 1);
}

/**
 * The settlement stage, after matching: moves the funds of each fill between buyer and seller, and
 * gives back what a closing order still reserves.
 */
export class Settlement {
  constructor(
    private readonly state: EngineState,
    private readonly recorder: EventRecorder,
  ) {}

  /**
   * One fill of `quantity` at `quote` (each also as bigint units, which the caller holds anyway): the buyer pays `quote` from its locked quote and receives
   * `quantity` base; the seller delivers `quantity` from its locked base and receives `quote`; both
   * orders' own locks shrink by what they paid.
   */
  settleFill(
    market: Market,
    maker: OrderRef,
    taker: OrderRef,
    takerBuys: boolean,
    quantity: number,
    quote: number,
    quantityUnits: bigint,
    quoteUnits: bigint,
  ): void {
    const { balances, store } = this.state;
    const recorder = this.recorder;
    const buyer = store.accountIndex(takerBuys ? taker : maker);
    const seller = store.accountIndex(takerBuys ? maker : taker);
    const buyerQuote = balances.ref(buyer, market.quoteIndex);
    const buyerBase = balances.ref(buyer, market.baseIndex);
    const sellerBase = balances.ref(seller, market.baseIndex);
    const sellerQuote = balances.ref(seller, market.quoteIndex);
    balances.spendLocked(buyerQuote, quoteUnits);
    balances.credit(buyerBase, quantityUnits);
    balances.spendLocked(sellerBase, quantityUnits);
    balances.credit(sellerQuote, quoteUnits);
    recorder.balance(buyerQuote);
    recorder.balance(buyerBase);
    recorder.balance(sellerBase);
    recorder.balance(sellerQuote);
    this.takeFromLock(maker, takerBuys ? quantity : quote);
    this.takeFromLock(taker, takerBuys ? quote : quantity);
  }

  /** Pays `amount` of a fill out of the order's own lock, which must cover it (else: an engine fault). */
  private takeFromLock(order: OrderRef, amount: number): void {
    const store = this.state.store;
    const locked = store.locked(order);
    if (amount > locked) throw new BalanceFaultError(`fill payment from order ${store.id(order)}'s lock`, locked, amount);
    store.setLocked(order, locked - amount);
  }

  /** Gives back what the order locks above `keep` (a triggered stop-market buy keeps what it will pay). */
  releaseAbove(order: OrderRef, keep: number): void {
    const { balances, store } = this.state;
    const excess = store.locked(order) - keep;
    if (excess > 0) {
      const balance = balances.ref(store.accountIndex(order), store.lockIndex(order));
      balances.release(balance, BigInt(excess));
      store.setLocked(order, keep);
      this.recorder.balance(balance);
    }
  }

  /** Gives back what a closing order still locks (for a buy: price improvement and rounding dust). */
  release(order: OrderRef): void {
    const { balances, store } = this.state;
    const locked = store.locked(order);
    if (locked > 0) {
      const balance = balances.ref(store.accountIndex(order), store.lockIndex(order));
      balances.release(balance, BigInt(locked));
      store.setLocked(order, 0);
      this.recorder.balance(balance);
    }
  }
}
