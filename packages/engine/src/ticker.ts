/**
 * A market's trading per minute, for the ticker and candles: 1440 buckets (one day), each the
 * open, high, low and close price, volume, quote volume and trade count of one minute of trade
 * timestamps (the command timestamps the sequencer assigned, so a replay fills the same buckets).
 * Minute m lives in slot m mod 1440 and replaces what an older minute left there; typed arrays, so
 * that recording a trade allocates nothing.
 *
 * The 24-hour window of a query at time `now` is the 1440 whole minutes ending with now's minute:
 * measured against the time the query passes, so volume decays while no command comes.
 */
import type { CandleView, TickerView } from './api';
import { ExactSums } from './exact-sums';

export const TICKER_WINDOW_MINUTES = 1440;
const MINUTE_MS = 60_000;
const EMPTY = -1;

/** One restored or captured bucket. */
export interface MinuteBucket {
  readonly minute: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly count: number;
  readonly volume: bigint;
  readonly quoteVolume: bigint;
}

interface Aggregate {
  open: number;
  high: number;
  low: number;
  close: number;
  count: number;
  volume: bigint;
  quoteVolume: bigint;
}

export class MarketTicker {
  private readonly minutes = new Float64Array(TICKER_WINDOW_MINUTES).fill(EMPTY);
  private readonly open = new Float64Array(TICKER_WINDOW_MINUTES);
  private readonly high = new Float64Array(TICKER_WINDOW_MINUTES);
  private readonly low = new Float64Array(TICKER_WINDOW_MINUTES);
  private readonly close = new Float64Array(TICKER_WINDOW_MINUTES);
  private readonly counts = new Float64Array(TICKER_WINDOW_MINUTES);
  private readonly volume = new ExactSums(TICKER_WINDOW_MINUTES);
  private readonly quoteVolume = new ExactSums(TICKER_WINDOW_MINUTES);
  /** Price units of the last trade; 0: none yet. */
  lastPrice = 0;
  lastTradeAt = 0;

  /** One trade: price units, quantity and quote amount in units, its timestamp. */
  record(price: number, quantity: number, quote: number, timestamp: number): void {
    this.lastPrice = price;
    this.lastTradeAt = timestamp;
    const minute = Math.floor(timestamp / MINUTE_MS);
    const slot = slotOf(minute);
    const held = this.minutes[slot]!;
    // A minute a whole window older than the one the slot holds is outside every window that one is in.
    if (minute < held) return;
    if (minute > held) {
      this.minutes[slot] = minute;
      this.open[slot] = price;
      this.high[slot] = price;
      this.low[slot] = price;
      this.counts[slot] = 0;
      this.volume.set(slot, 0n);
      this.quoteVolume.set(slot, 0n);
    } else {
      if (price > this.high[slot]!) this.high[slot] = price;
      if (price < this.low[slot]!) this.low[slot] = price;
    }
    this.close[slot] = price;
    this.counts[slot]!++;
    this.volume.add(slot, quantity);
    this.quoteVolume.add(slot, quote);
  }

  ticker(market: string, bestBid: bigint | undefined, bestAsk: bigint | undefined, now: number): TickerView {
    const last = Math.floor(now / MINUTE_MS);
    const first = last - TICKER_WINDOW_MINUTES + 1;
    let window: Aggregate | undefined;
    for (let minute = first; minute <= last; minute++) window = this.merge(window, minute);
    return {
      market,
      ...(this.lastPrice === 0 ? {} : { lastPrice: BigInt(this.lastPrice), lastTradeAt: this.lastTradeAt }),
      ...(bestBid === undefined ? {} : { bestBid }),
      ...(bestAsk === undefined ? {} : { bestAsk }),
      windowStart: first * MINUTE_MS,
      windowEnd: (last + 1) * MINUTE_MS,
      ...(window === undefined ? {} : { window: view(window) }),
    };
  }

  /** See EngineQueries.candles; `interval` in minutes, a divisor of the window. */
  candles(interval: number, now: number, limit: number): CandleView[] {
    const last = Math.floor(now / MINUTE_MS);
    const first = last - TICKER_WINDOW_MINUTES + 1;
    const out: CandleView[] = [];
    for (let span = Math.floor(last / interval) * interval; span + interval > first && out.length < limit; span -= interval) {
      let candle: Aggregate | undefined;
      for (let minute = Math.max(span, first); minute < span + interval && minute <= last; minute++) candle = this.merge(candle, minute);
      if (candle !== undefined) out.push({ start: span * MINUTE_MS, ...view(candle) });
    }
    return out;
  }

  /** `into` with the bucket of `minute` added after it (a later minute), if the slot holds that minute. */
  private merge(into: Aggregate | undefined, minute: number): Aggregate | undefined {
    const slot = slotOf(minute);
    if (this.minutes[slot] !== minute) return into;
    const volume = this.volume.total(slot);
    const quoteVolume = this.quoteVolume.total(slot);
    const [open, high, low, close, count] = [this.open[slot]!, this.high[slot]!, this.low[slot]!, this.close[slot]!, this.counts[slot]!];
    if (into === undefined) return { open, high, low, close, count, volume, quoteVolume };
    into.high = Math.max(into.high, high);
    into.low = Math.min(into.low, low);
    into.close = close;
    into.count += count;
    into.volume += volume;
    into.quoteVolume += quoteVolume;
    return into;
  }

  /** The buckets in use, by slot. */
  buckets(): MinuteBucket[] {
    const out: MinuteBucket[] = [];
    for (let slot = 0; slot < TICKER_WINDOW_MINUTES; slot++) {
      const minute = this.minutes[slot]!;
      if (minute === EMPTY) continue;
      out.push({
        minute, open: this.open[slot]!, high: this.high[slot]!, low: this.low[slot]!, close: this.close[slot]!, count: this.counts[slot]!,
        volume: this.volume.total(slot), quoteVolume: this.quoteVolume.total(slot),
      });
    }
    return out;
  }

  /** Puts back a bucket of a snapshot; false if its slot is taken already. */
  restore(b: MinuteBucket): boolean {
    const slot = slotOf(b.minute);
    if (this.minutes[slot] !== EMPTY) return false;
    this.minutes[slot] = b.minute;
    this.open[slot] = b.open;
    this.high[slot] = b.high;
    this.low[slot] = b.low;
    this.close[slot] = b.close;
    this.counts[slot] = b.count;
    this.volume.set(slot, b.volume);
    this.quoteVolume.set(slot, b.quoteVolume);
    return true;
  }
}

function slotOf(minute: number): number {
  return ((minute % TICKER_WINDOW_MINUTES) + TICKER_WINDOW_MINUTES) % TICKER_WINDOW_MINUTES;
}

function view(a: Aggregate): Omit<CandleView, 'start'> {
  return {
    open: BigInt(a.open), high: BigInt(a.high), low: BigInt(a.low), close: BigInt(a.close),
    volume: a.volume, quoteVolume: a.quoteVolume, tradeCount: a.count,
  };
}
