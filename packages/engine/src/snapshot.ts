/**
 * The engine's whole state as a binary snapshot, and back.
 *
 * Encoded at once, reading the engine's state in place: the engine cannot change meanwhile (the
 * matching service snapshots a replica in a worker thread, see snapshot-replica.ts).
 *
 * Layout, little-endian: a header — magic "OBSNAPSH", format version u32, section count u32 — then
 * the sections, each a header — tag (4 ASCII bytes), CRC-32 of the payload u32, payload length
 * f64 — and its payload:
 *   SEQN  lastSeq f64: the only section stateHash leaves out
 *   META  nextTradeId f64, accounts u32, orders u32
 *   MRKT  per market in config order: symbol, base, quote, bookSeq f64, then for bids and asks the
 *         number of levels u32 and each level's number of orders u32, best level first
 *   ACCT  per account in creation order: user id, [available u64, locked u64] per asset (the
 *         engine's asset order), retained closed orders u32
 *   ORDR  ORDER_BYTES per order: every book's orders (markets in config order, bids then asks,
 *         levels best first, each in queue order), then each account's retained closed orders,
 *         oldest closed first; its flags pack the enumerations as FLAGS_3 says
 *   CLID  the client order ids of the orders flagged as having one, in ORDR order
 * then the optional sections (OPTIONAL_TAGS), in that order, each written only when not empty:
 *   RTRY  the retry window (AIP-155), per account that has some, in creation order: account index
 *         u32; placement trades u32, each (by client order id, sorted) the id, trades u32 and each
 *         trade — tradeId f64, market index u32, price u64, quantity u64, quoteAmount u64, maker
 *         and taker order ids f64, maker and taker user ids, takerSide u8, timestamp f64, seq f64;
 *         placements of amended orders u32, each (sorted) the client order id, price f64 and
 *         quantity f64; deposit request ids u32, each (oldest first) the id, asset index u32 and
 *         amount u64.
 *   FEES  fees, in units of the asset each side receives (see settlement.ts): the orders that paid
 *         some, by id: u32 count, each order id f64 and its sum of fees i64 (negative: rebates);
 *         then the trades of RTRY that carry a fee, in RTRY's order: u32 count, each tradeId f64,
 *         maker fee i64 and taker fee i64 (every market without fees: none).
 *   LDGR  the funds ledger, per account that has entries, in creation order: account index u32,
 *         entries u32, each seq f64, timestamp f64, kind u8 (0 deposit, 1 withdrawal), asset
 *         index u32, amount u64, request id, admin id and reference each optional (u8 0 none, 1
 *         and the string), balanceAfter u64.
 *   HIST  trade history, from the first trade on: per market in config order its ring (trades
 *         u32, then each trade's row, oldest first: the TRADE fields of trade-ring.ts, each f64,
 *         fees signed),
 *         last price f64 (0: none), last trade time f64 and its minute buckets u32, each minute
 *         f64, open, high, low, close f64, trade count f64, volume and quote volume (decimal
 *         strings); then the accounts with fills u32, each account index u32 and its ring (fills
 *         u32, then each fill's row, oldest first: the FILL fields of trade-ring.ts, each f64,
 *         the fee signed).
 *   TIMR  the timers: the expiry f64 of each GTD order (time in force GTD), in ORDR order, then
 *         the armed dead-man switches u32, each account index u32 and deadline f64, by account.
 *   STOP  stop orders (stops.ts), written when some order of ORDR is one (flagged): the number of
 *         waiting stops u32, the stop price f64 of each flagged order in ORDR order, then the
 *         one-cancels-other pairs u32, each the two order ids f64 (lower first; pairs by lower
 *         id). ORDR lists the waiting stops (status untriggered) last, after the closed orders:
 *         per market in config order, buy stops then sell stops, each in trigger order.
 *   OCOR  the pairs placed with a client order id (AIP-155), per account that has some, in
 *         creation order: account index u32, pairs u32, each (by the client order id its limit
 *         order carries, sorted) the id, stop order id f64, stop price f64, stop limit price f64
 *         (0: a stop-market), then u8 1 and how the stop order ended once freed — price f64,
 *         quantity f64, filled f64, status u8, cancel reason u8 (ORDR's codes), fees i64,
 *         updatedAt f64 — or u8 0 while it is retained.
 *   LIMT  the limits (EngineLimits), once a configure command set them: each f64, in the order of
 *         LIMIT_NAMES (limits.ts). Without it, the limits are the config's: those of the data a
 *         snapshot written before limits were state came from.
 * stateHash covers every section but SEQN, so a state without an optional section's data hashes
 * as it did before that section existed.
 * Older formats still restore: 1 (the six required sections, narrower flags: FLAGS_1) with empty
 * retry state, and 2 (format 1 with RTRY always present); both without fees, ledger or history.
 * Strings are a u32 byte length and UTF-8. Canonical: the same command history gives the same bytes.
 * Restore checks the framing, then every invariant a command could never break (see restoreSnapshot).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { DepositRecord, OcoRetry, PlacedAs } from './account';
import type {
  CancelReason,
  EngineLimits,
  LedgerEntryKind,
  LedgerEntryView,
  MarketConfig,
  OrderStatus,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  TradeView,
} from './api';
import type { BookSide } from './book';
import { ExactSums } from './exact-sums';
import { MAX_UNITS } from './fixed-point';
import { invalidLimit, LIMIT_NAMES } from './limits';
import { FLAG_BITS, NO_ORDER, type OrderRef, type OrderStore, RESTORED_FIELDS as FIELD } from './order-store';
import type { PriceLevel } from './price-level';
import type { EngineState } from './state';
import type { MinuteBucket } from './ticker';
import { quoteAmount } from './settlement';
import { FILL, FILL_FIELDS, TRADE, TRADE_FIELDS } from './trade-ring';

const MAGIC = 'OBSNAPSH';
export const SNAPSHOT_VERSION = 3;
const FILE_HEADER_BYTES = 16;
const SECTION_HEADER_BYTES = 16;
/** The sections every snapshot has, in this order. */
export const REQUIRED_TAGS = ['SEQN', 'META', 'MRKT', 'ACCT', 'ORDR', 'CLID'] as const;
/**
 * The sections that follow them, in this order, each only when its state is not empty: so that a
 * state holding none of it hashes as it did before the section existed. A new kind of state gets a
 * new tag at the end of this list.
 */
export const OPTIONAL_TAGS = ['RTRY', 'FEES', 'LDGR', 'HIST', 'TIMR', 'STOP', 'OCOR', 'LIMT'] as const;
export const SECTION_TAGS = [...REQUIRED_TAGS, ...OPTIONAL_TAGS] as const;
export type SectionTag = (typeof SECTION_TAGS)[number];

/** Byte offsets within an order record of ORDR. */
export const ORDER_LAYOUT = {
  id: 0, price: 8, quantity: 16, filled: 24, locked: 32, createdAt: 40, updatedAt: 48, account: 56, market: 60, flags: 64,
} as const;
export const ORDER_BYTES = 68;

// The flags of an order record: each enumeration as its position in the list here. The lists are
// part of the file format, independent of how the order store packs the same values.
const SIDES: readonly Side[] = ['buy', 'sell'];
const TYPES: readonly OrderType[] = ['limit', 'market'];
const STATUSES: readonly OrderStatus[] = ['open', 'partially_filled', 'filled', 'cancelled', 'untriggered'];
const TIMES_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK', 'GTD'];
const STPS: readonly SelfTradePrevention[] = ['cancel_resting', 'cancel_taker', 'cancel_both'];
const CANCEL_REASONS: readonly (CancelReason | undefined)[] = [undefined, 'user', 'ioc', 'self_trade', 'expired', 'dead_man', 'disconnect', 'oco'];

type FlagField<T> = readonly [shift: number, width: number, values: readonly T[]];
/** Where each enumeration sits in an order record's flags: values appended to a list keep their codes. */
interface FlagLayout {
  readonly side: FlagField<Side>;
  readonly type: FlagField<OrderType>;
  readonly status: FlagField<OrderStatus>;
  readonly timeInForce: FlagField<TimeInForce>;
  readonly selfTradePrevention: FlagField<SelfTradePrevention>;
  readonly cancelReason: FlagField<CancelReason | undefined>;
  readonly postOnlyBit: number;
  readonly clientIdBit: number;
  /** Set for a stop order, whose stop price is in STOP (format 3). */
  readonly stopBit?: number;
}
/** Formats 1 and 2: no room for more order types, statuses, times in force or cancel reasons. */
const FLAGS_1: FlagLayout = {
  side: [0, 1, SIDES], type: [1, 1, TYPES], status: [2, 2, STATUSES], timeInForce: [4, 2, TIMES_IN_FORCE],
  selfTradePrevention: [7, 2, STPS], cancelReason: [9, 2, CANCEL_REASONS], postOnlyBit: 6, clientIdBit: 11,
};
const FLAGS_3: FlagLayout = {
  side: [0, 1, SIDES], type: [1, 2, TYPES], status: [3, 3, STATUSES], timeInForce: [6, 3, TIMES_IN_FORCE],
  selfTradePrevention: [10, 2, STPS], cancelReason: [12, 4, CANCEL_REASONS], postOnlyBit: 9, clientIdBit: 16, stopBit: 17,
};

