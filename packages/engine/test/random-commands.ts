/** Random command sequences over 2 markets and 4 (+1 unfunded) users, for the property and differential tests. */
import fc from 'fast-check';
import type { Command, Engine, EngineConfig, Side } from '../src/index';
import type { CommandBody } from './harness';

/** u5 is never funded at the start: its orders are rejected until it happens to get a deposit. */
export const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'] as const;
const FUNDED = USERS.slice(0, 4);
export const ASSETS = ['BTC', 'USD', 'ETH'] as const;
export const RANDOM_CONFIG: EngineConfig = {
  markets: [
    { symbol: 'BTC-USD', base: 'BTC', quote: 'USD' },
    { symbol: 'ETH-USD', base: 'ETH', quote: 'USD' },
  ],
  // Small, so that eviction (and NOT_FOUND for evicted orders) happens within a sequence.
  closedOrdersRetainedPerUser: 3,
};

/** A command before its order id (if any) is assigned: `orderId` there is a cancel's target. */
export type Intent = CommandBody;

const user = fc.constantFrom(...USERS);
const market = fc.oneof({ weight: 20, arbitrary: fc.constantFrom('BTC-USD', 'ETH-USD') }, { weight: 1, arbitrary: fc.constant('XRP-USD') });
const side = fc.constantFrom<Side>('buy', 'sell');
const price = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 97, max: 103 }).map((p) => BigInt(p) * 1_000_000n) }, // whole prices cross often
  { weight: 3, arbitrary: fc.integer({ min: 97_000_000, max: 103_000_000 }).map(BigInt) }, // 6 decimals leave rounding dust
  { weight: 1, arbitrary: fc.constantFrom(1n, 2n ** 53n - 1n, 2n ** 53n) },
);
const quantity = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 4 }).map((q) => BigInt(q) * 100_000_000n) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 300_000_000 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(1n, 10n ** 15n, 2n ** 53n) }, // tiny, too valuable, too big
);
const stp = fc.constantFrom('cancel_resting', 'cancel_resting', 'cancel_taker', 'cancel_both') as fc.Arbitrary<'cancel_resting' | 'cancel_taker' | 'cancel_both'>;
const clientOrderId = fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('a', 'b') });

const deposit: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('deposit' as const),
  userId: user,
  asset: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ASSETS) }, { weight: 1, arbitrary: fc.constant('XRP') }),
  amount: fc.oneof({ weight: 9, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 11n }) }, { weight: 1, arbitrary: fc.constant(0n) }),
});
const limit: fc.Arbitrary<Intent> = fc
  .record({
    userId: user, market, side, price, quantity, selfTradePrevention: stp, clientOrderId,
    timeInForce: fc.constantFrom('GTC', 'GTC', 'GTC', 'IOC', 'FOK') as fc.Arbitrary<'GTC' | 'IOC' | 'FOK'>,
    postOnly: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map(({ clientOrderId: c, ...r }) => ({ kind: 'placeLimit' as const, orderId: 0, ...r, ...(c === null ? {} : { clientOrderId: c }) }));
const marketOrder: fc.Arbitrary<Intent> = fc
  .record({ userId: user, market, side, quantity, selfTradePrevention: stp, clientOrderId })
  .map(({ clientOrderId: c, ...r }) => ({ kind: 'placeMarket' as const, orderId: 0, ...r, ...(c === null ? {} : { clientOrderId: c }) }));
/**
 * Mostly by the order's owner (OWNER, resolved by toCommands), sometimes by someone else; the
 * target is one of the 8 latest orders (orderId 1-40 picks which) or an unknown one (41-45).
 */
const OWNER = '*owner*';
const cancel: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('cancel' as const),
  userId: fc.oneof({ weight: 4, arbitrary: fc.constant(OWNER) }, { weight: 1, arbitrary: user }),
  orderId: fc.integer({ min: 1, max: 45 }),
});

/** Funding every user first, then random commands. */
export const intents = (maxLength: number): fc.Arbitrary<Intent[]> =>
  fc
    .array(fc.oneof({ weight: 1, arbitrary: deposit }, { weight: 6, arbitrary: limit }, { weight: 2, arbitrary: marketOrder }, { weight: 3, arbitrary: cancel }), {
      minLength: Math.floor(maxLength / 2),
      maxLength,
      size: 'max',
    })
    .map((rest) => [
      ...FUNDED.flatMap((u): Intent[] => [
        { kind: 'deposit', userId: u, asset: 'USD', amount: 2_000n * 10n ** 8n },
        { kind: 'deposit', userId: u, asset: 'BTC', amount: 6n * 10n ** 8n },
        { kind: 'deposit', userId: u, asset: 'ETH', amount: 6n * 10n ** 8n },
      ]),
      ...rest,
    ]);

/** Turns intents into commands: seqs from 1, the next order id for each placement, cancels' owners. */
export function toCommands(list: Intent[]): Command[] {
  const owners: string[] = [];
  return list.map((intent, i) => {
    const seq = i + 1;
    let body = intent;
    if (intent.kind === 'placeLimit' || intent.kind === 'placeMarket') {
      owners.push(intent.userId);
      body = { ...intent, orderId: owners.length };
    } else if (intent.kind === 'cancel') {
      const orderId = intent.orderId > 40 || owners.length === 0 ? 1000 + intent.orderId : owners.length - ((intent.orderId - 1) % Math.min(owners.length, 8));
      body = { ...intent, orderId, userId: intent.userId === OWNER ? (owners[orderId - 1] ?? USERS[0]) : intent.userId };
    }
    return { ...body, seq, timestamp: 1_700_000_000_000 + seq * 7 } as Command;
  });
}

/** A level as the snapshot shows it: price, total remaining, order ids in queue order. */
export type Level = [bigint, bigint, number[]];

/** Every level of a market side, best first, read from the engine's own snapshot. */
export function engineLevels(engine: Engine, symbol: string, side: Side): Level[] {
  const snap = JSON.parse(engine.snapshot()) as { markets: { symbol: string; bids: unknown[][][]; asks: unknown[][][] }[] };
  const m = snap.markets.find((x) => x.symbol === symbol)!;
  return (side === 'buy' ? m.bids : m.asks).map((orders) => [
    BigInt(orders[0]![6] as string),
    orders.reduce((a, o) => a + BigInt(o[7] as string) - BigInt(o[8] as string), 0n),
    orders.map((o) => o[0] as number),
  ]);
}
