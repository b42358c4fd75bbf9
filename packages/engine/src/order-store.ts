/**
 * Where orders live: every order is a slot of 88 bytes in one ArrayBuffer, named by an OrderRef
 * (the slot number; 0 means none). Measured on the benchmark: as JS objects, its ~700k long-lived
 * orders cost about a third of the run in young-generation GC (each one copied twice, with the
 * boxes of its number fields) and a cache miss per pointer hop; in a typed array the GC never sees
 * them, and an order is at most two cache lines.
 *
 * A slot holds the order's money and times as float64 (prices, quantities and locks are numbers of
 * units, exact because the engine bounds them to 2^53-1, see settlement.ts), then its links, indexes
 * and flags as int32, read through a Float64Array and an Int32Array over the same buffer: 88 bytes
 * rather than 16 float64 (measured: 170 -> 130 B per resting order). Slots of evicted orders are
 * reused. An order names its user, market and locked asset by index (into the engine's accounts,
 * markets and assets): the store depends on nothing of the engine but the API types.
 */
import type { CancelReason, OrderStatus, OrderType, OrderView, SelfTradePrevention, Side, TimeInForce } from './api';
import * as rules from './validation';

export type OrderRef = number;
export const NO_ORDER: OrderRef = 0;

// Float64 fields: offsets within a slot's F_STRIDE float64 elements. What is left to fill is
// QUANTITY - FILLED (both exact), not a field of its own.
const ID = 0;
const PRICE = 1; // limit price; 0 for market orders, which have none (and never rest)
const QUANTITY = 2;
const FILLED = 3;
const LOCKED = 4; // what the order still reserves: quote for a buy, base for a sell
const CREATED_AT = 5;
const UPDATED_AT = 6;
const F_FIELDS = 7;
// Int32 fields: offsets within a slot's I_STRIDE int32 elements, after the float64 ones.
const PREV = F_FIELDS * 2; // FIFO links within the price level, while resting
const NEXT = PREV + 1; // ... and, once closed, the next closed order of the same user (Account)
const USER_PREV = PREV + 2; // links in the owner's list of open orders (Account), while open
const USER_NEXT = PREV + 3;
const ACCOUNT = PREV + 4; // Account.index
const MARKET = PREV + 5; // Market.index
const FLAGS = PREV + 6;
const LOCK_ASSET = PREV + 7; // asset index of what LOCKED reserves
const F_STRIDE = F_FIELDS + 4; // the 8 int32 fields take 4 float64 elements
const I_STRIDE = F_STRIDE * 2;

/** Position of `value` in `values`, by a plain loop: Array.prototype.indexOf showed in profiles. */
function code<T>(values: readonly T[], value: T): number {
  for (let i = 0; i < values.length; i++) if (values[i] === value) return i;
  throw new Error(`${String(value)} is not one of ${values.join(', ')}`);
}

// FLAGS bits: the enumerations, packed (each value stored as its position in its list). Module-local
// copies: tsx (esbuild) compiles each use of an imported binding into getter calls.
const SIDES: readonly Side[] = rules.SIDES;
const TYPES: readonly OrderType[] = ['limit', 'market'];
const STATUSES: readonly OrderStatus[] = ['open', 'partially_filled', 'filled', 'cancelled'];
const TIMES_IN_FORCE: readonly TimeInForce[] = rules.TIMES_IN_FORCE;
const STPS: readonly SelfTradePrevention[] = rules.SELF_TRADE_PREVENTIONS;
const CANCEL_REASONS: readonly (CancelReason | undefined)[] = [undefined, 'user', 'ioc', 'self_trade', 'expired', 'dead_man', 'disconnect', 'oco'];
const GTD = code(TIMES_IN_FORCE, 'GTD');
// Each field has room for the values other order kinds and cancel reasons will add; the snapshot's
// flag layout (snapshot.ts) is separate, so this packing may change without a format change.
const SIDE_BIT = 0; // 1 bit
const TYPE_BIT = 1; // 2 bits
const TYPE_WIDTH = 2;
const STATUS_BIT = 3; // 3 bits
const STATUS_WIDTH = 3;
const TIF_BIT = 6; // 3 bits
const TIF_WIDTH = 3;
const POST_ONLY_BIT = 9; // 1 bit
const STP_BIT = 10; // 2 bits
const REASON_BIT = 12; // 4 bits
const REASON_WIDTH = 4;
const ON_BOOK_BIT = 16; // 1 bit: resting in a price level
const CLIENT_ID_BIT = 17; // 1 bit: has a client order id (in clientOrderIds)
const STOP_BIT = 18; // 1 bit: a stop order (its stop price in stopPrices)
const WAITING_BIT = 19; // 1 bit: a stop waiting for its trigger (status 'untriggered'; STATUS says open)
const OCO_BIT = 20; // 1 bit: one leg of an open one-cancels-other pair (its partner in ocoPartners)
const field = (flags: number, bit: number, width: number): number => (flags >>> bit) & ((1 << width) - 1);