interface Format {
  readonly required: readonly SectionTag[];
  readonly optional: readonly SectionTag[];
  readonly flags: FlagLayout;
}
/** What each format version this engine reads holds; it writes SNAPSHOT_VERSION. */
const FORMATS = new Map<number, Format>([
  [1, { required: REQUIRED_TAGS, optional: [], flags: FLAGS_1 }],
  [2, { required: [...REQUIRED_TAGS, 'RTRY'], optional: [], flags: FLAGS_1 }],
  [SNAPSHOT_VERSION, { required: REQUIRED_TAGS, optional: OPTIONAL_TAGS, flags: FLAGS_3 }],
]);

/** What the encoder reads of the state: the order store in place, the rest gathered by gather(). */
interface SnapshotCapture {
  readonly lastSeq: number;
  readonly nextTradeId: number;
  readonly store: OrderStore;
  readonly assets: readonly string[];
  /** [available, locked] per (account, asset), as Balances lays them out. */
  readonly balances: BigUint64Array;
  readonly markets: readonly CapturedMarket[];
  /** By account index. */
  readonly userIds: readonly string[];
  /** Oldest retained closed order of each account (NO_ORDER if none); the rest follow through next(). */
  readonly oldestClosed: Float64Array;
  /** How many closed orders each account retains. */
  readonly closedCounts: Float64Array;
  /** The retry state of the accounts that have some, in creation order. */
  readonly retries: readonly CapturedRetries[];
  /** The keyed pairs of the accounts that have some, in creation order: [account index, pairs]. */
  readonly ocoRetries: readonly [number, [string, OcoRetry][]][];
  /** Armed dead-man switches: [account index, deadline], by account. */
  readonly deadMan: readonly [number, number][];
  /** Each market's waiting stops, buys then sells, in trigger order. */
  readonly stops: readonly Float64Array[];
  /** The funds ledger of the accounts that have entries, by account index. */
  readonly ledger: readonly [number, readonly LedgerEntryView[]][];
  /** Trade history; undefined when nothing was ever traded. */
  readonly history: CapturedHistory | undefined;
  /** The limits, once a configure command set them. */
  readonly limits: EngineLimits | undefined;
}

interface CapturedHistory {
  /** Per market: its ring's rows (oldest first), last price and time, and minute buckets. */
  readonly markets: readonly { readonly rows: Float64Array; readonly lastPrice: number; readonly lastTradeAt: number; readonly buckets: readonly MinuteBucket[] }[];
  /** The accounts with fills, by account index, each ring's rows oldest first. */
  readonly users: readonly [number, Float64Array][];
}

function captureHistory(state: EngineState): CapturedHistory | undefined {
  const { history } = state;
  if (history.isEmpty()) return undefined;
  const users: [number, Float64Array][] = [];
  for (let a = 0; a < state.accountList.length; a++) {
    if (history.fills.size(a) > 0) users.push([a, history.fills.copyRows(a)]);
  }
  return {
    markets: history.markets.map((ring, m) => {
      const ticker = history.tickers[m]!;
      return { rows: ring.copyRows(), lastPrice: ticker.lastPrice, lastTradeAt: ticker.lastTradeAt, buckets: ticker.buckets() };
    }),
    users,
  };
}

/** One account's retry window: copies of its lists (the entries themselves are never changed). */
interface CapturedRetries {
  readonly account: number;
  readonly placementTrades: [string, readonly TradeView[]][];
  readonly placedAs: [string, PlacedAs][];
  readonly deposits: [string, DepositRecord][];
}

interface CapturedMarket {
  readonly config: MarketConfig;
  readonly bookSeq: number;
  readonly bids: CapturedSide;
  readonly asks: CapturedSide;
}

/** The levels of one side of a book, best first. */
interface CapturedSide {
  /** The first order of each level. */
  readonly heads: Float64Array;
  /** The number of orders of each level. */
  readonly sizes: Float64Array;
}

/** The state as a binary snapshot. */
export function encodeNow(state: EngineState): Uint8Array {
  return concatParts(encodeParts(gather(state)));
}

function gather(state: EngineState): SnapshotCapture {
  const accounts = state.accountList;
  const oldestClosed = new Float64Array(accounts.length);
  const closedCounts = new Float64Array(accounts.length);
  const userIds: string[] = new Array<string>(accounts.length);
  const retries: CapturedRetries[] = [];
  const ocoRetries: [number, [string, OcoRetry][]][] = [];
  for (let i = 0; i < accounts.length; i++) {
    const account = accounts[i]!;
    oldestClosed[i] = account.oldestClosed();
    closedCounts[i] = account.retainedClosedCount();
    userIds[i] = account.userId;
    if (account.hasRetryState()) {
      retries.push({ account: i, placementTrades: account.allPlacementTrades(), placedAs: account.allPlacedAs(), deposits: account.allDepositRequests() });
    }
    // Copies: a retained stop's entry changes when the stop is freed.
    if (account.hasOcoRetries()) ocoRetries.push([i, account.allOcoRetries().map(([id, pair]) => [id, { ...pair }])]);
  }
  return {
    lastSeq: state.lastSeq,
    nextTradeId: state.nextTradeId,
    store: state.store,
    assets: state.assets,
    balances: state.balances.copyUnits(accounts.length),
    markets: state.markets.map((m) => ({
      config: m.config,
      bookSeq: m.book.seq,
      bids: levels(m.book.bids),
      asks: levels(m.book.asks),
    })),
    userIds,
    oldestClosed,
    closedCounts,
    retries,
    ocoRetries,
    deadMan: state.timers.deadMan.entries(),
    stops: state.markets.map((m) => (m.stops.size === 0 ? NO_STOPS : Float64Array.from(m.stops.all()))),
    ledger: state.ledger.copy(),
    history: captureHistory(state),
    limits: state.limitsConfigured ? state.limits : undefined,
  };
}

const NO_STOPS = new Float64Array(0);

function levels(side: BookSide): CapturedSide {
  const heads = new Float64Array(side.levelCount());
  const sizes = new Float64Array(heads.length);
  for (let rank = 0; rank < heads.length; rank++) {
    const level = side.nthBest(rank)!;
    heads[rank] = level.head;
    sizes[rank] = level.count;
  }
  return { heads, sizes };
}

