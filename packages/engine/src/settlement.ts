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
 * Fees. Each side of a fill pays its market's fee rate (maker or taker, in basis points) on what
 * it receives — the buyer on the base quantity, the seller on the quote amount — in that asset:
 *
 *   fee = ceil(received × bps / 10^4)      in units of the received asset
 *
 * one rule for every fee, rounded in the exchange's favour (a fee up, a rebate — negative bps —
 * down in size). The side is credited received - fee; the fee account (api.ts FEE_ACCOUNT_ID) is
 * credited the fee. Fees never touch locks: a buyer pays its fee out of the base it receives, so
 * its lock stays the quote its fills cost, and locked == what open orders reserve holds exactly.
 * A fee is at most MAX_FEE_BPS (10 %) of what it is charged on, so no credit is ever negative.
 * A maker rebate is paid in the asset the maker receives — never the one the taker's fee of the
 * same fill is paid in — out of the fee account's available balance of that asset, and only as far
 * as that balance goes (a smaller, possibly zero, rebate otherwise): the fee account can never go
 * negative, and every asset is conserved exactly (what a side is charged or rebated is what the
 * fee account gains or pays). Markets bound a rebate rate by their taker fee rate, so that at the
 * trade price the fee account earns at least what it pays out; an admin may fund it by a deposit.
 *
 * Order-side values are JS numbers, exact because the engine bounds every price, quantity and order
 * value (ceil(price × quantity / 10^6)) to at most 2^53-1 units; balances are exact u64 (balances.ts).
 */
import { FEE_ACCOUNT_ID } from './api';
import type { EventRecorder } from './events';
import { BalanceFaultError } from './faults';
import type { Market } from './market';
import type { OrderRef } from './order-store';
import type { EngineState } from './state';

const ZERO = 0n;
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
 * ceil(amount × bps / 10^4), the fee rule, exact for amount ≤ 2^53-1 and |bps| ≤ 10^4: the amount
 * is split at 10^4 so that no product passes 2^53, and the quotient of the low part, below 10^3 in
 * size, is at least 10^-4 away from an integer unless it is one, so Math.ceil of it is exact.
 */
export function feeOf(amount: number, bps: number): number {
  const low = amount % 10_000;
  return ((amount - low) / 10_000) * bps + Math.ceil((low * bps) / 10_000);
}

/**
 * The settlement stage, after matching: moves the funds of each fill between buyer and seller, and
 * gives back what a closing order still reserves.
 */
export class Settlement {
  /** The fees of the last fill settled on a market with fees, in the asset each side received (see TradeView). */
  makerFee = ZERO;
  takerFee = ZERO;
  /** The same fees as numbers (for the trade history's rows). */
  makerFeeUnits = 0;
  takerFeeUnits = 0;

  constructor(
    private readonly state: EngineState,
    private readonly recorder: EventRecorder,
  ) {}

  /**
   * One fill of `quantity` at `quote`: the buyer pays `quote` from its locked quote and receives
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
  ): void {
    const { balances, store } = this.state;
    const recorder = this.recorder;
    const buyer = store.accountIndex(takerBuys ? taker : maker);
    const seller = store.accountIndex(takerBuys ? maker : taker);
    const buyerQuote = balances.ref(buyer, market.quoteIndex);
    const buyerBase = balances.ref(buyer, market.baseIndex);
    const sellerBase = balances.ref(seller, market.baseIndex);
    const sellerQuote = balances.ref(seller, market.quoteIndex);
    balances.spendLocked(buyerQuote, quote);
    balances.spendLocked(sellerBase, quantity);
    // Without fees (the common case) nothing more than the credits: makerFee and takerFee stay zero.
    if (market.chargesFees) {
      this.creditWithFees(market, maker, taker, takerBuys, buyerBase, sellerQuote, quantity, quote);
    } else {
      balances.credit(buyerBase, quantity);
      balances.credit(sellerQuote, quote);
    }
    recorder.balance(buyerQuote);
    recorder.balance(buyerBase);
    recorder.balance(sellerBase);
    recorder.balance(sellerQuote);
    this.takeFromLock(maker, takerBuys ? quantity : quote);
    this.takeFromLock(taker, takerBuys ? quote : quantity);
  }

  /**
   * Credits both sides what they received less their fees, and the fee account the fees (a maker
   * rebate: paid from it, as far as its available balance of that asset goes).
   */
  private creditWithFees(
    market: Market,
    maker: OrderRef,
    taker: OrderRef,
    takerBuys: boolean,
    buyerBase: number,
    sellerQuote: number,
    quantity: number,
    quote: number,
  ): void {
    const { balances, store } = this.state;
    const takerReceives = takerBuys ? quantity : quote;
    const makerReceives = takerBuys ? quote : quantity;
    const takerFee = feeOf(takerReceives, market.takerFeeBps);
    let makerFee = feeOf(makerReceives, market.makerFeeBps);
    const makerAsset = takerBuys ? market.quoteIndex : market.baseIndex;
    if (makerFee < 0) {
      const account = this.state.feeAccount;
      const funds = account === undefined ? ZERO : balances.available(balances.ref(account.index, makerAsset));
      if (BigInt(-makerFee) > funds) makerFee = -Number(funds);
    }
    balances.credit(takerBuys ? buyerBase : sellerQuote, takerReceives - takerFee);
    balances.credit(takerBuys ? sellerQuote : buyerBase, makerReceives - makerFee);
    if (takerFee !== 0 || makerFee !== 0) {
      const fees = (this.state.feeAccount ?? this.state.newAccount(FEE_ACCOUNT_ID)).index;
      if (takerFee !== 0) {
        const ref = balances.ref(fees, takerBuys ? market.baseIndex : market.quoteIndex);
        balances.credit(ref, takerFee);
        this.recorder.balance(ref);
      }
      if (makerFee !== 0) {
        const ref = balances.ref(fees, makerAsset);
        if (makerFee > 0) balances.credit(ref, makerFee);
        else balances.debit(ref, -makerFee);
        this.recorder.balance(ref);
      }
    }
    this.makerFeeUnits = makerFee;
    this.takerFeeUnits = takerFee;
    this.makerFee = BigInt(makerFee);
    this.takerFee = BigInt(takerFee);
    store.addFee(maker, this.makerFee);
    store.addFee(taker, this.takerFee);
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
      balances.release(balance, excess);
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
      balances.release(balance, locked);
      store.setLocked(order, 0);
      this.recorder.balance(balance);
    }
  }
}
