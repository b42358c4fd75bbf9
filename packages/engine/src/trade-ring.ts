/**
 * The newest `capacity` trades as rows of numbers in one Float64Array, the oldest overwritten
 * first: recording a trade copies a dozen numbers and keeps no object alive, so the trade objects
 * of a command stay short-lived (retaining them cost the old generation's collector, measured).
 * The array grows by doubling up to the bound, so a ring that holds few trades costs little.
 * Every field is an integer of magnitude below 2^53 (the engine bounds prices, quantities and order
 * values; fees are parts of them, negative for rebates).
 */

/** The fields of a row, at these offsets. */
export const ROW = {
  tradeId: 0, market: 1, price: 2, quantity: 3, quoteAmount: 4, makerOrderId: 5, takerOrderId: 6,
  makerAccount: 7, takerAccount: 8, takerSells: 9, timestamp: 10, seq: 11, makerFee: 12, takerFee: 13,
} as const;
export const ROW_FIELDS = 14;
const FIRST_ROWS = 4;

export class TradeRing {
  private rows: Float64Array;
  private count = 0;
  /** The row of the oldest trade once the ring is full (0 before). */
  private start = 0;

  constructor(readonly capacity: number) {
    this.rows = new Float64Array(Math.min(capacity, FIRST_ROWS) * ROW_FIELDS);
  }

  /** Appends a copy of `row` (ROW_FIELDS numbers). */
  push(row: Float64Array): void {
    const capacity = this.capacity;
    if (capacity === 0) return;
    let slot: number;
    if (this.count < capacity) {
      slot = this.count++;
      if (slot * ROW_FIELDS === this.rows.length) {
        const rows = new Float64Array(Math.min(capacity, slot * 2) * ROW_FIELDS);
        rows.set(this.rows);
        this.rows = rows;
      }
    } else {
      slot = this.start;
      this.start = slot + 1 === capacity ? 0 : slot + 1;
    }
    // Element by element: measured several times faster than set() for a row this short.
    const rows = this.rows;
    const at = slot * ROW_FIELDS;
    for (let f = 0; f < ROW_FIELDS; f++) rows[at + f] = row[f]!;
  }

  get size(): number {
    return this.count;
  }

  /** Field `field` (a ROW offset) of the i-th newest trade (0: the newest), i below size. */
  newest(i: number, field: number): number {
    const slot = (this.start + this.count - 1 - i) % this.count;
    return this.rows[slot * ROW_FIELDS + field]!;
  }

  /** A copy of the rows, oldest first. */
  copyRows(): Float64Array {
    const out = new Float64Array(this.count * ROW_FIELDS);
    const head = this.rows.subarray(this.start * ROW_FIELDS, this.count * ROW_FIELDS);
    out.set(head);
    out.set(this.rows.subarray(0, this.start * ROW_FIELDS), head.length);
    return out;
  }
}
