/**
 * Collects the events of one command. Fill and order events are appended as they happen; level and
 * balance changes are coalesced — one bookLevel event per changed level and one balance event per
 * changed (user, asset), carrying the final value — and appended by finish().
 */
import type { EngineEvent } from './api';
import type { Account } from './account';
import type { BalanceRef, Balances } from './balances';
import type { OrderBook } from './book';
import type { PriceLevel } from './price-level';

export class EventRecorder {
  /**
   * The command's events so far, reused across commands with an explicit count: finish() hands out
   * an exact-length copy. Pushing into a fresh array allocated 16 slots on the first push (and
   * regrew past 16), measured at ~90 bytes per command more than the copy.
   */
  private readonly events: EngineEvent[] = [];
  private eventCount = 0;
  private seq = 0;
  // Reused across commands, with explicit counts: truncating an array (length = 0) frees its
  // backing store, and regrowing it on every command showed up in allocation profiles.
  private readonly touchedBalances: BalanceRef[] = [];
  private balanceCount = 0;
  private readonly levels: PriceLevel[] = [];
  /** The book of each entry of `levels`. */
  private readonly levelBooks: OrderBook[] = [];
  private levelCount = 0;
  /**
   * Set when stops triggered: a level emptied earlier in the command may have been created anew at
   * its price (a new PriceLevel), perhaps emptied again, and only one event may tell the price's final value.
   */
  levelsRecreated = false;

  constructor(
    private readonly balances: Balances,
    private readonly accounts: readonly Account[],
  ) {}

  /** Starts recording the command `seq` (seqs strictly increase, so marks from earlier commands never match). */
  begin(seq: number): void {
    this.seq = seq;
    this.eventCount = 0;
  }

  push(event: EngineEvent): void {
    this.events[this.eventCount++] = event;
  }

  balance(ref: BalanceRef): void {
    if (this.balances.touch(ref, this.seq)) this.touchedBalances[this.balanceCount++] = ref;
  }

  level(book: OrderBook, level: PriceLevel): void {
    if (level.mark === this.seq) return;
    level.mark = this.seq;
    this.levels[this.levelCount] = level;
    this.levelBooks[this.levelCount++] = book;
  }

  /** Appends the coalesced level and balance events and returns the command's events. */
  finish(): EngineEvent[] {
    const events = this.events;
    let count = this.eventCount;
    for (let i = 0; i < this.levelCount; i++) {
      const level = this.levels[i]!;
      const book = this.levelBooks[i]!;
      if (this.levelsRecreated && level.count === 0 && this.superseded(i)) continue;
      events[count++] = {
        type: 'bookLevel',
        market: book.symbol,
        side: level.side,
        price: level.priceUnits,
        quantity: level.volume,
        orderCount: level.count,
        bookSeq: ++book.seq,
      };
    }
    const balances = this.balances;
    for (let i = 0; i < this.balanceCount; i++) {
      const ref = this.touchedBalances[i]!;
      events[count++] = {
        type: 'balance',
        userId: this.accounts[balances.accountIndexOf(ref)]!.userId,
        balance: { asset: balances.assetOf(ref), available: balances.available(ref), locked: balances.locked(ref) },
      };
    }
    const result = events.slice(0, count);
    // Dropped, so that the reused array keeps no event of this command alive (or out of the young generation).
    events.fill(undefined as never, 0, count);
    this.eventCount = 0;
    this.levelCount = 0;
    this.balanceCount = 0;
    this.levelsRecreated = false;
    return result;
  }

  /** An emptied level says nothing when its price has a live level now, or an earlier level at its price is reported. */
  private superseded(i: number): boolean {
    const level = this.levels[i]!;
    const book = this.levelBooks[i]!;
    if ((level.side === 'buy' ? book.bids : book.asks).existingLevel(level.price) !== undefined) return true;
    for (let j = 0; j < i; j++) {
      const earlier = this.levels[j]!;
      if (this.levelBooks[j] === book && earlier.side === level.side && earlier.price === level.price) return true;
    }
    return false;
  }
}
