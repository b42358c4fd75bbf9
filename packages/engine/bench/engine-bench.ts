/**
 * Engine benchmark against nodejs-order-book on the identical workload.
 *
 * Usage: make bench-engine ARGS="..." (compiled), or node --expose-gc --conditions=orderbook-ts --import tsx packages/engine/bench/engine-bench.ts
 *          [--n 1000000] [--seed 42] [--runs 3] [--nob-runs 1] [--users 1000] [--resting 1000000] [--skip-nob]
 *          [--maker-fee-bps 0] [--taker-fee-bps 0] (the market's fees: the reference workload has none)
 *
 * The workload is generated exactly as /work/shared/bench/nodejs-order-book-baseline.mjs generates
 * it (same mulberry32, same generate()). Mapping to our units: price = ticks × 10^6 (a tick is one
 * whole quote unit: $100,000 at mid), quantity = lots × 10^6 (a lot is 0.01 of the base asset, so
 * that the run's whole traded value, ~$18.5 billion, fits the engine's per-asset supply limit of
 * 2^64-1 units). The workload has no owners; ours go to `--users` buyers and `--users` sellers
 * (buys to b<k>, sells to s<k>), so a buyer never meets an order of its own and self-trade
 * prevention never changes the outcome. Everyone is funded before the timed loop.
 *
 * Timed: Engine.apply with its events built (the real path), including building each command
 * object, as the baseline builds its argument objects. Runs of one engine are not interleaved
 * with the other's; the machine's load average is printed, as other work on it skews wall time.
 */
import { loadavg } from 'node:os';
import { GCProfiler } from 'node:v8';
import { OrderBook } from 'nodejs-order-book';
import type { Command, EngineConfig } from '../src/index';
import { Engine, MAX_UNITS } from '../src/index';