/** The FLAGS bits of each value, for a restore that packs a record's flags at once (see restore()). */
export const FLAG_BITS = {
  side: (side: Side): number => code(SIDES, side) << SIDE_BIT,
  type: (type: OrderType): number => code(TYPES, type) << TYPE_BIT,
  /** 'untriggered' is an open order waiting for its trigger. */
  status: (status: OrderStatus): number => (status === 'untriggered' ? 1 << WAITING_BIT : code(STATUSES, status) << STATUS_BIT),
  timeInForce: (tif: TimeInForce): number => code(TIMES_IN_FORCE, tif) << TIF_BIT,
  selfTradePrevention: (stp: SelfTradePrevention): number => code(STPS, stp) << STP_BIT,
  cancelReason: (reason: CancelReason | undefined): number => code(CANCEL_REASONS, reason) << REASON_BIT,
  postOnly: 1 << POST_ONLY_BIT,
  clientOrderId: 1 << CLIENT_ID_BIT,
  stop: 1 << STOP_BIT,
} as const;

/** Where restore() finds each float64 field of an order: the slot's own order. */
export const RESTORED_FIELDS = { id: ID, price: PRICE, quantity: QUANTITY, filled: FILLED, locked: LOCKED, createdAt: CREATED_AT, updatedAt: UPDATED_AT, count: F_FIELDS } as const;

export class OrderStore {
  /** The slots' float64 fields ... */
  private f = new Float64Array(1024 * F_STRIDE);
  /** ... and their int32 fields, over the same buffer. */
  private i = new Int32Array(this.f.buffer);
  private slots = 1024;
  /** Next never-used slot; slot 0 stays unused so that 0 can mean "no order". */
  private top = 1;
  private readonly free: OrderRef[] = [];
  /**
   * Client order ids by slot, for the orders that have one (flagged, so that the others never look):
   * a Map, as a per-slot array would grow with the store.
   */
  private readonly clientOrderIds = new Map<OrderRef, string>();
  /** Expiry (Unix ms) by slot, for the GTD orders: a Map for the same reason. */
  private readonly expireAts = new Map<OrderRef, number>();
  /** Stop prices of the orders flagged as stops, by slot; the same reasoning. */
  private readonly stopPrices = new Map<OrderRef, number>();
  /** Each open one-cancels-other leg's partner, both ways. */
  private readonly ocoPartners = new Map<OrderRef, OrderRef>();
  /**
   * The fees of the orders that have paid some (or been rebated), in units of the asset each
   * receives: a Map, empty on markets without fees, rather than a field of every slot.
   */
  private readonly fees = new Map<OrderRef, bigint>();

  constructor(
    /** Where ACCOUNT and MARKET point: user ids by account index, market symbols by market index. */
    private readonly userIds: readonly string[],
    private readonly symbols: readonly string[],
  ) {}