// ---- writing --------------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** Appends little-endian values to a growing byte array. */
class ByteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  private room(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      const bytes = new Uint8Array(Math.max(at + n, this.bytes.length * 2));
      bytes.set(this.bytes);
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer);
    }
    this.length = at + n;
    return at;
  }

  // Each writes after room(): growing replaces bytes and view.
  u8(value: number): void {
    const at = this.room(1);
    this.view.setUint8(at, value);
  }

  u32(value: number): void {
    const at = this.room(4);
    this.view.setUint32(at, value, true);
  }

  f64(value: number): void {
    const at = this.room(8);
    this.view.setFloat64(at, value, true);
  }

  u64(value: bigint): void {
    const at = this.room(8);
    this.view.setBigUint64(at, value, true);
  }

  i64(value: bigint): void {
    const at = this.room(8);
    this.view.setBigInt64(at, value, true);
  }

  string(value: string): void {
    const utf8 = encoder.encode(value);
    this.u32(utf8.length);
    const at = this.room(utf8.length);
    this.bytes.set(utf8, at);
  }

  copy(value: Uint8Array): void {
    const at = this.room(value.length);
    this.bytes.set(value, at);
  }

  finish(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

function sectionHeader(tag: SectionTag, crc: number, length: number): Uint8Array {
  const header = new Uint8Array(SECTION_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(encoder.encode(tag), 0);
  view.setUint32(4, crc, true);
  view.setFloat64(8, length, true);
  return header;
}

function fileHeader(sections: number): Uint8Array {
  const header = new Uint8Array(FILE_HEADER_BYTES);
  header.set(encoder.encode(MAGIC), 0);
  const view = new DataView(header.buffer);
  view.setUint32(8, SNAPSHOT_VERSION, true);
  view.setUint32(12, sections, true);
  return header;
}

/** Frames sections into a snapshot: the file header, then each section's header and payload. */
export function frameSections(sections: readonly { readonly tag: SectionTag; readonly payload: Uint8Array }[]): Uint8Array[] {
  const parts = [fileHeader(sections.length)];
  for (const { tag, payload } of sections) parts.push(sectionHeader(tag, crc32(payload), payload.length), payload);
  return parts;
}

function flagsOf(store: OrderStore, o: OrderRef): number {
  const { side, type, status, timeInForce: tif, selfTradePrevention: stp, cancelReason: reason, postOnlyBit, clientIdBit, stopBit } = FLAGS_3;
  return (
    (side[2].indexOf(store.side(o)) << side[0]) |
    (type[2].indexOf(store.type(o)) << type[0]) |
    (status[2].indexOf(store.status(o)) << status[0]) |
    (tif[2].indexOf(store.timeInForce(o)) << tif[0]) |
    ((store.postOnly(o) ? 1 : 0) << postOnlyBit) |
    (stp[2].indexOf(store.selfTradePrevention(o)) << stp[0]) |
    (reason[2].indexOf(store.cancelReason(o)) << reason[0]) |
    ((store.clientOrderId(o) === undefined ? 0 : 1) << clientIdBit) |
    ((store.isStop(o) ? 1 : 0) << stopBit!)
  );
}

/** Writes order records into ORDR. */
class OrderSection {
  readonly payload: Uint8Array;
  private readonly view: DataView;
  private count = 0;
  readonly clientOrderIds = new ByteWriter(256);
  /** The expiries of GTD orders: the start of TIMR. */
  readonly expiries = new ByteWriter(64);
  gtdOrders = 0;
  readonly stopPrices = new ByteWriter(64);
  stopCount = 0;

  constructor(
    private readonly store: OrderStore,
    orders: number,
  ) {
    this.payload = new Uint8Array(orders * ORDER_BYTES);
    this.view = new DataView(this.payload.buffer);
  }

  add(o: OrderRef): void {
    const { store, view } = this;
    const at = this.count * ORDER_BYTES;
    view.setFloat64(at + ORDER_LAYOUT.id, store.id(o), true);
    view.setFloat64(at + ORDER_LAYOUT.price, store.price(o), true);
    view.setFloat64(at + ORDER_LAYOUT.quantity, store.quantity(o), true);
    view.setFloat64(at + ORDER_LAYOUT.filled, store.filled(o), true);
    view.setFloat64(at + ORDER_LAYOUT.locked, store.locked(o), true);
    view.setFloat64(at + ORDER_LAYOUT.createdAt, store.createdAt(o), true);
    view.setFloat64(at + ORDER_LAYOUT.updatedAt, store.updatedAt(o), true);
    view.setUint32(at + ORDER_LAYOUT.account, store.accountIndex(o), true);
    view.setUint32(at + ORDER_LAYOUT.market, store.marketIndex(o), true);
    view.setUint32(at + ORDER_LAYOUT.flags, flagsOf(store, o), true);
    const clientOrderId = store.clientOrderId(o);
    if (clientOrderId !== undefined) this.clientOrderIds.string(clientOrderId);
    const expireAt = store.expireAt(o);
    if (expireAt !== undefined) {
      this.expiries.f64(expireAt);
      this.gtdOrders++;
    }
    if (store.isStop(o)) {
      this.stopPrices.f64(store.stopPrice(o));
      this.stopCount++;
    }
    this.count++;
  }
}

/** The snapshot of the gathered state, as parts to write one after the other. */
function encodeParts(snapshot: SnapshotCapture): Uint8Array[] {
  const { store, assets, balances, userIds, oldestClosed, closedCounts } = snapshot;
  const markets = new ByteWriter(1024);
  let total = 0;
  for (const m of snapshot.markets) {
    markets.string(m.config.symbol);
    markets.string(m.config.base);
    markets.string(m.config.quote);
    markets.f64(m.bookSeq);
    for (const { sizes } of [m.bids, m.asks]) {
      markets.u32(sizes.length);
      for (const size of sizes) {
        markets.u32(size);
        total += size;
      }
    }
  }

  const accounts = new ByteWriter(64 + userIds.length * (48 + assets.length * 16));
  for (let a = 0; a < userIds.length; a++) {
    accounts.string(userIds[a]!);
    for (let i = 0; i < assets.length; i++) {
      const ref = (a * assets.length + i) * 2;
      accounts.u64(balances[ref]!);
      accounts.u64(balances[ref + 1]!);
    }
    accounts.u32(closedCounts[a]!);
    total += closedCounts[a]!;
  }
  for (const stops of snapshot.stops) total += stops.length;

  const orders = new OrderSection(store, total);
  /** Walks a list of `size` orders from `first`: a list of another length is an engine bug, not a snapshot. */
  function list(first: OrderRef, size: number, what: string): void {
    let o = first;
    for (let k = 0; k < size; k++, o = store.next(o)) {
      if (o === NO_ORDER) throw new Error(`${what} counts ${size} orders but links ${k}`);
      orders.add(o);
    }
    if (o !== NO_ORDER) throw new Error(`${what} counts ${size} orders but links more`);
  }
  for (const m of snapshot.markets) {
    for (const [side, { heads, sizes }] of [['bid', m.bids], ['ask', m.asks]] as const) {
      for (let rank = 0; rank < heads.length; rank++) list(heads[rank]!, sizes[rank]!, `${m.config.symbol} ${side} level ${rank}`);
    }
  }
  for (let a = 0; a < userIds.length; a++) list(oldestClosed[a]!, closedCounts[a]!, `the closed orders of ${userIds[a]!}`);
  for (const stops of snapshot.stops) for (const stop of stops) orders.add(stop);

  const seq = new ByteWriter(8);
  seq.f64(snapshot.lastSeq);
  const meta = new ByteWriter(16);
  meta.f64(snapshot.nextTradeId);
  meta.u32(userIds.length);
  meta.u32(total);
  const small = (tag: SectionTag, payload: Uint8Array): Uint8Array[] => [sectionHeader(tag, crc32(payload), payload.length), payload];
  const optional = (
    [
      ['RTRY', encodeRetries(snapshot)],
      ['FEES', encodeFees(snapshot)],
      ['LDGR', encodeLedger(snapshot)],
      ['HIST', encodeHistory(snapshot)],
      ['TIMR', encodeTimers(orders, snapshot.deadMan)],
      ['STOP', encodeStops(store, orders, snapshot.stops)],
      ['OCOR', encodeOcoRetries(snapshot.ocoRetries)],
      ['LIMT', encodeLimits(snapshot.limits)],
    ] as const
  ).filter(([, payload]) => payload.length > 0);
  return [
    fileHeader(REQUIRED_TAGS.length + optional.length),
    ...small('SEQN', seq.finish()),
    ...small('META', meta.finish()),
    ...small('MRKT', markets.finish()),
    ...small('ACCT', accounts.finish()),
    ...small('ORDR', orders.payload),
    ...small('CLID', orders.clientOrderIds.finish()),
    ...optional.flatMap(([tag, payload]) => small(tag, payload)),
  ];
}

/** LIMT: empty (left out) while the limits are the config's; see the layout at the top. */
function encodeLimits(limits: EngineLimits | undefined): Uint8Array {
  if (limits === undefined) return new Uint8Array(0);
  const w = new ByteWriter(8 * LIMIT_NAMES.length);
  for (const name of LIMIT_NAMES) w.f64(limits[name]);
  return w.finish();
}

/** Reads LIMT, if there is one, into the state's limits: before the sections they bound. */
function readLimits(state: EngineState, r: ByteReader): void {
  if (r.atEnd()) return;
  const limits = Object.fromEntries(LIMIT_NAMES.map((name) => [name, r.f64()])) as unknown as EngineLimits;
  r.end();
  const wrong = invalidLimit(limits);
  if (wrong !== undefined) invalid(`limit ${wrong} is ${limits[wrong]}`);
  state.setLimits(limits);
}

/** TIMR: empty (left out) when there is no timer at all; see the layout at the top. */
function encodeTimers(orders: OrderSection, deadMan: readonly [number, number][]): Uint8Array {
  if (orders.gtdOrders === 0 && deadMan.length === 0) return new Uint8Array(0);
  const w = orders.expiries;
  w.u32(deadMan.length);
  for (const [account, deadline] of deadMan) {
    w.u32(account);
    w.f64(deadline);
  }
  return w.finish();
}

function encodeFees(snapshot: SnapshotCapture): Uint8Array {
  const { store } = snapshot;
  const orders = store.feeEntries().map(([order, fee]) => [store.id(order), fee] as const).sort(([a], [b]) => a - b);
  const trades = snapshot.retries.flatMap((r) => r.placementTrades.sort(byId).flatMap(([, list]) => list)).filter((t) => t.makerFee !== 0n || t.takerFee !== 0n);
  if (orders.length === 0 && trades.length === 0) return new Uint8Array(0);
  const w = new ByteWriter(8 + orders.length * 16 + trades.length * 24);
  w.u32(orders.length);
  for (const [id, fee] of orders) {
    w.f64(id);
    w.i64(fee);
  }
  w.u32(trades.length);
  for (const t of trades) {
    w.f64(t.tradeId);
    w.i64(t.makerFee);
    w.i64(t.takerFee);
  }
  return w.finish();
}

/** STOP: nothing at all without stop orders; else the waiting count, their stop prices (ORDR order), then the pairs. */
function encodeStops(store: OrderStore, orders: OrderSection, waiting: readonly Float64Array[]): Uint8Array {
  if (orders.stopCount === 0) return new Uint8Array(0);
  const w = new ByteWriter(16 + orders.stopCount * 8);
  w.u32(waiting.reduce((n, stops) => n + stops.length, 0));
  w.copy(orders.stopPrices.finish());
  const pairs = store.ocoPairs();
  w.u32(pairs.length);
  for (const [a, b] of pairs) {
    w.f64(a);
    w.f64(b);
  }
  return w.finish();
}

/** By client order id, in code unit order: canonical. */
function byId([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : 1;
}

function encodeOcoRetries(accounts: readonly [number, [string, OcoRetry][]][]): Uint8Array {
  const w = new ByteWriter(accounts.length * 64);
  for (const [account, pairs] of accounts) {
    w.u32(account);
    w.u32(pairs.length);
    for (const [clientOrderId, { stopOrderId, stopPrice, stopLimitPrice, freed }] of pairs.sort(byId)) {
      w.string(clientOrderId);
      w.f64(stopOrderId);
      w.f64(stopPrice);
      w.f64(stopLimitPrice ?? 0);
      w.u8(freed === undefined ? 0 : 1);
      if (freed === undefined) continue;
      w.f64(freed.price);
      w.f64(freed.quantity);
      w.f64(freed.filled);
      w.u8(STATUSES.indexOf(freed.status));
      w.u8(CANCEL_REASONS.indexOf(freed.cancelReason));
      w.i64(freed.feesPaid);
      w.f64(freed.updatedAt);
    }
  }
  return w.finish();
}

function encodeRetries(snapshot: SnapshotCapture): Uint8Array {
  const w = new ByteWriter(snapshot.retries.length * 64);
  const marketIndex = new Map(snapshot.markets.map((m, i) => [m.config.symbol, i]));
  const assetIndex = new Map(snapshot.assets.map((asset, i) => [asset, i]));
  for (const { account, placementTrades, placedAs, deposits } of snapshot.retries) {
    w.u32(account);
    w.u32(placementTrades.length);
    for (const [clientOrderId, trades] of placementTrades.sort(byId)) {
      w.string(clientOrderId);
      w.u32(trades.length);
      for (const t of trades) writeTrade(w, t, marketIndex);
    }
    w.u32(placedAs.length);
    for (const [clientOrderId, { price, quantity }] of placedAs.sort(byId)) {
      w.string(clientOrderId);
      w.f64(price);
      w.f64(quantity);
    }
    w.u32(deposits.length);
    for (const [requestId, { asset, amount }] of deposits) {
      w.string(requestId);
      w.u32(assetIndex.get(asset)!);
      w.u64(amount);
    }
  }
  return w.finish();
}

function writeTrade(w: ByteWriter, t: TradeView, marketIndex: ReadonlyMap<string, number>): void {
  w.f64(t.tradeId);
  w.u32(marketIndex.get(t.market)!);
  w.u64(t.price);
  w.u64(t.quantity);
  w.u64(t.quoteAmount);
  w.f64(t.makerOrderId);
  w.f64(t.takerOrderId);
  w.string(t.makerUserId);
  w.string(t.takerUserId);
  w.u8(SIDES.indexOf(t.takerSide));
  w.f64(t.timestamp);
  w.f64(t.seq);
}

const LEDGER_KINDS: readonly LedgerEntryKind[] = ['deposit', 'withdrawal'];

function optionalString(w: ByteWriter, value: string | undefined): void {
  w.u8(value === undefined ? 0 : 1);
  if (value !== undefined) w.string(value);
}

function encodeLedger(snapshot: SnapshotCapture): Uint8Array {
  const w = new ByteWriter(snapshot.ledger.length * 128);
  const assetIndex = new Map(snapshot.assets.map((asset, i) => [asset, i]));
  for (const [account, entries] of snapshot.ledger) {
    w.u32(account);
    w.u32(entries.length);
    for (const e of entries) {
      w.f64(e.seq);
      w.f64(e.timestamp);
      w.u8(LEDGER_KINDS.indexOf(e.kind));
      w.u32(assetIndex.get(e.asset)!);
      w.u64(e.amount);
      optionalString(w, e.requestId);
      optionalString(w, e.adminId);
      optionalString(w, e.reference);
      w.u64(e.balanceAfter);
    }
  }
  return w.finish();
}

function encodeHistory(snapshot: SnapshotCapture): Uint8Array {
  const { history } = snapshot;
  if (history === undefined) return new Uint8Array(0);
  const rowBytes = history.markets.reduce((n, m) => n + m.rows.length, 0) + history.users.reduce((n, [, rows]) => n + rows.length, 0);
  const w = new ByteWriter(64 + rowBytes * 8 + history.users.length * 8);
  const ring = (rows: Float64Array, width: number): void => {
    w.u32(rows.length / width);
    for (const value of rows) w.f64(value);
  };
  for (const m of history.markets) {
    ring(m.rows, TRADE_FIELDS);
    w.f64(m.lastPrice);
    w.f64(m.lastTradeAt);
    w.u32(m.buckets.length);
    for (const b of m.buckets) {
      for (const value of [b.minute, b.open, b.high, b.low, b.close, b.count]) w.f64(value);
      w.string(b.volume.toString());
      w.string(b.quoteVolume.toString());
    }
  }
  w.u32(history.users.length);
  for (const [account, rows] of history.users) {
    w.u32(account);
    ring(rows, FILL_FIELDS);
  }
  return w.finish();
}

export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** sha256 (hex) of every section but SEQN: the state, whatever seq it is at. */
export function stateHash(state: EngineState): string {
  const parts = encodeParts(gather(state));
  const hash = createHash('sha256');
  // parts: the file header (its section count follows from the rest), then header + payload per
  // section; SEQN's are parts 1 and 2.
  for (const part of parts.slice(3)) hash.update(part);
  return hash.digest('hex');
}

// ---- reading --------------------------------------------------------------------------------------

/** A snapshot whose bytes are damaged or whose content breaks an invariant of the engine. */
export class SnapshotInvalidError extends Error {
  override readonly name = 'SnapshotInvalidError';
}

function invalid(what: string): never {
  throw new SnapshotInvalidError(`invalid engine snapshot: ${what}`);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The sections of a snapshot, after checking its framing and every checksum. */
export function readSections(bytes: Uint8Array): Map<SectionTag, Uint8Array> {
  return readSnapshot(bytes).sections;
}

function readSnapshot(bytes: Uint8Array): { readonly format: Format; readonly sections: Map<SectionTag, Uint8Array> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < FILE_HEADER_BYTES || decoder.decode(bytes.subarray(0, 8)) !== MAGIC) invalid('not a snapshot (no OBSNAPSH header)');
  const version = view.getUint32(8, true);
  const format = FORMATS.get(version) ?? invalid(`format version ${version}, this engine reads 1 to ${SNAPSHOT_VERSION}`);
  const { required, optional } = format;
  const count = view.getUint32(12, true);
  if (count < required.length || count > required.length + optional.length) {
    invalid(`${count} sections, format ${version} has ${required.length}${optional.length > 0 ? ` to ${required.length + optional.length}` : ''}`);
  }
  const sections = new Map<SectionTag, Uint8Array>();
  let at = FILE_HEADER_BYTES;
  let nextOptional = 0;
  for (let i = 0; i < count; i++) {
    const expected = i < required.length ? required[i]! : `one of ${optional.slice(nextOptional).join(', ')}`;
    if (at + SECTION_HEADER_BYTES > bytes.length) invalid(`truncated before section ${expected} (at byte ${at})`);
    const found = String.fromCharCode(...bytes.subarray(at, at + 4));
    const position = i < required.length ? (found === required[i] ? i : -1) : optional.indexOf(found as SectionTag, nextOptional);
    if (position < 0) invalid(`section ${JSON.stringify(found)} at byte ${at} where ${expected} belongs`);
    const tag = found as SectionTag;
    if (i >= required.length) nextOptional = position + 1;
    const length = view.getFloat64(at + 8, true);
    const start = at + SECTION_HEADER_BYTES;
    if (!Number.isSafeInteger(length) || length < 0 || start + length > bytes.length) invalid(`section ${tag} is truncated (at byte ${at})`);
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== view.getUint32(at + 4, true)) invalid(`section ${tag} fails its checksum (at byte ${at})`);
    if (i >= required.length && length === 0) invalid(`section ${tag} is empty: format ${version} leaves an empty section out`);
    sections.set(tag, payload);
    at = start + length;
  }
  if (at !== bytes.length) invalid(`${bytes.length - at} bytes after the last section`);
  return { format, sections };
}

/** Reads the values of one section's payload in order; running past its end is an error. */
class ByteReader {
  private readonly view: DataView;
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly tag: SectionTag,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(n: number): number {
    const at = this.at;
    if (at + n > this.bytes.length) invalid(`section ${this.tag} ends early`);
    this.at = at + n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  f64(): number {
    return this.view.getFloat64(this.take(8), true);
  }

  u64(): bigint {
    return this.view.getBigUint64(this.take(8), true);
  }

  i64(): bigint {
    return this.view.getBigInt64(this.take(8), true);
  }

  string(): string {
    const length = this.u32();
    const at = this.take(length);
    try {
      return decoder.decode(this.bytes.subarray(at, at + length));
    } catch {
      return invalid(`section ${this.tag} holds a string that is not UTF-8`);
    }
  }

  end(): void {
    if (this.at !== this.bytes.length) invalid(`section ${this.tag} has ${this.bytes.length - this.at} bytes left over`);
  }

  atEnd(): boolean {
    return this.at === this.bytes.length;
  }
}

/** lastSeq of a snapshot whose framing and checksums are sound. */
export function snapshotSeq(bytes: Uint8Array): number {
  return new ByteReader(readSections(bytes).get('SEQN')!, 'SEQN').f64();
}

function count(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) invalid(`${what} is ${value}, not a count`);
  return value;
}

/** The codes of the format's lists (SIDES, TYPES, STATUSES, TIMES_IN_FORCE) that a restore checks. */
const BUY = SIDES.indexOf('buy');
const LIMIT = TYPES.indexOf('limit');
const OPEN = STATUSES.indexOf('open');
const PARTIALLY_FILLED = STATUSES.indexOf('partially_filled');
const FILLED = STATUSES.indexOf('filled');
const CANCELLED = STATUSES.indexOf('cancelled');
const UNTRIGGERED = STATUSES.indexOf('untriggered');
const GTD = TIMES_IN_FORCE.indexOf('GTD');

/** One order record, checked field by field, and the order it became. */
interface OrderRecord {
  id: number;
  price: number;
  quantity: number;
  filled: number;
  locked: number;
  account: number;
  market: number;
  /** Asset index of what it locks. */
  lockIndex: number;
  /** Codes in the format's lists. */
  side: number;
  type: number;
  status: number;
  expireAt: number | undefined;
  /** Its slot in the order store. */
  ref: OrderRef;
}

/** One flag field of a format: where it sits, and the order store's FLAGS bits of each code (-1: no such value). */
interface FlagTable {
  readonly shift: number;
  readonly width: number;
  readonly mask: number;
  readonly bits: Int32Array;
}

function flagTable<T>([shift, width, values]: FlagField<T>, bits: (value: T) => number): FlagTable {
  const table = new Int32Array(1 << width).fill(-1);
  for (let code = 0; code < table.length && code < values.length; code++) table[code] = bits(values[code]!);
  return { shift, width, mask: (1 << width) - 1, bits: table };
}

/**
 * Reads ORDR's records one by one into the order store, each straight into its slot with its
 * flags translated by table lookups (no string per enumeration), and describes it in one reused
 * record: a restore reads millions.
 */
class OrderReader {
  private readonly view: DataView;
  private index = 0;
  readonly r: OrderRecord = {
    id: 0, price: 0, quantity: 0, filled: 0, locked: 0, account: 0, market: 0, lockIndex: 0, side: 0, type: 0, status: 0, expireAt: undefined, ref: NO_ORDER,
  };
  /** GTD orders read so far: each took its expiry from TIMR. */
  gtdOrders = 0;

  private readonly knownFlagBits: number;
  private readonly side: FlagTable;
  private readonly type: FlagTable;
  private readonly status: FlagTable;
  private readonly timeInForce: FlagTable;
  private readonly selfTradePrevention: FlagTable;
  private readonly cancelReason: FlagTable;
  /** The store's FLAGS bits of the record being read ... */
  private bits = 0;
  /** ... and its float64 fields, for OrderStore.restore. */
  private readonly fields = new Float64Array(FIELD.count);
  /** Each record's id and slot, for the id index, built at once by end(). */
  private readonly ids: Float64Array;
  private readonly refs: Int32Array;

  constructor(
    payload: Uint8Array,
    private readonly count: number,
    private readonly clientOrderIds: ByteReader,
    /** TIMR, read up to its dead-man switches. */
    private readonly timers: ByteReader,
    private readonly stopPrices: ByteReader,
    private readonly state: EngineState,
    private readonly layout: FlagLayout,
  ) {
    this.knownFlagBits = (1 << ((layout.stopBit ?? layout.clientIdBit) + 1)) - 1;
    if (payload.length !== count * ORDER_BYTES) invalid(`section ORDR holds ${payload.length} bytes for ${count} orders`);
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    this.ids = new Float64Array(count);
    this.refs = new Int32Array(count);
    this.side = flagTable(layout.side, FLAG_BITS.side);
    this.type = flagTable(layout.type, FLAG_BITS.type);
    this.status = flagTable(layout.status, FLAG_BITS.status);
    this.timeInForce = flagTable(layout.timeInForce, FLAG_BITS.timeInForce);
    this.selfTradePrevention = flagTable(layout.selfTradePrevention, FLAG_BITS.selfTradePrevention);
    this.cancelReason = flagTable(layout.cancelReason, FLAG_BITS.cancelReason);
  }

  private number(at: number, field: string, value = this.view.getFloat64(at, true)): number {
    // The message only when it is needed: built for every field, it was a fifth of a restore.
    return Number.isSafeInteger(value) && value >= 0 ? value : count(value, `order #${this.index}'s ${field}`);
  }

  /** The code of `field` in `flags` of order `id`, checked; its store bits go into `bits`. */
  private code(flags: number, field: FlagTable, id: number): number {
    const code = (flags >>> field.shift) & field.mask;
    const bits = field.bits[code]!;
    if (bits < 0) invalid(`order ${id} has an unknown value ${code} in flag bits ${field.shift}-${field.shift + field.width - 1}`);
    this.bits |= bits;
    return code;
  }

  /** Reads the next record into the order store (end() indexes them by id); the owner's lists and the book are the caller's. */
  next(): OrderRecord {
    if (this.index === this.count) invalid(`section ORDR holds ${this.count} orders, fewer than the books and accounts list`);
    const { view, r, state, layout } = this;
    const at = this.index * ORDER_BYTES;
    const id = this.number(at + ORDER_LAYOUT.id, 'id');
    if (id === 0) invalid(`order #${this.index} has id 0`);
    const flags = view.getUint32(at + ORDER_LAYOUT.flags, true);
    if ((flags & ~this.knownFlagBits) !== 0) invalid(`order ${id} has unknown flags ${flags}`);
    r.id = id;
    this.bits = 0;
    r.side = this.code(flags, this.side, id);
    r.type = this.code(flags, this.type, id);
    r.status = this.code(flags, this.status, id);
    const timeInForce = this.code(flags, this.timeInForce, id);
    this.code(flags, this.selfTradePrevention, id);
    this.code(flags, this.cancelReason, id);
    if (((flags >>> layout.postOnlyBit) & 1) === 1) this.bits |= FLAG_BITS.postOnly;
    const account = view.getUint32(at + ORDER_LAYOUT.account, true);
    if (account >= state.accountList.length) invalid(`order ${id} names account #${account}, of ${state.accountList.length}`);
    r.account = account;
    const market = view.getUint32(at + ORDER_LAYOUT.market, true);
    if (market >= state.markets.length) invalid(`order ${id} names market #${market}, of ${state.markets.length}`);
    r.market = market;
    const { fields } = this;
    fields[FIELD.id] = id;
    fields[FIELD.quantity] = r.quantity = this.number(at + ORDER_LAYOUT.quantity, 'quantity');
    fields[FIELD.filled] = r.filled = this.number(at + ORDER_LAYOUT.filled, 'filled');
    if (r.filled > r.quantity) invalid(`order ${id} filled ${r.filled} of ${r.quantity}`);
    fields[FIELD.price] = r.price = this.number(at + ORDER_LAYOUT.price, 'price');
    fields[FIELD.locked] = r.locked = this.number(at + ORDER_LAYOUT.locked, 'locked');
    fields[FIELD.createdAt] = this.number(at + ORDER_LAYOUT.createdAt, 'createdAt');
    fields[FIELD.updatedAt] = this.number(at + ORDER_LAYOUT.updatedAt, 'updatedAt');
    let clientOrderId: string | undefined;
    if (((flags >>> layout.clientIdBit) & 1) === 1) {
      clientOrderId = this.clientOrderIds.string();
      this.bits |= FLAG_BITS.clientOrderId;
    }
    r.expireAt = undefined;
    if (timeInForce === GTD) {
      r.expireAt = count(this.timers.f64(), `order ${id}'s expiry`);
      this.gtdOrders++;
    }
    let stopPrice: number | undefined;
    if (layout.stopBit !== undefined && ((flags >>> layout.stopBit) & 1) === 1) {
      stopPrice = this.number(0, 'stop price', this.stopPrices.f64());
      this.bits |= FLAG_BITS.stop;
    }
    if (r.status === UNTRIGGERED && (stopPrice === undefined || r.filled !== 0)) invalid(`order ${id} waits for a trigger but is not an untouched stop`);
    const { quoteIndex, baseIndex } = state.markets[market]!;
    r.lockIndex = r.side === BUY ? quoteIndex : baseIndex;
    r.ref = state.store.restore(fields, account, market, r.lockIndex, this.bits, clientOrderId, r.expireAt, stopPrice);
    this.ids[this.index] = id;
    this.refs[this.index] = r.ref;
    const owner = state.accountList[account]!;
    if (clientOrderId !== undefined && owner.orderByClientOrderId(clientOrderId) !== NO_ORDER) {
      invalid(`client order id ${JSON.stringify(clientOrderId)} of ${owner.userId} is used twice`);
    }
    this.index++;
    return r;
  }

  /** Checks that every record was read, and indexes them all by id. */
  end(): void {
    if (this.index !== this.count) invalid(`section ORDR holds ${this.count - this.index} orders that no book or account lists`);
    this.clientOrderIds.end();
    const twice = this.state.orders.addAll(this.ids, this.refs);
    if (twice !== 0) invalid(`order ${twice} appears twice`);
  }
}

/** The fewest free order slots a restore leaves (the store's and the index's initial size). */
const RESTORE_MIN_ROOM = 1024;

/**
 * Loads a snapshot into a freshly constructed (empty) state built from the same config, refusing
 * (SnapshotInvalidError, naming what is wrong) a damaged one or one whose state no command
 * sequence could reach: resting orders that are not open limit orders of their level's side and
 * price, levels out of order, a crossed book, closed orders that still lock funds or exceed the
 * retention, duplicate ids, and above all locked balances that differ from what open orders reserve.
 */
export function restoreSnapshot(state: EngineState, bytes: Uint8Array): void {
  const { format, sections } = readSnapshot(bytes);
  const reader = (tag: SectionTag): ByteReader => new ByteReader(sections.get(tag)!, tag);
  const seq = reader('SEQN');
  state.lastSeq = count(seq.f64(), 'lastSeq');
  seq.end();
  const meta = reader('META');
  state.nextTradeId = count(meta.f64(), 'nextTradeId');
  const accountCount = meta.u32();
  const orderCount = meta.u32();
  meta.end();

  readLimits(state, new ByteReader(sections.get('LIMT') ?? new Uint8Array(0), 'LIMT'));
  const levels = readMarkets(state, reader('MRKT'));
  const closedCounts = readAccounts(state, reader('ACCT'), accountCount);
  // Room for a quarter more orders than the snapshot holds: sized exactly, the first order placed
  // after a restore would copy the whole store (and soon rehash the index) on the command loop.
  // Pages never written cost no memory.
  const room = orderCount + Math.max(orderCount >> 2, RESTORE_MIN_ROOM);
  state.store.reserve(room);
  state.orders.reserve(room);
  const timers = new ByteReader(sections.get('TIMR') ?? new Uint8Array(0), 'TIMR');
  const stops = new ByteReader(sections.get('STOP') ?? new Uint8Array(0), 'STOP');
  const waiting = stops.atEnd() ? 0 : stops.u32();
  const orders = new OrderReader(sections.get('ORDR')!, orderCount, reader('CLID'), timers, stops, state, format.flags);
  const reserved = new ExactSums(state.accountList.length * state.assets.length);

  state.markets.forEach((market, m) => {
    for (const [s, side] of SIDES.entries()) {
      const bookSide = side === 'buy' ? market.book.bids : market.book.asks;
      let previous: number | undefined;
      for (const size of levels[m * 2 + s]!) {
        if (size === 0) invalid(`an empty level in the ${side} book of ${market.symbol}`);
        let level: PriceLevel | undefined;
        const volume = new ExactSum();
        for (let k = 0; k < size; k++) {
          const r = orders.next();
          if (r.market !== m || r.side !== s || r.type !== LIMIT || (r.status !== OPEN && r.status !== PARTIALLY_FILLED)) {
            invalid(`order ${r.id} rests in the ${side} book of ${market.symbol} but is a ${STATUSES[r.status]} ${SIDES[r.side]} ${TYPES[r.type]} order of market #${r.market}`);
          }
          if (r.filled === r.quantity || r.price === 0) invalid(`order ${r.id} rests with nothing left or no price`);
          if (level === undefined) {
            if (previous !== undefined && (side === 'buy' ? r.price >= previous : r.price <= previous)) {
              invalid(`the ${side} levels of ${market.symbol} are not best first (${r.price} after ${previous})`);
            }
            level = bookSide.levelAt(r.price);
            previous = r.price;
          } else if (r.price !== level.price) {
            invalid(`order ${r.id} at price ${r.price} is in the level of ${level.price}`);
          }
          if (r.expireAt !== undefined) state.timers.expiries.set(r.id, r.expireAt);
          level.link(state.store, r.ref);
          market.book.counted(r.ref, 1);
          volume.add(r.quantity - r.filled);
          state.accountList[r.account]!.addOpen(state.store, r.ref);
          reserved.add(state.balances.ref(r.account, r.lockIndex), r.locked);
        }
        level!.volume = volume.total();
      }
    }
    const bid = market.book.bids.best();
    const ask = market.book.asks.best();
    if (bid !== undefined && ask !== undefined && bid.price >= ask.price) invalid(`the book of ${market.symbol} is crossed (${bid.price} >= ${ask.price})`);
  });

  closedCounts.forEach((closed, a) => {
    const account = state.accountList[a]!;
    for (let k = 0; k < closed; k++) {
      const r = orders.next();
      if (r.account !== a || (r.status !== FILLED && r.status !== CANCELLED) || r.locked !== 0) {
        invalid(`order ${r.id} is listed as closed by ${account.userId} but is ${STATUSES[r.status]}, account #${r.account}, locking ${r.locked}`);
      }
      account.retain(state.store, state.orders, r.ref);
    }
  });
  let market = 0;
  for (let k = 0; k < waiting; k++) {
    const r = orders.next();
    if (r.status !== UNTRIGGERED || r.market < market) {
      invalid(`order ${r.id} follows the closed orders or the stops of market #${market} but is not a waiting stop of a later market`);
    }
    market = r.market;
    if (!state.markets[r.market]!.stops.restore(r.ref)) invalid(`stop order ${r.id} is out of trigger order`);
    state.accountList[r.account]!.addOpen(state.store, r.ref);
    reserved.add(state.balances.ref(r.account, r.lockIndex), r.locked);
  }
  orders.end();
  readPairs(state, stops);
  checkLocks(state, reserved);
  const tradeFees = readFees(state, new ByteReader(sections.get('FEES') ?? new Uint8Array(0), 'FEES'));
  readRetries(state, new ByteReader(sections.get('RTRY') ?? new Uint8Array(0), 'RTRY'), tradeFees);
  if (tradeFees.size > 0) invalid(`section FEES names trade ${tradeFees.keys().next().value} that no retained placement made`);
  readLedger(state, new ByteReader(sections.get('LDGR') ?? new Uint8Array(0), 'LDGR'));
  readHistory(state, new ByteReader(sections.get('HIST') ?? new Uint8Array(0), 'HIST'));
  readDeadMan(state, timers, orders.gtdOrders);
  readOcoRetries(state, new ByteReader(sections.get('OCOR') ?? new Uint8Array(0), 'OCOR'));
}

/**
 * Reads OCOR: each pair's client order id names a retained limit order of its account; its stop
 * order, unless freed, is a retained order of that account, and once freed no longer exists.
 */
function readOcoRetries(state: EngineState, r: ByteReader): void {
  let previous = -1;
  while (!r.atEnd()) {
    const index = r.u32();
    if (index <= previous || index >= state.accountList.length) invalid(`pairs of account #${index} after #${previous}, of ${state.accountList.length}`);
    previous = index;
    const account = state.accountList[index]!;
    const pairs = r.u32();
    if (pairs === 0) invalid(`pairs of ${account.userId}: none listed`);
    const sorted = sortedIds(account.userId);
    for (let k = 0; k < pairs; k++) {
      const clientOrderId = sorted(r.string(), 'pair');
      const order = account.orderByClientOrderId(clientOrderId);
      if (order === NO_ORDER || state.store.type(order) !== 'limit' || state.store.isStop(order)) {
        invalid(`pair of client order id ${JSON.stringify(clientOrderId)} of ${account.userId} has no retained limit order`);
      }
      const stopOrderId = count(r.f64(), 'stop order id');
      const stopPrice = count(r.f64(), 'stop price');
      const stopLimitPrice = count(r.f64(), 'stop limit price');
      const isFreed = r.u8();
      if (isFreed > 1) invalid(`pair ${JSON.stringify(clientOrderId)} of ${account.userId}: freed flag ${isFreed}`);
      const stop = state.orders.has(stopOrderId) ? state.orders.get(stopOrderId) : NO_ORDER;
      if (isFreed === 1 ? stop !== NO_ORDER : stop === NO_ORDER || state.store.accountIndex(stop) !== index || !state.store.isStop(stop)) {
        invalid(`pair ${JSON.stringify(clientOrderId)} of ${account.userId}: stop order ${stopOrderId} is ${isFreed === 1 ? 'freed but exists' : 'not a retained stop order of the account'}`);
      }
      const freed =
        isFreed === 0
          ? undefined
          : {
              price: count(r.f64(), 'freed stop price'),
              quantity: count(r.f64(), 'freed stop quantity'),
              filled: count(r.f64(), 'freed stop filled'),
              status: code(STATUSES, r.u8(), 'freed stop status'),
              cancelReason: code(CANCEL_REASONS, r.u8(), 'freed stop cancel reason'),
              feesPaid: r.i64(),
              updatedAt: count(r.f64(), 'freed stop updatedAt'),
            };
      if (freed !== undefined && freed.status !== 'filled' && freed.status !== 'cancelled') invalid(`pair ${JSON.stringify(clientOrderId)} of ${account.userId}: freed stop order ${stopOrderId} is ${freed.status}`);
      account.keepOcoRetry(clientOrderId, { stopOrderId, stopPrice, stopLimitPrice: stopLimitPrice === 0 ? undefined : stopLimitPrice, freed });
    }
  }
}

/** The value of an enumeration's code, checked. */
function code<T>(values: readonly T[], index: number, what: string): T {
  if (index >= values.length) invalid(`${what}: code ${index}, of ${values.length}`);
  return values[index]!;
}

interface TradeFees {
  readonly makerFee: bigint;
  readonly takerFee: bigint;
}

/** Reads FEES: sets the orders' fees; returns the placement trades' fees by trade id, for readRetries to take. */
function readFees(state: EngineState, r: ByteReader): Map<number, TradeFees> {
  const trades = new Map<number, TradeFees>();
  if (r.atEnd()) return trades;
  let previous = 0;
  for (let n = r.u32(); n > 0; n--) {
    const id = count(r.f64(), 'order id of FEES');
    const fee = r.i64();
    const order = state.orders.get(id);
    if (id <= previous || order === NO_ORDER || fee === 0n) invalid(`section FEES lists order ${id} (after ${previous}) with fees ${fee}`);
    previous = id;
    state.store.addFee(order, fee);
  }
  for (let n = r.u32(); n > 0; n--) {
    const tradeId = count(r.f64(), 'trade id of FEES');
    const fees = { makerFee: r.i64(), takerFee: r.i64() };
    if (trades.has(tradeId) || (fees.makerFee === 0n && fees.takerFee === 0n)) invalid(`section FEES lists trade ${tradeId} twice or without a fee`);
    trades.set(tradeId, fees);
  }
  r.end();
  return trades;
}

/** The rest of TIMR, after the expiries the orders took: the dead-man switches, by account. */
function readDeadMan(state: EngineState, r: ByteReader, gtdOrders: number): void {
  if (gtdOrders === 0 && r.atEnd()) return;
  const switches = r.u32();
  if (gtdOrders === 0 && switches === 0) invalid('section TIMR lists no timer');
  let previous = -1;
  for (let n = switches; n > 0; n--) {
    const index = r.u32();
    if (index <= previous || index >= state.accountList.length) invalid(`dead-man switch of account #${index} after #${previous}, of ${state.accountList.length}`);
    previous = index;
    state.timers.deadMan.set(index, count(r.f64(), `dead-man deadline of account #${index}`));
  }
  r.end();
}

/** The pairs of STOP, after the stop prices: open orders, each in one pair at most, one of them a waiting stop. */
function readPairs(state: EngineState, r: ByteReader): void {
  if (r.atEnd()) return;
  const store = state.store;
  let previous = 0;
  for (let n = r.u32(); n > 0; n--) {
    const [a, b] = [count(r.f64(), 'paired order id'), count(r.f64(), 'paired order id')];
    if (a <= previous || b <= a) invalid(`one-cancels-other pair ${a}, ${b} out of order`);
    previous = a;
    const [first, second] = [state.orders.get(a), state.orders.get(b)];
    const open = (o: OrderRef): boolean => o !== NO_ORDER && store.isOpen(o) && !store.hasOcoPartner(o);
    if (!open(first) || !open(second) || store.accountIndex(first) !== store.accountIndex(second) || store.isWaiting(first) === store.isWaiting(second)) {
      invalid(`one-cancels-other pair ${a}, ${b} is not an open order and a waiting stop of one user, each in no other pair`);
    }
    store.linkOco(first, second);
  }
  r.end();
}

/**
 * Reads LDGR: accounts in increasing order, each with entries in increasing seq, of known assets,
 * with a positive amount, a withdrawal naming its admin and reference.
 */
function readLedger(state: EngineState, r: ByteReader): void {
  let previous = -1;
  while (!r.atEnd()) {
    const index = r.u32();
    if (index <= previous || index >= state.accountList.length) invalid(`ledger of account #${index} after #${previous}, of ${state.accountList.length}`);
    previous = index;
    const userId = state.accountList[index]!.userId;
    const entries = r.u32();
    if (entries === 0) invalid(`ledger of ${userId} lists no entry`);
    let seq = 0;
    for (let k = 0; k < entries; k++) {
      const entrySeq = count(r.f64(), `ledger seq of ${userId}`);
      if (entrySeq <= seq) invalid(`ledger entry seq ${entrySeq} of ${userId} after ${seq}`);
      seq = entrySeq;
      const timestamp = count(r.f64(), `ledger timestamp of ${userId}`);
      const kind = r.u8();
      if (kind >= LEDGER_KINDS.length) invalid(`ledger entry ${seq} of ${userId} has kind ${kind}`);
      const asset = r.u32();
      if (asset >= state.assets.length) invalid(`ledger entry ${seq} of ${userId} names asset #${asset}, of ${state.assets.length}`);
      const amount = r.u64();
      if (amount === 0n) invalid(`ledger entry ${seq} of ${userId} moves nothing`);
      const requestId = readOptional(r);
      const adminId = readOptional(r);
      const reference = readOptional(r);
      if (LEDGER_KINDS[kind] === 'withdrawal' && (adminId === undefined || reference === undefined)) invalid(`withdrawal ${seq} of ${userId} lacks its admin or reference`);
      state.ledger.record(index, {
        seq, timestamp, kind: LEDGER_KINDS[kind]!, asset: state.assets[asset]!, amount,
        ...(requestId === undefined ? {} : { requestId }), ...(adminId === undefined ? {} : { adminId }),
        ...(reference === undefined ? {} : { reference }), balanceAfter: r.u64(),
      });
    }
  }
}

function readOptional(r: ByteReader): string | undefined {
  const flag = r.u8();
  if (flag > 1) invalid(`an optional string flagged ${flag}`);
  return flag === 1 ? r.string() : undefined;
}

/**
 * Reads HIST: trades by increasing id, rings no longer than their bounds, trades of positive price
 * and quantity naming existing markets and accounts, minute buckets each in its own slot with
 * low ≤ open, close ≤ high.
 */
function readHistory(state: EngineState, r: ByteReader): void {
  if (r.atEnd()) return;
  const { history } = state;
  /**
   * Reads a ring of at most `bound` rows of `width` fields into `into`: trades in increasing id
   * order, each row's fields counts but for the `fee` offsets (signed), then checked by `check`.
   */
  const ring = (push: (row: Float64Array) => void, bound: number, what: string, width: number, fees: readonly number[], check: (row: Float64Array, id: number) => void): void => {
    const size = r.u32();
    if (size > bound) invalid(`${what} holds ${size} trades, more than the ${bound} retained`);
    const row = new Float64Array(width);
    let previous = 0;
    for (let k = 0; k < size; k++) {
      for (let f = 0; f < width; f++) row[f] = fees.includes(f) ? signed(r.f64(), `a fee of ${what}`) : count(r.f64(), `a trade of ${what}`);
      const id = row[0]!;
      if (id <= previous) invalid(`${what} holds trade ${id} out of place`);
      check(row, id);
      previous = id;
      push(row);
    }
  };
  /** Price and quantity of a trade: positive, and a quote amount the engine could have settled. */
  const traded = (price: number, quantity: number): boolean => price > 0 && quantity > 0 && quoteAmount(price, quantity) <= Number.MAX_SAFE_INTEGER;
  state.markets.forEach((market, m) => {
    const what = `the trades of ${market.symbol}`;
    const trades = history.markets[m]!;
    ring((row) => trades.push(row), history.perMarket, what, TRADE_FIELDS, [TRADE.makerFee, TRADE.takerFee], (t, id) => {
      if (t[TRADE.takerSells]! > 1 || !traded(t[TRADE.price]!, t[TRADE.quantity]!)) invalid(`${what} holds trade ${id} with impossible fields`);
      for (const account of [t[TRADE.makerAccount]!, t[TRADE.takerAccount]!]) {
        if (account >= state.accountList.length) invalid(`trade ${id} of ${what} names account #${account}, of ${state.accountList.length}`);
      }
    });
    const ticker = history.tickers[m]!;
    ticker.lastPrice = count(r.f64(), `last price of ${market.symbol}`);
    ticker.lastTradeAt = count(r.f64(), `last trade time of ${market.symbol}`);
    for (let n = r.u32(); n > 0; n--) {
      const [minute, open, high, low, close, tradeCount] = [0, 1, 2, 3, 4, 5].map(() => count(r.f64(), `a minute bucket of ${market.symbol}`)) as [number, number, number, number, number, number];
      if (low > open || low > close || open > high || close > high || tradeCount === 0) invalid(`minute ${minute} of ${market.symbol} is inconsistent`);
      const bucket = { minute, open, high, low, close, count: tradeCount, volume: decimal(r, market.symbol), quoteVolume: decimal(r, market.symbol) };
      if (!ticker.restore(bucket)) invalid(`minute ${minute} of ${market.symbol} shares its slot`);
    }
  });
  let previous = -1;
  for (let n = r.u32(); n > 0; n--) {
    const index = r.u32();
    if (index <= previous || index >= state.accountList.length) invalid(`fills of account #${index} after #${previous}, of ${state.accountList.length}`);
    previous = index;
    const what = `the fills of ${state.accountList[index]!.userId}`;
    ring((row) => history.fills.push(index, row), history.perUser, what, FILL_FIELDS, [FILL.fee], (t, id) => {
      if (t[FILL.flags]! >= state.markets.length * 4 || !traded(t[FILL.price]!, t[FILL.quantity]!)) invalid(`${what} holds trade ${id} with impossible fields`);
    });
  }
  r.end();
}

function signed(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) invalid(`${what} is ${value}, not an integer`);
  return value;
}

function decimal(r: ByteReader, symbol: string): bigint {
  const text = r.string();
  if (!/^(0|[1-9][0-9]{0,39})$/.test(text)) invalid(`a volume of ${symbol} is ${JSON.stringify(text.slice(0, 50))}`);
  return BigInt(text);
}

/**
 * Reads RTRY, once every retained order (and so every client order id) is back: each entry must
 * name a retained order of its account with that client order id, lists come sorted without
 * repeats, and an account keeps no more deposit request ids than the retention bound.
 */
function readRetries(state: EngineState, r: ByteReader, tradeFees: Map<number, TradeFees>): void {
  let previous = -1;
  while (!r.atEnd()) {
    const index = r.u32();
    if (index <= previous || index >= state.accountList.length) invalid(`retry state of account #${index} after #${previous}, of ${state.accountList.length}`);
    previous = index;
    const account = state.accountList[index]!;
    const orderOf = (clientOrderId: string, what: string): OrderRef => {
      const order = account.orderByClientOrderId(clientOrderId);
      if (order === NO_ORDER) invalid(`${what} of unknown client order id ${JSON.stringify(clientOrderId)} of ${account.userId}`);
      return order;
    };
    const sorted = sortedIds(account.userId);
    const placements = r.u32();
    for (let k = 0; k < placements; k++) {
      const clientOrderId = sorted(r.string(), 'placement trades');
      const order = orderOf(clientOrderId, 'placement trades');
      const trades = r.u32();
      if (trades === 0) invalid(`placement trades of ${JSON.stringify(clientOrderId)} of ${account.userId} list no trade`);
      const list: TradeView[] = [];
      for (let n = 0; n < trades; n++) list.push(readTrade(state, r, tradeFees));
      const id = state.store.id(order);
      if (list.some((t) => t.takerOrderId !== id || t.takerUserId !== account.userId)) {
        invalid(`placement trades of ${JSON.stringify(clientOrderId)} of ${account.userId} are not all of its order ${id} as taker`);
      }
      account.keepPlacementTrades(clientOrderId, order, list);
    }
    const amended = r.u32();
    const sortedPlacements = sortedIds(account.userId);
    for (let k = 0; k < amended; k++) {
      const clientOrderId = sortedPlacements(r.string(), 'placement');
      const order = orderOf(clientOrderId, 'placement');
      account.keepPlacedAs(clientOrderId, order, { price: count(r.f64(), 'placed price'), quantity: count(r.f64(), 'placed quantity') });
    }
    const deposits = r.u32();
    const bound = state.limits.closedOrdersRetainedPerUser;
    if (deposits > bound) invalid(`${account.userId} has ${deposits} deposit request ids, more than the ${bound} retained`);
    for (let k = 0; k < deposits; k++) {
      const requestId = r.string();
      if (account.depositRequest(requestId) !== undefined) invalid(`deposit request id ${JSON.stringify(requestId)} of ${account.userId} appears twice`);
      const asset = r.u32();
      if (asset >= state.assets.length) invalid(`deposit request id ${JSON.stringify(requestId)} of ${account.userId} names asset #${asset}, of ${state.assets.length}`);
      account.rememberDeposit(requestId, { asset: state.assets[asset]!, amount: r.u64() });
    }
    if (!account.hasRetryState()) invalid(`retry state of ${account.userId} is empty`);
  }
}

/** Checks that the ids of one list come in strictly increasing order: sorted, none twice. */
function sortedIds(userId: string): (id: string, what: string) => string {
  let previous: string | undefined;
  return (id, what) => {
    if (previous !== undefined && id <= previous) invalid(`${what} of ${userId}: ${JSON.stringify(id)} after ${JSON.stringify(previous)}`);
    previous = id;
    return id;
  };
}

/** One trade of RTRY, with its fees from FEES (taken out of `tradeFees`). */
function readTrade(state: EngineState, r: ByteReader, tradeFees: Map<number, TradeFees>): TradeView {
  const tradeId = count(r.f64(), 'tradeId');
  const market = r.u32();
  if (market >= state.markets.length) invalid(`trade ${tradeId} names market #${market}, of ${state.markets.length}`);
  const price = r.u64();
  const quantity = r.u64();
  const quoteAmount = r.u64();
  const makerOrderId = count(r.f64(), `maker order of trade ${tradeId}`);
  const takerOrderId = count(r.f64(), `taker order of trade ${tradeId}`);
  const makerUserId = r.string();
  const takerUserId = r.string();
  const side = r.u8();
  if (side >= SIDES.length) invalid(`trade ${tradeId} has taker side ${side}`);
  const fees = tradeFees.get(tradeId);
  tradeFees.delete(tradeId);
  return {
    tradeId, market: state.markets[market]!.symbol, price, quantity, quoteAmount, makerOrderId, takerOrderId, makerUserId, takerUserId,
    takerSide: SIDES[side]!, makerFee: fees?.makerFee ?? 0n, takerFee: fees?.takerFee ?? 0n, timestamp: count(r.f64(), `timestamp of trade ${tradeId}`), seq: count(r.f64(), `seq of trade ${tradeId}`),
  };
}

/** Reads MRKT against the config; returns the order count of each level, per market and side. */
function readMarkets(state: EngineState, r: ByteReader): number[][] {
  const levels: number[][] = [];
  for (const market of state.markets) {
    const { symbol, base, quote } = market.config;
    const found = [r.string(), r.string(), r.string()];
    if (found[0] !== symbol || found[1] !== base || found[2] !== quote) {
      invalid(`market ${found[0]} (${found[1]}/${found[2]}) where the config has ${symbol} (${base}/${quote})`);
    }
    market.book.seq = count(r.f64(), `bookSeq of ${symbol}`);
    for (let side = 0; side < 2; side++) {
      const sizes: number[] = [];
      for (let n = r.u32(); n > 0; n--) sizes.push(r.u32());
      levels.push(sizes);
    }
  }
  r.end();
  return levels;
}

/** Reads ACCT into new accounts and their balances; returns each account's count of closed orders. */
function readAccounts(state: EngineState, r: ByteReader, accountCount: number): number[] {
  const closed: number[] = [];
  for (let a = 0; a < accountCount; a++) {
    const userId = r.string();
    if (state.accounts.has(userId)) invalid(`account ${userId} appears twice`);
    const account = state.newAccount(userId);
    for (let i = 0; i < state.assets.length; i++) {
      state.balances.restore(state.balances.ref(account.index, i), r.u64(), r.u64());
    }
    const retained = r.u32();
    if (retained > state.limits.closedOrdersRetainedPerUser) {
      invalid(`${userId} has ${retained} closed orders, more than the ${state.limits.closedOrdersRetainedPerUser} retained`);
    }
    closed.push(retained);
  }
  r.end();
  for (const [i, asset] of state.assets.entries()) {
    if (state.balances.supplyOf(i) > MAX_UNITS) invalid(`the ${asset} of all accounts adds up past 2^64-1`);
  }
  return closed;
}

/** An exact sum of safe integers, kept as a number while it stays below 2^53 and carried into a bigint past it. */
class ExactSum {
  private small = 0;
  private carried = 0n;

  add(amount: number): void {
    // Both terms are safe integers: a sum past 2^53-1 compares as such even when rounded.
    const sum = this.small + amount;
    if (sum > Number.MAX_SAFE_INTEGER) {
      this.carried += BigInt(this.small);
      this.small = amount;
    } else {
      this.small = sum;
    }
  }

  total(): bigint {
    return this.carried + BigInt(this.small);
  }
}

/** Every account's locked balance of every asset equals what its open orders reserve of it. */
function checkLocks(state: EngineState, reserved: ExactSums): void {
  const { balances } = state;
  for (let ref = 0; ref < state.accountList.length * state.assets.length; ref++) {
    const locked = balances.locked(ref);
    const sum = reserved.total(ref);
    if (locked !== sum) {
      invalid(`${state.accountList[balances.accountIndexOf(ref)]!.userId} has ${locked} ${balances.assetOf(ref)} locked but its open orders reserve ${sum}`);
    }
  }
}