const args = process.argv.slice(2);
const arg = (k: string, d: number): number => {
  const i = args.indexOf(k);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const N = arg('--n', 1_000_000);
const SEED = arg('--seed', 42);
const RUNS = arg('--runs', 3);
const NOB_RUNS = arg('--nob-runs', 1);
const USERS = arg('--users', 1000);
const RESTING = arg('--resting', 1_000_000);
const SKIP_NOB = args.includes('--skip-nob');
const MAKER_FEE_BPS = arg('--maker-fee-bps', 0);
const TAKER_FEE_BPS = arg('--taker-fee-bps', 0);
const MID = 100_000;
const CROSS_OFF = 10;
const CROSS_SIZE = 300;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

// ---- workload: copied from nodejs-order-book-baseline.mjs ----------------------------------------
function mulberry32(a: number): () => number {
  return function () {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OP_LIMIT = 0, OP_CANCEL = 1;
interface Workload {
  n: number; op: Uint8Array; side: Uint8Array; price: Int32Array; size: Int32Array; oid: Int32Array; ids: string[];
}
function generate(n: number, seed: number): Workload {
  const rnd = mulberry32(seed);
  const ri = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const op = new Uint8Array(n), side = new Uint8Array(n); // side: 0 buy, 1 sell
  const price = new Int32Array(n), size = new Int32Array(n), oid = new Int32Array(n);
  const live: number[] = []; // ids submitted and not yet cancelled (by the generator's view)
  let nextId = 0;
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.10 && live.length > 0) {
      const k = ri(0, live.length - 1);
      oid[i] = live[k]!; live[k] = live[live.length - 1]!; live.pop();
      op[i] = OP_CANCEL;
    } else if (r < 0.30) { // crossing
      const s = ri(0, 1); const off = ri(0, CROSS_OFF);
      op[i] = OP_LIMIT; side[i] = s; price[i] = s === 0 ? MID + off : MID - off; size[i] = ri(1, CROSS_SIZE);
      oid[i] = nextId; live.push(nextId++);
    } else { // resting
      const s = ri(0, 1); const off = ri(1, 50);
      op[i] = OP_LIMIT; side[i] = s; price[i] = s === 0 ? MID - off : MID + off; size[i] = ri(1, 100);
      oid[i] = nextId; live.push(nextId++);
    }
  }
  const ids = new Array<string>(nextId);
  for (let j = 0; j < nextId; j++) ids[j] = 'o' + j; // pre-built string ids (not timed)
  return { n, op, side, price, size, oid, ids };
}

// ---- shared result shape ------------------------------------------------------------------------
interface Fingerprint {
  filled: number; cancelHits: number; errors: number; askLevels: number; bidLevels: number;
  liveOrders: number; askVol: number; bidVol: number; depthHash: string;
}
/**
 * ns: wall-clock time of the timed loop; cpuNs: CPU time of the process in it (all threads, GC helpers included);
 * allocated: bytes allocated on the JS heap in it; gcNs: time in garbage collection pauses in it.
 */
interface RunResult { ns: number; cpuNs: number; fp: Fingerprint; peakHeap: number; allocated: number; gcNs: number; minorFaults: number }

/**
 * Watches the garbage collections from now on; the returned function stops and tells the bytes
 * allocated on the JS heap since (each collection's heap before it less the heap the previous one
 * left, plus the growth since the last) and the collections' pause time. Typed arrays' memory
 * outside the heap is not counted. Also the minor page faults meanwhile: first touches of fresh
 * memory (typed arrays grown, new heap pages), each ~15-20 µs on this VM, land on single operations
 * and make much of the latency tail.
 */
function watchHeap(): () => { allocated: number; gcNs: number; minorFaults: number } {
  const profiler = new GCProfiler();
  const used0 = process.memoryUsage().heapUsed;
  const faults0 = process.resourceUsage().minorPageFault;
  profiler.start();
  return () => {
    const minorFaults = process.resourceUsage().minorPageFault - faults0;
    const usedNow = process.memoryUsage().heapUsed;
    const { statistics } = profiler.stop();
    let allocated = 0, gcNs = 0, left = used0;
    for (const gc of statistics) {
      allocated += gc.beforeGC.heapStatistics.usedHeapSize - left;
      left = gc.afterGC.heapStatistics.usedHeapSize;
      gcNs += gc.cost * 1000;
    }
    return { allocated: allocated + usedNow - left, gcNs, minorFaults };
  };
}

/** FNV-1a over [price, size] levels, asks then [-1,-1] then bids: as the baseline computes it. */
function depthHash(asks: number[][], bids: number[][]): string {
  let h = 0x811c9dc5;
  for (const lvl of asks.concat([[-1, -1]], bids)) for (const v of lvl) {
    h ^= v & 0xffffffff; h = Math.imul(h, 0x01000193) >>> 0;
    h ^= Math.floor(v / 4294967296); h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

const HEAP_SAMPLE_MASK = 0xffff; // sample the heap every 65536 ops: ~15 cheap calls per million
/**
 * Heap in use: the JS heap plus ArrayBuffer memory. Our engine keeps orders, balances and its id
 * index in typed arrays, which heapUsed alone does not count.
 */
function heapInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// ---- our engine ---------------------------------------------------------------------------------
const MARKET = 'BTC-USD';
const CONFIG: EngineConfig = {
  markets: [{ symbol: MARKET, base: 'BTC', quote: 'USD', makerFeeBps: MAKER_FEE_BPS, takerFeeBps: TAKER_FEE_BPS }],
  closedOrdersRetainedPerUser: 100,
};
const PRICE_UNITS_PER_TICK = 1_000_000n;
const QTY_UNITS_PER_LOT = 1_000_000n;
const SIDE_NAMES = ['buy', 'sell'] as const;

interface OurInputs { prices: bigint[]; sizes: bigint[]; owner: string[]; buyers: string[]; sellers: string[] }

/**
 * The bigint price and size of each limit op and the owner of each order id. Ops share the bigints
 * of equal values (a few hundred distinct ones): a million distinct bigints would sit in the heap
 * for every major GC to mark, and be charged to the engine.
 */
function ourInputs(w: Workload): OurInputs {
  const prices: bigint[] = new Array(w.n), sizes: bigint[] = new Array(w.n), owner: string[] = new Array(w.ids.length);
  const buyers = Array.from({ length: USERS }, (_, k) => `b${k}`);
  const sellers = Array.from({ length: USERS }, (_, k) => `s${k}`);
  const priceOf = new Map<number, bigint>(), sizeOf = new Map<number, bigint>();
  const shared = (cache: Map<number, bigint>, value: number, scale: bigint): bigint => {
    let units = cache.get(value);
    if (units === undefined) cache.set(value, (units = BigInt(value) * scale));
    return units;
  };
  for (let i = 0; i < w.n; i++) {
    if (w.op[i] !== OP_LIMIT) continue;
    prices[i] = shared(priceOf, w.price[i]!, PRICE_UNITS_PER_TICK);
    sizes[i] = shared(sizeOf, w.size[i]!, QTY_UNITS_PER_LOT);
    const id = w.oid[i]!;
    owner[id] = w.side[i] === 0 ? buyers[id % USERS]! : sellers[id % USERS]!;
  }
  return { prices, sizes, owner, buyers, sellers };
}

/** A funded engine; returns it with the next seq. Not timed. */
function fundedEngine(inputs: OurInputs): { engine: Engine; seq: number } {
  const engine = new Engine(CONFIG);
  let seq = 0;
  const deposit = (userId: string, asset: string, amount: bigint): void => {
    const r = engine.apply({ kind: 'deposit', seq: ++seq, timestamp: 0, userId, asset, amount });
    if (!r.ok) throw new Error(r.error.message);
  };
  // Each side shares the supply limit evenly: far more than any user locks and spends here.
  const share = MAX_UNITS / BigInt(inputs.buyers.length);
  for (const u of inputs.buyers) deposit(u, 'USD', share);
  for (const u of inputs.sellers) deposit(u, 'BTC', share);
  return { engine, seq };
}

function runOurs(w: Workload, inputs: OurInputs, lat: Float64Array | null): RunResult {
  const { engine, seq: seq0 } = fundedEngine(inputs);
  const { n, op, side, oid } = w;
  const { prices, sizes, owner } = inputs;
  // filled sums units as a number (exact: at most ~2*10^13 here): a bigint sum allocated 24 bytes per op, charged to the engine.
  let filled = 0, cancelHits = 0, errors = 0, peakHeap = 0, events = 0;
  const heap = watchHeap();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ts = lat ? process.hrtime.bigint() : 0n;
    const seq = seq0 + i + 1;
    const id = oid[i]!;
    let cmd: Command;
    if (op[i] === OP_LIMIT) {
      cmd = {
        kind: 'placeLimit', seq, timestamp: seq, orderId: id + 1, userId: owner[id]!, market: MARKET,
        side: SIDE_NAMES[side[i]!]!, price: prices[i]!, quantity: sizes[i]!, timeInForce: 'GTC', postOnly: false,
        selfTradePrevention: 'cancel_resting',
      };
    } else {
      cmd = { kind: 'cancel', seq, timestamp: seq, userId: owner[id]!, orderId: id + 1 };
    }
    const res = engine.apply(cmd);
    if (!res.ok) {
      if (op[i] === OP_LIMIT) errors++;
    } else {
      events += res.events.length;
      if (res.value.kind === 'placed') filled += Number(res.value.order.filled);
      else cancelHits++;
    }
    if (lat) lat[i] = Number(process.hrtime.bigint() - ts);
    if ((i & HEAP_SAMPLE_MASK) === 0) peakHeap = Math.max(peakHeap, heapInUse());
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const { allocated, gcNs, minorFaults } = heap();
  const cpuNs = (cpu.user + cpu.system) * 1000;
  peakHeap = Math.max(peakHeap, heapInUse());
  const d = engine.depth(MARKET, Infinity)!;
  const toLots = (l: { price: bigint; quantity: bigint }): number[] =>
    [Number(l.price / PRICE_UNITS_PER_TICK), Number(l.quantity / QTY_UNITS_PER_LOT)];
  const asks = d.asks.map(toLots), bids = d.bids.map(toLots);
  const vol = (levels: number[][]): number => levels.reduce((a, l) => a + l[1]!, 0);
  const liveOrders = d.asks.concat(d.bids).reduce((a, l) => a + l.orderCount, 0);
  if (events === 0) throw new Error('no events: the real path was not measured');
  return {
    ns, cpuNs, peakHeap, allocated, gcNs, minorFaults,
    fp: {
      filled: filled / Number(QTY_UNITS_PER_LOT), cancelHits, errors, askLevels: asks.length, bidLevels: bids.length,
      liveOrders, askVol: vol(asks), bidVol: vol(bids), depthHash: depthHash(asks, bids),
    },
  };
}

// ---- nodejs-order-book: the baseline's runOnce -------------------------------------------------
const NOB_SIDES = ['buy', 'sell'] as const;
function runNob(w: Workload, lat: Float64Array | null): RunResult {
  const ob = new OrderBook();
  const { n, op, side, price, size, oid, ids } = w;
  let filled = 0, cancelHits = 0, errors = 0, peakHeap = 0;
  const heap = watchHeap();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ts = lat ? process.hrtime.bigint() : 0n;
    if (op[i] === OP_LIMIT) {
      const res = ob.limit({ side: NOB_SIDES[side[i]!]! as never, id: ids[oid[i]!]!, size: size[i]!, price: price[i]! });
      if (res.err) errors++; else filled += size[i]! - res.quantityLeft;
    } else {
      if (ob.cancel(ids[oid[i]!]!) !== undefined) cancelHits++;
    }
    if (lat) lat[i] = Number(process.hrtime.bigint() - ts);
    if ((i & HEAP_SAMPLE_MASK) === 0) peakHeap = Math.max(peakHeap, heapInUse());
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const { allocated, gcNs, minorFaults } = heap();
  const cpuNs = (cpu.user + cpu.system) * 1000;
  peakHeap = Math.max(peakHeap, heapInUse());
  const [asks, bids] = ob.depth() as [number[][], number[][]];
  const vol = (s: number[][]): number => s.reduce((a, l) => a + l[1]!, 0);
  const snap = ob.snapshot();
  const liveOrders = snap.asks.concat(snap.bids).reduce((a: number, l: { orders: unknown[] }) => a + l.orders.length, 0);
  return {
    ns, cpuNs, peakHeap, allocated, gcNs, minorFaults,
    fp: {
      filled, cancelHits, errors, askLevels: asks.length, bidLevels: bids.length, liveOrders,
      askVol: vol(asks), bidVol: vol(bids), depthHash: depthHash(asks, bids),
    },
  };
}

// ---- reporting ----------------------------------------------------------------------------------
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const pct = (share: number): string => `${(share * 100).toFixed(1)} %`;
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

interface Measured { rate: number; fp: Fingerprint; peakHeap: number; bytesPerOp: number; gcShare: number }

function throughput(label: string, runs: number, once: (lat: Float64Array | null) => RunResult): Measured {
  const rates: number[] = [], bytesPerOp: number[] = [], gcShares: number[] = [];
  let last: RunResult | undefined;
  let peakHeap = 0;
  for (let r = 0; r < runs; r++) {
    gc();
    last = once(null);
    const rate = N / (last.ns / 1e9);
    rates.push(rate);
    bytesPerOp.push(last.allocated / N);
    gcShares.push(last.gcNs / last.ns);
    peakHeap = Math.max(peakHeap, last.peakHeap);
    console.log(
      `${label} run ${r + 1}: ${(last.ns / 1e6).toFixed(0)} ms, ${fmt(rate)} ops/s (per CPU-second: ${fmt(N / (last.cpuNs / 1e9))}), ` +
        `${fmt(last.allocated / N)} B/op allocated, GC ${pct(last.gcNs / last.ns)} of the time, ${fmt(last.minorFaults)} minor page faults ${JSON.stringify(last.fp)}`,
    );
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { rate: median(rates), fp: last!.fp, peakHeap, bytesPerOp: median(bytesPerOp), gcShare: median(gcShares) };
}

function latency(label: string, w: Workload, once: (lat: Float64Array | null) => RunResult): void {
  gc();
  const lat = new Float64Array(N);
  once(lat);
  const percentiles = (arr: Float64Array, kind: string): void => {
    arr.sort();
    const n = arr.length;
    const p = (q: number): string => `${(arr[Math.min(n - 1, Math.floor(q * n))]! / 1000).toFixed(2)}us`;
    console.log(`${label} latency ${kind} (n=${n}): p50=${p(0.5)} p99=${p(0.99)} p99.9=${p(0.999)} max=${(arr[n - 1]! / 1000).toFixed(1)}us`);
  };
  percentiles(Float64Array.from(lat.filter((_, i) => w.op[i] === OP_LIMIT)), 'place ');
  percentiles(Float64Array.from(lat.filter((_, i) => w.op[i] === OP_CANCEL)), 'cancel');
}

/** Heap held by `count` resting (non-crossing) orders from 1000 users, after a full gc. */
function restingHeap(count: number): void {
  gc();
  const before = heapInUse();
  const engine = new Engine(CONFIG);
  let seq = 0;
  for (let u = 0; u < 1000; u++) {
    engine.apply({ kind: 'deposit', seq: ++seq, timestamp: 0, userId: `u${u}`, asset: 'USD', amount: MAX_UNITS / 1000n });
    engine.apply({ kind: 'deposit', seq: ++seq, timestamp: 0, userId: `u${u}`, asset: 'BTC', amount: MAX_UNITS / 1000n });
  }
  const rnd = mulberry32(SEED);
  let rejected = 0;
  for (let i = 0; i < count; i++) {
    const buy = (i & 1) === 0;
    const ticks = buy ? MID - 1 - Math.floor(rnd() * 500) : MID + 1 + Math.floor(rnd() * 500);
    const res = engine.apply({
      kind: 'placeLimit', seq: ++seq, timestamp: seq, orderId: i + 1, userId: `u${i % 1000}`, market: MARKET,
      side: buy ? 'buy' : 'sell', price: BigInt(ticks) * PRICE_UNITS_PER_TICK,
      quantity: BigInt(1 + Math.floor(rnd() * 100)) * QTY_UNITS_PER_LOT, timeInForce: 'GTC', postOnly: false,
      selfTradePrevention: 'cancel_resting',
    });
    if (!res.ok || res.value.kind !== 'placed' || res.value.trades.length > 0) rejected++;
  }
  gc();
  const heap = heapInUse();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  const d = engine.depth(MARKET, Infinity)!;
  const resting = d.asks.concat(d.bids).reduce((a, l) => a + l.orderCount, 0);
  console.log(
    `resting: ${fmt(resting)} orders on ${d.asks.length + d.bids.length} levels (${rejected} not resting): ` +
      `heap ${mb(heap)} after gc (JS heap ${mb(heapUsed)} + typed arrays ${mb(arrayBuffers)}; ${mb(heap - before)} for the engine, ` +
      `${((heap - before) / resting).toFixed(0)} B/order), maxRSS ${mb(maxRss())}`,
  );
}

// ---- main ---------------------------------------------------------------------------------------
const w = generate(N, SEED);
let nLimit = 0, nCancel = 0;
for (let i = 0; i < N; i++) (w.op[i] === OP_LIMIT ? nLimit++ : nCancel++);
console.log(`engine bench: n=${N} seed=${SEED} limits=${nLimit} cancels=${nCancel} users=${USERS}+${USERS} fees(maker/taker bps)=${MAKER_FEE_BPS}/${TAKER_FEE_BPS} node=${process.version} load-average=${loadavg()[0]!.toFixed(2)}`);
const inputs = ourInputs(w);
const ours = throughput('ours', RUNS, (lat) => runOurs(w, inputs, lat));
latency('ours', w, (lat) => runOurs(w, inputs, lat));
console.log(`ours: median ${fmt(ours.rate)} ops/s over ${RUNS} runs, ${fmt(ours.bytesPerOp)} B/op allocated, GC ${pct(ours.gcShare)} of the time, peak heap (JS + typed arrays) ${mb(ours.peakHeap)}, maxRSS so far ${mb(maxRss())}`);
if (!SKIP_NOB) {
  const theirs = throughput('nodejs-order-book', NOB_RUNS, (lat) => runNob(w, lat));
  latency('nodejs-order-book', w, (lat) => runNob(w, lat));
  console.log(`nodejs-order-book: median ${fmt(theirs.rate)} ops/s over ${NOB_RUNS} runs, ${fmt(theirs.bytesPerOp)} B/op allocated, GC ${pct(theirs.gcShare)} of the time, peak heap (JS + typed arrays) ${mb(theirs.peakHeap)}, maxRSS so far ${mb(maxRss())}`);
  console.log(`ratio: ours/nodejs-order-book = ${(ours.rate / theirs.rate).toFixed(1)}x`);
  const keys = Object.keys(ours.fp) as (keyof Fingerprint)[];
  for (const k of keys) console.log(`  ${k.padEnd(10)} ours ${String(ours.fp[k]).padStart(10)}  theirs ${String(theirs.fp[k]).padStart(10)}`);
  const match = keys.every((k) => ours.fp[k] === theirs.fp[k]);
  console.log(`fingerprint: ${match ? 'MATCH' : 'MISMATCH'}`);
}
if (RESTING > 0) restingHeap(RESTING);