  /**
   * A new open order. Positional parameters rather than an options object: one object per order,
   * with boxes for its number fields, measured as a tenth of the engine's allocation.
   */
  create(
    id: number,
    accountIndex: number,
    marketIndex: number,
    lockIndex: number,
    side: Side,
    type: OrderType,
    price: number,
    quantity: number,
    locked: number,
    createdAt: number,
    timeInForce: TimeInForce,
    postOnly: boolean,
    selfTradePrevention: SelfTradePrevention,
    clientOrderId: string | undefined,
    expireAt: number | undefined,
  ): OrderRef {
    const ref = this.free.length > 0 ? this.free.pop()! : this.grow();
    // A freed stop's price stays readable (release) until its slot is reused, here.
    if (this.stopPrices.size > 0) this.stopPrices.delete(ref);
    const flags =
      ((side === 'buy' ? 0 : 1) << SIDE_BIT) |
      ((type === 'limit' ? 0 : code(TYPES, type)) << TYPE_BIT) |
      (code(TIMES_IN_FORCE, timeInForce) << TIF_BIT) |
      ((postOnly ? 1 : 0) << POST_ONLY_BIT) |
      (code(STPS, selfTradePrevention) << STP_BIT) |
      ((clientOrderId === undefined ? 0 : 1) << CLIENT_ID_BIT);
    const f = this.f;
    const at = ref * F_STRIDE;
    f[at + ID] = id;
    f[at + PRICE] = price;
    f[at + QUANTITY] = quantity;
    f[at + FILLED] = 0;
    f[at + LOCKED] = locked;
    f[at + CREATED_AT] = createdAt;
    f[at + UPDATED_AT] = createdAt;
    this.fillInts(ref, accountIndex, marketIndex, lockIndex, flags);
    if (clientOrderId !== undefined) this.clientOrderIds.set(ref, clientOrderId);
    if (expireAt !== undefined) this.expireAts.set(ref, expireAt);
    return ref;
  }

  /**
   * An order as a snapshot recorded it: `fields` holds its RESTORED_FIELDS (a typed array: no
   * float64 arguments to box if the call is not inlined), and `flags` ORs together the FLAG_BITS of
   * its values (its client order id's and stop's bits set when it has them).
   */
  restore(
    fields: Float64Array,
    accountIndex: number,
    marketIndex: number,
    lockIndex: number,
    flags: number,
    clientOrderId: string | undefined,
    expireAt: number | undefined,
    stopPrice: number | undefined,
  ): OrderRef {
    const ref = this.free.length > 0 ? this.free.pop()! : this.grow();
    if (this.stopPrices.size > 0) this.stopPrices.delete(ref);
    const f = this.f;
    const at = ref * F_STRIDE;
    for (let k = 0; k < F_FIELDS; k++) f[at + k] = fields[k]!;
    this.fillInts(ref, accountIndex, marketIndex, lockIndex, flags);
    if (clientOrderId !== undefined) this.clientOrderIds.set(ref, clientOrderId);
    if (expireAt !== undefined) this.expireAts.set(ref, expireAt);
    if (stopPrice !== undefined) this.stopPrices.set(ref, stopPrice);
    return ref;
  }

  private fillInts(ref: OrderRef, accountIndex: number, marketIndex: number, lockIndex: number, flags: number): void {
    const i = this.i;
    const at = ref * I_STRIDE;
    i[at + PREV] = NO_ORDER;
    i[at + NEXT] = NO_ORDER;
    i[at + USER_PREV] = NO_ORDER;
    i[at + USER_NEXT] = NO_ORDER;
    i[at + ACCOUNT] = accountIndex;
    i[at + MARKET] = marketIndex;
    i[at + FLAGS] = flags;
    i[at + LOCK_ASSET] = lockIndex;
  }

  /**
   * Frees the slot of an order nothing refers to any more. Its fields (its stop price too) stay
   * readable until the next create(), which only a new command does: the closing command may still look at it.
   */
  release(ref: OrderRef): void {
    if (this.hasClientOrderId(ref)) this.clientOrderIds.delete(ref);
    if (this.isGtd(ref)) this.expireAts.delete(ref);
    if (this.fees.size > 0) this.fees.delete(ref);
    this.free.push(ref);
  }

  /** Makes room for `orders` orders at once (a restore knows how many it brings). */
  reserve(orders: number): void {
    if (this.slots <= orders) this.resize(orders + 1);
  }

  /** Slots allocated, used or not: what the next order may take before the store copies itself. */
  capacity(): number {
    return this.slots;
  }

  private grow(): OrderRef {
    if (this.top === this.slots) this.resize(this.slots * 2);
    return this.top++;
  }

  private resize(capacity: number): void {
    const f = new Float64Array(capacity * F_STRIDE);
    f.set(this.f.subarray(0, this.top * F_STRIDE));
    this.f = f;
    this.i = new Int32Array(f.buffer);
    this.slots = capacity;
  }

