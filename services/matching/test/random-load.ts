import type { CommandResult } from '@orderbook/engine';
import type { CommandInput } from '../src/loop/command-loop-api';

/** Mulberry32: a tiny seeded PRNG, so that a failing load can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const LOAD_MARKET = { symbol: 'BTC-USD', base: 'BTC', quote: 'USD' } as const;
export const LOAD_USERS: readonly string[] = ['ann', 'ben', 'cat', 'dan'];
/** Keeps every closed order, so that a test can look up any order it was told about. */
export const LOAD_ENGINE_CONFIG = { markets: [LOAD_MARKET], closedOrdersRetainedPerUser: 1_000_000 };

const PRICE_UNIT = 1_000_000n;
const AMOUNT_UNIT = 100_000_000n;

/**
 * A random but seeded stream of commands from a few users on one market: deposits, limit orders
 * around one price (so that they cross and trade), some market orders, and cancels of the user's
 * own earlier orders (some of them already filled, so some cancels are rejected).
 */
export class RandomLoad {
  private readonly random: () => number;
  private readonly orders = new Map<string, number[]>();

  constructor(
    seed: number,
    private readonly users: readonly string[] = LOAD_USERS,
  ) {
    this.random = seededRandom(seed);
  }

  next(): CommandInput {
    const userId = this.pick(this.users);
    const roll = this.random();
    const own = this.orders.get(userId) ?? [];
    if (roll < 0.12) {
      const asset = this.random() < 0.5 ? LOAD_MARKET.base : LOAD_MARKET.quote;
      const units = asset === LOAD_MARKET.base ? 1 + this.int(20) : 20_000 + this.int(200_000);
      return { kind: 'deposit', userId, asset, amount: BigInt(units) * AMOUNT_UNIT };
    }
    if (roll < 0.3 && own.length > 0) {
      const orderId = own.splice(this.int(own.length), 1)[0];
      return { kind: 'cancel', userId, orderId };
    }
    const side = this.random() < 0.5 ? 'buy' : 'sell';
    const quantity = BigInt(1 + this.int(50)) * 1_000_000n;
    if (roll < 0.35) {
      const market = LOAD_MARKET.symbol;
      return { kind: 'placeMarket', userId, market, side, quantity, selfTradePrevention: 'cancel_taker' };
    }
    return {
      kind: 'placeLimit',
      userId,
      market: LOAD_MARKET.symbol,
      side,
      price: BigInt(30_000 + this.int(21) - 10) * PRICE_UNIT,
      quantity,
      timeInForce: 'GTC',
      postOnly: false,
      selfTradePrevention: 'cancel_resting',
    };
  }

  /** Tells the load a command's result, so that later cancels name orders that exist. */
  observe(input: CommandInput, result: CommandResult): void {
    if (input.kind !== 'placeLimit' || !result.ok || result.value.kind !== 'placed') return;
    const own = this.orders.get(input.userId) ?? [];
    own.push(result.value.order.orderId);
    this.orders.set(input.userId, own);
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
