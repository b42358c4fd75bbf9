/**
 * Price-time priority matching of one incoming (taker) order against the opposite side of a book.
 *
 * Makers are taken best price first and, within a price, in arrival order; every fill executes at
 * the maker's price. Self-trade prevention applies when the next maker belongs to the taker's user:
 *   cancel_resting (the default) — cancel that resting order and go on matching;
 *   cancel_taker — stop; the rest of the taker is cancelled;
 *   cancel_both — cancel that resting order and stop.
 * What a fill or a cancel does to balances, orders and events is the FillHandler's job.
 */
import type { SelfTradePrevention, Side } from './api';
import type { OrderBook } from './book';
import { NO_ORDER as NONE, type OrderRef, type OrderStore } from './order-store';
import type { PriceLevel } from './price-level';
import * as settlement from './settlement';

/**
 * Module-local copies: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;
const { quoteAmount } = settlement;

export interface FillHandler {
  /** Executes a fill of `quantity` between `maker`, first in `level`, and `taker` at the level's price. */
  fill(maker: OrderRef, level: PriceLevel, taker: OrderRef, quantity: number): void;
  /** Cancels a resting order of the taker's own user (self-trade prevention); it leaves the book. */
  cancelResting(maker: OrderRef): void;
}

/** Can a taker on `side` with limit `limit` trade at `levelPrice`? (No limit: a market order.) */
function crosses(side: Side, limit: number | undefined, levelPrice: number): boolean {
  return limit === undefined || (side === 'buy' ? levelPrice <= limit : levelPrice >= limit);
}

/** Would a limit order at `price` trade with anything resting now? (post-only check) */
export function wouldCross(book: OrderBook, side: Side, price: number): boolean {
  const best = book.opposite(side).best();
  return best !== undefined && crosses(side, price, best.price);
}

/**
 * Matches `taker` until it is filled, the book runs out of crossing liquidity, or self-trade
 * prevention stops it. Returns true in the last case.
 */
export function matchOrder(store: OrderStore, book: OrderBook, taker: OrderRef, handler: FillHandler): boolean {
  const side = store.side(taker);
  const opposite = book.opposite(side);
  const limit = store.type(taker) === 'limit' ? store.price(taker) : undefined;
  const account = store.accountIndex(taker);
  while (store.remaining(taker) > 0) {
    const level = opposite.best();
    if (level === undefined || !crosses(side, limit, level.price)) return false;
    const maker = level.head;
    if (store.accountIndex(maker) === account) {
      const stp = store.selfTradePrevention(taker);
      if (stp !== 'cancel_taker') handler.cancelResting(maker);
      if (stp !== 'cancel_resting') return true;
    } else {
      const makerRemaining = store.remaining(maker);
      const takerRemaining = store.remaining(taker);
      handler.fill(maker, level, taker, makerRemaining < takerRemaining ? makerRemaining : takerRemaining);
    }
  }
  return false;
}

export interface TakePlan {
  /** Quantity matchOrder would fill right now. */
  readonly filled: number;
  /**
   * Sum of the quote amounts of those fills, each rounded as settlement rounds it. Exact up to
   * 2^53-1; beyond that it is merely known to be larger (the order is then too big).
   */
  readonly cost: number;
  /** Self-trade prevention would stop the taker before it is filled. */
  readonly stoppedBySelfTrade: boolean;
}

/**
 * What matchOrder would do for a taker, computed without changing anything: the all-or-nothing
 * checks of market and FOK orders need it before they commit. It walks the same makers in the same
 * order with the same self-trade rules, so its answer is exact.
 */
export function planTake(
  store: OrderStore,
  book: OrderBook,
  /** The taker's account index; -1 for a user without one, who has no orders. */
  account: number,
  side: Side,
  limit: number | undefined,
  quantity: number,
  stp: SelfTradePrevention,
): TakePlan {
  const opposite = book.opposite(side);
  let remaining = quantity;
  let cost = 0;
  for (let rank = 0; remaining > 0; rank++) {
    const level = opposite.nthBest(rank);
    if (level === undefined || !crosses(side, limit, level.price)) break;
    for (let maker = level.head; maker !== NO_ORDER && remaining > 0; maker = store.next(maker)) {
      if (store.accountIndex(maker) === account) {
        if (stp === 'cancel_resting') continue;
        return { filled: quantity - remaining, cost, stoppedBySelfTrade: true };
      }
      const makerRemaining = store.remaining(maker);
      const fill = makerRemaining < remaining ? makerRemaining : remaining;
      cost += quoteAmount(level.price, fill);
      remaining -= fill;
    }
  }
  return { filled: quantity - remaining, cost, stoppedBySelfTrade: false };
}
