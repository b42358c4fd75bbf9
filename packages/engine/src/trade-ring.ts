/**
 * Rings of trades as rows of numbers in typed arrays, the oldest row overwritten first: recording a
 * trade writes a few numbers in place and keeps no object alive, so the trade objects of a command
 * stay short-lived (retaining them cost the old generation's collector, measured). Every field is
 * an integer of magnitude below 2^53 (the engine bounds prices, quantities and order values; fees
 * are parts of them, negative for rebates).
 */

/** A market's trades: what TradeView shows but its market (the ring's) and quote amount (recomputed). */
export const TRADE = {
  tradeId: 0, price: 1, quantity: 2, makerOrderId: 3, takerOrderId: 4, makerAccount: 5, takerAccount: 6, takerSells: 7,
  timestamp: 8, seq: 9, makerFee: 10, takerFee: 11,
} as const;
export const TRADE_FIELDS = 12;

/**
 * A user's fills: what FillView shows but the quote amount (recomputed) and the fee asset (from
 * market and side). `flags` packs market index × 4 + FILL_TAKER + FILL_BUYS. Eight numbers, one
 * 64-byte line: the two users' rows of a trade are two writes to places no other work touches
 * (cache misses), so their width is most of what recording a trade costs.
 */
export const FILL = { tradeId: 0, flags: 1, orderId: 2, price: 3, quantity: 4, fee: 5, timestamp: 6, seq: 7 } as const;
export const FILL_FIELDS = 8;
export const FILL_TAKER = 2;
export const FILL_BUYS = 1;

const FIRST_ROWS = 4;

/**
 * The newest `capacity` rows of `width` numbers in one Float64Array, grown by doubling up to the
 * bound, so a ring that holds few trades costs little: a market's trades.
 */
export class TradeRing {
  /** The rows, `width` numbers each; replaced when the ring grows. */
  rows: Float64Array;
  private count = 0;
  /** The row of the oldest trade once the ring is full (0 before). */
  private start = 0;

  constructor(
    readonly capacity: number,
    readonly width: number,
  ) {
    this.rows = new Float64Array(Math.min(capacity, FIRST_ROWS) * width);
  }

  /**
   * Makes room for a new newest row and returns its offset in `rows` (read `rows` after the call),
   * for the caller to write every field. Only for a capacity above 0.
   */
  claim(): number {
    const capacity = this.capacity;
    const width = this.width;
    let slot: number;
    if (this.count < capacity) {
      slot = this.count++;
      if (slot * width === this.rows.length) {
        const rows = new Float64Array(Math.min(capacity, slot * 2) * width);
        rows.set(this.rows);
        this.rows = rows;
      }
    } else {
      slot = this.start;
      this.start = slot + 1 === capacity ? 0 : slot + 1;
    }
    return slot * width;
  }

  /** Appends a copy of `row` (`width` numbers); nothing when the capacity is 0. */
  push(row: Float64Array): void {
    if (this.capacity === 0) return;
    const at = this.claim(); // first: it may replace `rows`
    this.rows.set(row, at);
  }

  get size(): number {
    return this.count;
  }

  /** Field `field` of the i-th newest row (0: the newest), i below size. */
  newest(i: number, field: number): number {
    const slot = (this.start + this.count - 1 - i) % this.count;
    return this.rows[slot * this.width + field]!;
  }

  /** A copy of the rows, oldest first. */
  copyRows(): Float64Array {
    const width = this.width;
    const out = new Float64Array(this.count * width);
    const head = this.rows.subarray(this.start * width, this.count * width);
    out.set(head);
    out.set(this.rows.subarray(0, this.start * width), head.length);
    return out;
  }
}

/** Rows of a chunk of FillRings: 16 fills, 1 KB. */
const CHUNK_ROWS = 16;
const CHUNK_SHIFT = 4;
const CHUNK = CHUNK_ROWS * FILL_FIELDS;
/** Chunks of a slab: 256, 256 KB. */
const SLAB_SHIFT = 8;
const SLAB_CHUNKS = 1 << SLAB_SHIFT;
const FIRST_ACCOUNTS = 64;

/**
 * An account's head in FillRings: four int32s, 16 bytes, so that one cache line holds all that a
 * fill reads and writes beside its row. COUNT: fills held; NEXT: the ring slot the next fill goes
 * to (the oldest fill's once the ring is full); AT: the offset of the last fill's row in its slab;
 * SLAB: that slab's number.
 */
const HEAD = 4;
const COUNT = 0;
const NEXT = 1;
const AT = 2;
const SLAB = 3;

/**
 * Each account's newest `capacity` fills (FILL rows), all accounts' rings in 16-row chunks of a
 * few large slabs, a ring taking a chunk as it fills up. Not one array per user grown by doubling:
 * thousands of users' small arrays, each replaced several times as it grew, were as many
 * ArrayBuffers, and their memory outside the heap brought on full garbage collections (measured:
 * most of what recording fills cost the engine bench). Slabs are added, never copied or dropped.
 * A fill's row follows the account's last one in its chunk, so recording it reads only the
 * account's head; the chunk table is read once every 16 fills.
 */
