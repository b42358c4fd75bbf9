/**
 * Every retrievable order (open, or closed and still retained) by id, across users and markets.
 *
 * An open-addressing hash table (linear probing, backward-shift deletion, so no tombstones) over
 * typed arrays: the GC never scans it, and measured on the benchmark workload it costs a fraction
 * of a V8 Map of the same size, whose insert/delete churn keeps rehashing a large table.
 * Order ids are positive safe integers (checked by the engine), so id 0 marks an empty slot.
 *
 * The sequencer hands out ids in increasing order, so the hash keeps runs of BLOCK consecutive ids
 * in consecutive slots (and scatters the blocks): placing an order then touches the cache lines
 * its predecessors just warmed instead of a random one.
 */
import { NO_ORDER as NONE, type OrderRef } from './order-store';

/**
 * A module-local copy: tsx (esbuild) compiles each use of an imported binding into getter calls,
 * measured at 10-15% of the engine's time.
 */
const NO_ORDER = NONE;

const BLOCK_BITS = 4;
const BLOCK = 1 << BLOCK_BITS;
const MIN_CAPACITY = 1024;
/** addAll() groups entries into 2^BUCKET_BITS runs of neighbouring home slots. */
const BUCKET_BITS = 12;

export class OrderIndex {
  private ids = new Float64Array(MIN_CAPACITY);
  private refs = new Int32Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  /** 32 - log2(capacity / BLOCK): keeps the top bits of the block hash, the well-mixed ones. */
  private blockShift = 32 - Math.log2(MIN_CAPACITY / BLOCK);
  private size = 0;

  /** Home slot of `id`: its block (Fibonacci hashing of the id's high bits) plus its offset in it. */
  private home(id: number): number {
    const low = id | 0;
    const block = Math.imul((low >>> BLOCK_BITS) ^ Math.imul((id / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1) >>> this.blockShift;
    return (block << BLOCK_BITS) | (low & (BLOCK - 1));
  }

  get(orderId: number): OrderRef {
    const ids = this.ids;
    for (let i = this.home(orderId); ; i = (i + 1) & this.mask) {
      const id = ids[i]!;
      if (id === orderId) return this.refs[i]!;
      if (id === 0) return NO_ORDER;
    }
  }

  /** Slots allocated: bounded by the live orders (a test holds it there under churn), not by all orders ever added. */
  capacity(): number {
    return this.mask + 1;
  }

  has(orderId: number): boolean {
    return this.get(orderId) !== NO_ORDER;
  }

  /** Adds `orderId`, or returns false (nothing changed) if it is there: a restore checks with the same probe. */
  add(orderId: number, ref: OrderRef): boolean {
    if (this.size * 2 >= this.mask) this.resize((this.mask + 1) * 2);
    const ids = this.ids;
    let i = this.home(orderId);
    for (let id = ids[i]!; id !== 0; id = ids[i]!) {
      if (id === orderId) return false;
      i = (i + 1) & this.mask;
    }
    ids[i] = orderId;
    this.refs[i] = ref;
    this.size++;
    return true;
  }

  /**
   * Adds many orders at once (ids[k] at refs[k]); returns the first id already there (those after
   * it are not added), or 0. Added in the order given (a snapshot's: by book level, unrelated to the
   * ids' hashes) each add is a cache miss somewhere in a table larger than the cache; grouped first
   * by home slot (a counting sort on its top bits), consecutive adds touch neighbouring slots.
   */
  addAll(ids: Float64Array, refs: Int32Array): number {
    const n = ids.length;
    this.reserve(this.size + n);
    const shift = Math.max(0, Math.log2(this.mask + 1) - BUCKET_BITS);
    const starts = new Int32Array(((this.mask + 1) >>> shift) + 1);
    for (let k = 0; k < n; k++) starts[(this.home(ids[k]!) >>> shift) + 1]!++;
    for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
    const groupedIds = new Float64Array(n);
    const groupedRefs = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const at = starts[this.home(ids[k]!) >>> shift]!++;
      groupedIds[at] = ids[k]!;
      groupedRefs[at] = refs[k]!;
    }
    for (let k = 0; k < n; k++) if (!this.add(groupedIds[k]!, groupedRefs[k]!)) return groupedIds[k]!;
    return 0;
  }

  remove(orderId: number): void {
    const ids = this.ids;
    const mask = this.mask;
    let hole = this.home(orderId);
    while (ids[hole] !== orderId) {
      if (ids[hole] === 0) return;
      hole = (hole + 1) & mask;
    }
    // Backward shift: pull later entries of the probe run into the hole unless that would move
    // them before their home slot, so that lookups never need tombstones.
    for (let i = (hole + 1) & mask; ids[i] !== 0; i = (i + 1) & mask) {
      const home = this.home(ids[i]!);
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        ids[hole] = ids[i]!;
        this.refs[hole] = this.refs[i]!;
        hole = i;
      }
    }
    ids[hole] = 0;
    this.size--;
  }

  /** Makes room for `orders` entries at once (a restore knows how many it brings). */
  reserve(orders: number): void {
    let capacity = this.mask + 1;
    while (orders * 2 >= capacity - 1) capacity *= 2;
    if (capacity !== this.mask + 1) this.resize(capacity);
  }

  private resize(capacity: number): void {
    const oldIds = this.ids;
    const oldRefs = this.refs;
    this.ids = new Float64Array(capacity);
    this.refs = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.blockShift = 32 - Math.log2(capacity / BLOCK);
    this.size = 0;
    for (let i = 0; i < oldIds.length; i++) if (oldIds[i] !== 0) this.add(oldIds[i]!, oldRefs[i]!);
  }
}
