import type { TradeView } from './api';

/**
 * The newest `capacity` trades: a circular array of references, the oldest overwritten first.
 * Trades are shared (a market's ring and both parties' rings hold the same object), so recording
 * one allocates nothing once a ring is full.
 */
export class TradeRing {
  private readonly items: TradeView[] = [];
  /** Index of the oldest trade once the ring is full. */
  private start = 0;

  constructor(readonly capacity: number) {}

  push(trade: TradeView): void {
    const items = this.items;
    if (items.length < this.capacity) {
      items.push(trade);
    } else if (this.capacity > 0) {
      items[this.start] = trade;
      this.start = this.start + 1 === this.capacity ? 0 : this.start + 1;
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** The i-th newest trade (0: the newest), i below size. */
  newest(i: number): TradeView {
    const n = this.items.length;
    return this.items[(this.start + n - 1 - i) % n]!;
  }

  /** Oldest first. */
  toArray(): TradeView[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
}
