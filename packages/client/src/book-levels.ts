import { matching } from '@orderbook/proto';

/** One price level as the book shows it. */
export interface BookLevel {
  readonly price: string;
  readonly quantity: string;
  readonly orderCount: number;
}

/** Prices have at most this many decimals (the contract's price precision). */
const PRICE_DECIMALS = 6;

/** A decimal price string as an exact integer of millionths, for ordering without floats. */
export function priceUnits(price: string): bigint {
  const [whole = '0', fraction = ''] = price.split('.');
  return BigInt(whole + fraction.padEnd(PRICE_DECIMALS, '0').slice(0, PRICE_DECIMALS));
}

/** One side of a book: levels by price, best first on demand. */
export class BookSide {
  private readonly levels = new Map<bigint, BookLevel>();
  private sorted: BookLevel[] | undefined;

  /** Bids are best when highest, asks when lowest. */
  constructor(private readonly highestFirst: boolean) {}

  get size(): number {
    return this.levels.size;
  }

  replace(levels: readonly matching.PriceLevel[]): void {
    this.levels.clear();
    for (const level of levels) this.levels.set(priceUnits(level.price), { price: level.price, quantity: level.quantity, orderCount: level.orderCount });
    this.sorted = undefined;
  }

  /** Sets one level; quantity "0" removes it. */
  apply(update: matching.LevelUpdate): void {
    const key = priceUnits(update.price);
    if (priceUnits(update.quantity) === 0n) this.levels.delete(key);
    else this.levels.set(key, { price: update.price, quantity: update.quantity, orderCount: update.orderCount });
    this.sorted = undefined;
  }

  best(): BookLevel | undefined {
    return this.top(1)[0];
  }

  /** The best `count` levels, best first. */
  top(count: number): readonly BookLevel[] {
    this.sorted ??= [...this.levels.entries()].sort(([a], [b]) => (a === b ? 0 : a > b === this.highestFirst ? -1 : 1)).map(([, level]) => level);
    return this.sorted.slice(0, count);
  }
}
