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
import type { Account } from './account';
import type { Balances } from './balances';
import type { EventRecorder } from './events';
import type { Market } from './market';

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
 * Moves the funds of one fill between the buyer's and the seller's balances: the buyer pays
 * `quote` from its locked quote and receives `quantity` base; the seller delivers `quantity` from
 * its locked base and receives `quote`. (The orders' own locks are the caller's to reduce.)
 */
export function settleFill(
  balances: Balances,
  market: Market,
  buyer: Account,
  seller: Account,
  quantity: bigint,
  quote: bigint,
  recorder: EventRecorder,
): void {
  const buyerQuote = balances.ref(buyer.index, market.quoteIndex);
  const buyerBase = balances.ref(buyer.index, market.baseIndex);
  const sellerBase = balances.ref(seller.index, market.baseIndex);
  const sellerQuote = balances.ref(seller.index, market.quoteIndex);
  balances.spendLocked(buyerQuote, quote);
  balances.credit(buyerBase, quantity);
  balances.spendLocked(sellerBase, quantity);
  balances.credit(sellerQuote, quote);
  recorder.balance(buyerQuote);
  recorder.balance(buyerBase);
  recorder.balance(sellerBase);
  recorder.balance(sellerQuote);
}