export class FillRings {
  /** The slab of the row `claim` returned last. */
  rows: Float64Array = new Float64Array(0);
  private readonly slabs: Float64Array[] = [];
  private chunks = 0;
  private readonly chunksPerRing: number;
  /** By account: the chunk number of each chunk of its ring (ring chunk k at account × chunksPerRing + k). */
  private chunkOf: Int32Array;
  /** By account: its HEAD ints. Int32: the capacity is bounded far below 2^31 by chunkOf's size. */
  private heads = new Int32Array(FIRST_ACCOUNTS * HEAD);

  constructor(readonly capacity: number) {
    this.chunksPerRing = Math.ceil(capacity / CHUNK_ROWS);
    this.chunkOf = new Int32Array(FIRST_ACCOUNTS * this.chunksPerRing);
  }

  /**
   * Makes room for a new newest fill of `account`: returns its offset in `rows`, which now is its
   * slab, for the caller to write every field. Only for a capacity above 0.
   */
  claim(account: number): number {
    const head = account * HEAD;
    if (head >= this.heads.length) this.growAccounts(account);
    const heads = this.heads;
    const slot = heads[head + NEXT]!;
    const count = heads[head + COUNT]!;
    let at: number;
    if ((slot & (CHUNK_ROWS - 1)) === 0) {
      at = this.enterChunk(account, slot, count);
    } else {
      at = heads[head + AT]! + FILL_FIELDS;
      heads[head + AT] = at;
    }
    if (count < this.capacity) heads[head + COUNT] = count + 1;
    heads[head + NEXT] = slot + 1 === this.capacity ? 0 : slot + 1;
    this.rows = this.slabs[heads[head + SLAB]!]!;
    return at;
  }

  /** Appends a copy of `row` (FILL_FIELDS numbers) to the account's ring; nothing when the capacity is 0. */
  push(account: number, row: Float64Array): void {
    if (this.capacity === 0) return;
    const at = this.claim(account); // first: it sets `rows`
    this.rows.set(row, at);
  }

  /** Fills the account holds. */
  size(account: number): number {
    return account * HEAD < this.heads.length ? this.heads[account * HEAD + COUNT]! : 0;
  }

  /** Field `field` of the account's i-th newest fill (0: the newest), i below its size. */
  newest(account: number, i: number, field: number): number {
    const slot = (this.heads[account * HEAD + NEXT]! - 1 - i + this.capacity) % this.capacity;
    const chunk = this.chunkOf[account * this.chunksPerRing + (slot >> CHUNK_SHIFT)]!;
    return this.slabs[chunk >> SLAB_SHIFT]![offset(chunk, slot) + field]!;
  }

  /** A copy of the account's fills, oldest first. */
  copyRows(account: number): Float64Array {
    const count = this.size(account);
    const out = new Float64Array(count * FILL_FIELDS);
    for (let i = 0; i < count; i++) {
      for (let f = 0; f < FILL_FIELDS; f++) out[i * FILL_FIELDS + f] = this.newest(account, count - 1 - i, f);
    }
    return out;
  }

  /**
   * The first slot of a ring chunk: the chunk is taken from the pool while the ring is not yet
   * full, the one already held after. Points the account's head at the slot; returns its offset.
   */
  private enterChunk(account: number, slot: number, count: number): number {
    const k = account * this.chunksPerRing + (slot >> CHUNK_SHIFT);
    if (count < this.capacity) this.chunkOf[k] = this.newChunk();
    const chunk = this.chunkOf[k]!;
    const at = offset(chunk, slot);
    this.heads[account * HEAD + AT] = at;
    this.heads[account * HEAD + SLAB] = chunk >> SLAB_SHIFT;
    return at;
  }

  private newChunk(): number {
    if ((this.chunks & (SLAB_CHUNKS - 1)) === 0) this.slabs.push(new Float64Array(SLAB_CHUNKS * CHUNK));
    return this.chunks++;
  }

  private growAccounts(account: number): void {
    let length = this.heads.length / HEAD;
    while (length <= account) length *= 2;
    const heads = new Int32Array(length * HEAD);
    heads.set(this.heads);
    this.heads = heads;
    const chunkOf = new Int32Array(length * this.chunksPerRing);
    chunkOf.set(this.chunkOf);
    this.chunkOf = chunkOf;
  }
}

/** Where ring slot `slot`, in chunk `chunk`, starts in the chunk's slab. */
function offset(chunk: number, slot: number): number {
  return (chunk & (SLAB_CHUNKS - 1)) * CHUNK + (slot & (CHUNK_ROWS - 1)) * FILL_FIELDS;
}