  // ---- reading ----------------------------------------------------------------------------------

  id(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + ID]!;
  }
  private hasClientOrderId(ref: OrderRef): boolean {
    return field(this.flags(ref), CLIENT_ID_BIT, 1) === 1;
  }
  clientOrderId(ref: OrderRef): string | undefined {
    return this.hasClientOrderId(ref) ? this.clientOrderIds.get(ref) : undefined;
  }
  price(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + PRICE]!;
  }
  quantity(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + QUANTITY]!;
  }
  filled(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + FILLED]!;
  }
  remaining(ref: OrderRef): number {
    const at = ref * F_STRIDE;
    return this.f[at + QUANTITY]! - this.f[at + FILLED]!;
  }
  locked(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + LOCKED]!;
  }
  createdAt(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + CREATED_AT]!;
  }
  updatedAt(ref: OrderRef): number {
    return this.f[ref * F_STRIDE + UPDATED_AT]!;
  }
  prev(ref: OrderRef): OrderRef {
    return this.i[ref * I_STRIDE + PREV]!;
  }
  next(ref: OrderRef): OrderRef {
    return this.i[ref * I_STRIDE + NEXT]!;
  }
  userPrev(ref: OrderRef): OrderRef {
    return this.i[ref * I_STRIDE + USER_PREV]!;
  }
  userNext(ref: OrderRef): OrderRef {
    return this.i[ref * I_STRIDE + USER_NEXT]!;
  }
  accountIndex(ref: OrderRef): number {
    return this.i[ref * I_STRIDE + ACCOUNT]!;
  }
  userId(ref: OrderRef): string {
    return this.userIds[this.i[ref * I_STRIDE + ACCOUNT]!]!;
  }
  marketIndex(ref: OrderRef): number {
    return this.i[ref * I_STRIDE + MARKET]!;
  }
  symbol(ref: OrderRef): string {
    return this.symbols[this.i[ref * I_STRIDE + MARKET]!]!;
  }
  private flags(ref: OrderRef): number {
    return this.i[ref * I_STRIDE + FLAGS]!;
  }
  isBuy(ref: OrderRef): boolean {
    return field(this.flags(ref), SIDE_BIT, 1) === 0;
  }
  side(ref: OrderRef): Side {
    return SIDES[field(this.flags(ref), SIDE_BIT, 1)]!;
  }
  type(ref: OrderRef): OrderType {
    return TYPES[field(this.flags(ref), TYPE_BIT, TYPE_WIDTH)]!;
  }
  status(ref: OrderRef): OrderStatus {
    const flags = this.flags(ref);
    return field(flags, WAITING_BIT, 1) === 1 ? 'untriggered' : STATUSES[field(flags, STATUS_BIT, STATUS_WIDTH)]!;
  }
  /** A stop order, waiting or triggered. */
  isStop(ref: OrderRef): boolean {
    return field(this.flags(ref), STOP_BIT, 1) === 1;
  }
  /** A stop order still waiting for its trigger (open, off the book). */
  isWaiting(ref: OrderRef): boolean {
    return field(this.flags(ref), WAITING_BIT, 1) === 1;
  }
  /** The stop price of a stop order (isStop). */
  stopPrice(ref: OrderRef): number {
    return this.stopPrices.get(ref)!;
  }
  /** The one-cancels-other pairs by order id, each once (lower id first), sorted. */
  ocoPairs(): [number, number][] {
    const pairs: [number, number][] = [];
    for (const [a, b] of this.ocoPartners) if (this.id(a) < this.id(b)) pairs.push([this.id(a), this.id(b)]);
    return pairs.sort(([a], [b]) => a - b);
  }
  hasOcoPartner(ref: OrderRef): boolean {
    return field(this.flags(ref), OCO_BIT, 1) === 1;
  }
  /** The other leg of an open one-cancels-other pair (hasOcoPartner). */
  ocoPartner(ref: OrderRef): OrderRef {
    return this.ocoPartners.get(ref)!;
  }
  isOpen(ref: OrderRef): boolean {
    return field(this.flags(ref), STATUS_BIT, STATUS_WIDTH) < 2;
  }
  /** Has an expiry: time in force GTD. */
  isGtd(ref: OrderRef): boolean {
    return field(this.flags(ref), TIF_BIT, TIF_WIDTH) === GTD;
  }
  expireAt(ref: OrderRef): number | undefined {
    return this.isGtd(ref) ? this.expireAts.get(ref) : undefined;
  }
  timeInForce(ref: OrderRef): TimeInForce {
    return TIMES_IN_FORCE[field(this.flags(ref), TIF_BIT, TIF_WIDTH)]!;
  }
  postOnly(ref: OrderRef): boolean {
    return field(this.flags(ref), POST_ONLY_BIT, 1) === 1;
  }
  selfTradePrevention(ref: OrderRef): SelfTradePrevention {
    return STPS[field(this.flags(ref), STP_BIT, 2)]!;
  }
  cancelReason(ref: OrderRef): CancelReason | undefined {
    return CANCEL_REASONS[field(this.flags(ref), REASON_BIT, REASON_WIDTH)];
  }
  isOnBook(ref: OrderRef): boolean {
    return field(this.flags(ref), ON_BOOK_BIT, 1) === 1;
  }
  /** The sum of the order's fees (negative: rebates), in the asset it receives. */
  feesPaid(ref: OrderRef): bigint {
    return this.fees.size === 0 ? 0n : (this.fees.get(ref) ?? 0n);
  }
  /** Asset index of what the order locks (quote for a buy, base for a sell). */
  lockIndex(ref: OrderRef): number {
    return this.i[ref * I_STRIDE + LOCK_ASSET]!;
  }

  // ---- changing ---------------------------------------------------------------------------------

  setLocked(ref: OrderRef, locked: number): void {
    this.f[ref * F_STRIDE + LOCKED] = locked;
  }
  setPrev(ref: OrderRef, prev: OrderRef): void {
    this.i[ref * I_STRIDE + PREV] = prev;
  }
  setNext(ref: OrderRef, next: OrderRef): void {
    this.i[ref * I_STRIDE + NEXT] = next;
  }
  setUserPrev(ref: OrderRef, prev: OrderRef): void {
    this.i[ref * I_STRIDE + USER_PREV] = prev;
  }
  setUserNext(ref: OrderRef, next: OrderRef): void {
    this.i[ref * I_STRIDE + USER_NEXT] = next;
  }
  setOnBook(ref: OrderRef, onBook: boolean): void {
    this.setBit(ref, ON_BOOK_BIT, onBook);
  }
  private setBit(ref: OrderRef, bit: number, on: boolean): void {
    const at = ref * I_STRIDE + FLAGS;
    this.i[at] = (this.i[at]! & ~(1 << bit)) | ((on ? 1 : 0) << bit);
  }

  /** Makes a just-created order a stop with this stop price, waiting for its trigger. */
  makeStop(ref: OrderRef, stopPrice: number): void {
    this.stopPrices.set(ref, stopPrice);
    this.setBit(ref, STOP_BIT, true);
    this.setBit(ref, WAITING_BIT, true);
  }
  /** A waiting stop's trigger: from now on an ordinary open order (that keeps its stop price). */
  trigger(ref: OrderRef, timestamp: number): void {
    this.setBit(ref, WAITING_BIT, false);
    this.f[ref * F_STRIDE + UPDATED_AT] = timestamp;
  }
  linkOco(a: OrderRef, b: OrderRef): void {
    this.ocoPartners.set(a, b);
    this.ocoPartners.set(b, a);
    this.setBit(a, OCO_BIT, true);
    this.setBit(b, OCO_BIT, true);
  }
  unlinkOco(a: OrderRef, b: OrderRef): void {
    this.ocoPartners.delete(a);
    this.ocoPartners.delete(b);
    this.setBit(a, OCO_BIT, false);
    this.setBit(b, OCO_BIT, false);
  }

  /** The orders with fees, and their sums (what a snapshot records). */
  feeEntries(): [OrderRef, bigint][] {
    return [...this.fees];
  }

  /** Adds a fill's fee (or rebate, negative) to the order's sum; a snapshot's restore sets it alike. */
  addFee(ref: OrderRef, fee: bigint): void {
    if (fee === 0n) return;
    const sum = this.feesPaid(ref) + fee;
    if (sum === 0n) this.fees.delete(ref);
    else this.fees.set(ref, sum);
  }

  /** New price and total quantity (above what is filled) of an amended open order. */
  amend(ref: OrderRef, price: number, quantity: number, timestamp: number): void {
    const f = this.f;
    const at = ref * F_STRIDE;
    f[at + PRICE] = price;
    f[at + QUANTITY] = quantity;
    f[at + UPDATED_AT] = timestamp;
  }

  recordFill(ref: OrderRef, quantity: number, timestamp: number): void {
    const f = this.f;
    const at = ref * F_STRIDE;
    const filled = f[at + FILLED]! + quantity;
    f[at + FILLED] = filled;
    this.setStatus(ref, filled === f[at + QUANTITY]! ? 'filled' : 'partially_filled', undefined);
    f[at + UPDATED_AT] = timestamp;
  }

  cancel(ref: OrderRef, reason: CancelReason, timestamp: number): void {
    this.setBit(ref, WAITING_BIT, false);
    this.setStatus(ref, 'cancelled', reason);
    this.f[ref * F_STRIDE + UPDATED_AT] = timestamp;
  }

  private setStatus(ref: OrderRef, status: OrderStatus, reason: CancelReason | undefined): void {
    const at = ref * I_STRIDE + FLAGS;
    const keep = this.i[at]! & ~((((1 << STATUS_WIDTH) - 1) << STATUS_BIT) | (((1 << REASON_WIDTH) - 1) << REASON_BIT));
    this.i[at] = keep | (code(STATUSES, status) << STATUS_BIT) | (code(CANCEL_REASONS, reason) << REASON_BIT);
  }

  /**
   * The order as the API shows it, at this moment. The bigint arguments are values the caller
   * already holds (each conversion saved counts on the placement path); omitted ones are converted.
   */
  view(ref: OrderRef, price?: bigint, quantity?: bigint, filled?: bigint, locked?: bigint): OrderView {
    const d = this.f;
    const at = ref * F_STRIDE;
    const flags = this.i[ref * I_STRIDE + FLAGS]!;
    const isLimit = field(flags, TYPE_BIT, TYPE_WIDTH) === 0;
    return {
      orderId: d[at + ID]!,
      clientOrderId: field(flags, CLIENT_ID_BIT, 1) === 1 ? this.clientOrderIds.get(ref) : undefined,
      userId: this.userIds[this.i[ref * I_STRIDE + ACCOUNT]!]!,
      market: this.symbols[this.i[ref * I_STRIDE + MARKET]!]!,
      side: SIDES[field(flags, SIDE_BIT, 1)]!,
      type: isLimit ? 'limit' : 'market',
      price: isLimit ? (price ?? BigInt(d[at + PRICE]!)) : undefined,
      quantity: quantity ?? BigInt(d[at + QUANTITY]!),
      filled: filled ?? BigInt(d[at + FILLED]!),
      status: field(flags, WAITING_BIT, 1) === 1 ? 'untriggered' : STATUSES[field(flags, STATUS_BIT, STATUS_WIDTH)]!,
      cancelReason: CANCEL_REASONS[field(flags, REASON_BIT, REASON_WIDTH)],
      timeInForce: TIMES_IN_FORCE[field(flags, TIF_BIT, TIF_WIDTH)]!,
      postOnly: field(flags, POST_ONLY_BIT, 1) === 1,
      selfTradePrevention: STPS[field(flags, STP_BIT, 2)]!,
      expireAt: field(flags, TIF_BIT, TIF_WIDTH) === GTD ? this.expireAts.get(ref) : undefined,
      locked: locked ?? BigInt(d[at + LOCKED]!),
      feesPaid: this.fees.size === 0 ? 0n : (this.fees.get(ref) ?? 0n),
      createdAt: d[at + CREATED_AT]!,
      updatedAt: d[at + UPDATED_AT]!,
      stopPrice: field(flags, STOP_BIT, 1) === 1 ? BigInt(this.stopPrices.get(ref)!) : undefined,
      ocoOrderId: field(flags, OCO_BIT, 1) === 1 ? d[this.ocoPartners.get(ref)! * F_STRIDE + ID] : undefined,
    };
  }
}
