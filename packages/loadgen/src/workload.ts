import { status } from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import type { Random } from './prng';

/**
 * The order flow of one worker: a seeded mix of resting limit orders (GTC, away from the mid),
 * crossing limit orders (IOC, through the mid: they match and never rest), market orders, and
 * cancels of the worker's own resting orders. Crossing orders are IOC so that the book keeps its
 * shape (bids below the mid, asks above) for the whole run: every sweep step then meets the same
 * kind of book, and the steps are comparable.
 */
export type OperationKind = 'resting' | 'crossing' | 'market' | 'cancel';

export const OPERATION_KINDS: readonly OperationKind[] = ['resting', 'crossing', 'market', 'cancel'];

export type Operation =
  | { readonly kind: 'resting' | 'crossing'; readonly request: matching.PlaceLimitOrderRequest }
  | { readonly kind: 'market'; readonly request: matching.PlaceMarketOrderRequest }
  | { readonly kind: 'cancel'; readonly request: matching.CancelOrderRequest };

/** Relative weights of the operation kinds. */
export type Mix = Readonly<Record<OperationKind, number>>;

export const DEFAULT_MIX: Mix = { resting: 45, crossing: 25, market: 10, cancel: 20 };

/**
 * Non-OK codes that are correct answers to this workload, not failures: a market order is
 * all-or-nothing and fails when the book is thin; a cancel races with the fills of other workers
 * (already filled), and a filled order is forgotten once the user's closed-order retention is
 * exceeded. Any other non-OK code is an error.
 */
export const EXPECTED_REJECTIONS: Readonly<Record<OperationKind, readonly status[]>> = {
  resting: [],
  crossing: [],
  market: [status.FAILED_PRECONDITION],
  cancel: [status.FAILED_PRECONDITION, status.NOT_FOUND],
};

export interface WorkloadOptions {
  readonly markets: readonly string[];
  readonly mix: Mix;
  /** Resting orders a worker keeps track of; at the bound it cancels before placing more, so the book stays bounded. */
  readonly maxOpenOrders: number;
}

/** The mid of every market, in cents: prices stay on a 0.01 grid around 100.00. */
const MID_CENTS = 10_000;
/** Resting orders are placed 1 to 50 ticks away from the mid. */
const RESTING_TICKS = 50;
/** Crossing orders reach 1 to 5 ticks through the mid. */
const CROSSING_TICKS = 5;
/** Limit quantities: 0.001 to 0.100; market quantities 0.001 to 0.010 so that they mostly fill. */
const MAX_LIMIT_LOTS = 100;
const MAX_MARKET_LOTS = 10;
const LOT_DECIMALS = 3;
const PRICE_DECIMALS = 2;

/** A non-negative integer count of 10^-decimals units as a decimal string without trailing zeros ("0.05", "100"). */
export function formatUnits(units: number, decimals: number): string {
  const digits = String(units).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

export class OrderFlow {
  private readonly open: bigint[] = [];
  private readonly thresholds: readonly number[];

  constructor(
    private readonly random: Random,
    private readonly options: WorkloadOptions,
  ) {
    const { resting, crossing, market, cancel } = options.mix;
    const total = resting + crossing + market + cancel;
    if (!(total > 0)) throw new Error('workload mix: the weights must add up to more than 0');
    this.thresholds = [resting / total, (resting + crossing) / total, (resting + crossing + market) / total];
  }

  /** Resting orders this worker may still cancel. */
  get openOrders(): number {
    return this.open.length;
  }

  next(): Operation {
    if (this.open.length >= this.options.maxOpenOrders) return this.cancel();
    const draw = this.random.next();
    const [restingBelow = 0, crossingBelow = 0, marketBelow = 0] = this.thresholds;
    if (draw < restingBelow) return this.limit('resting');
    if (draw < crossingBelow) return this.limit('crossing');
    if (draw < marketBelow) return this.market();
    return this.open.length > 0 ? this.cancel() : this.limit('resting');
  }

  /** Records an order that rests on the book, so that a later cancel can target it. */
  rested(orderId: bigint): void {
    this.open.push(orderId);
  }

  private side(): matching.Side {
    return this.random.next() < 0.5 ? matching.Side.SIDE_BUY : matching.Side.SIDE_SELL;
  }

  private marketSymbol(): string {
    const { markets } = this.options;
    return markets[this.random.int(0, markets.length - 1)] ?? '';
  }

  private limit(kind: 'resting' | 'crossing'): Operation {
    const side = this.side();
    const buy = side === matching.Side.SIDE_BUY;
    // A resting buy sits below the mid and a resting sell above it; a crossing order reaches through.
    const ticks = kind === 'resting' ? -this.random.int(1, RESTING_TICKS) : this.random.int(1, CROSSING_TICKS);
    const priceCents = MID_CENTS + (buy ? ticks : -ticks);
    return {
      kind,
      request: {
        market: this.marketSymbol(),
        side,
        price: formatUnits(priceCents, PRICE_DECIMALS),
        quantity: formatUnits(this.random.int(1, MAX_LIMIT_LOTS), LOT_DECIMALS),
        timeInForce: kind === 'resting' ? matching.TimeInForce.TIME_IN_FORCE_GTC : matching.TimeInForce.TIME_IN_FORCE_IOC,
        postOnly: false,
        selfTradePrevention: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
        clientOrderId: '',
        expireAtUnixMs: 0n,
        stopPrice: '',
      },
    };
  }

  private market(): Operation {
    return {
      kind: 'market',
      request: {
        market: this.marketSymbol(),
        side: this.side(),
        quantity: formatUnits(this.random.int(1, MAX_MARKET_LOTS), LOT_DECIMALS),
        selfTradePrevention: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
        clientOrderId: '',
        stopPrice: '',
      },
    };
  }

  /** Removes the order from tracking when the cancel is sent, so two in-flight cancels never target the same order. */
  private cancel(): Operation {
    const index = this.random.int(0, this.open.length - 1);
    const orderId = this.open[index] ?? 0n;
    this.open[index] = this.open[this.open.length - 1] ?? 0n;
    this.open.pop();
    return { kind: 'cancel', request: { orderId, clientOrderId: '' } };
  }
}
