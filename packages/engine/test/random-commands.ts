/**
 * Random command sequences over 2 markets and 4 (+1 unfunded) users, for the property and
 * differential tests. Tuned for deep books: most orders rest at a few whole prices around 100, in
 * small quantities, so levels hold many orders; bursts of crossing orders sweep several of them;
 * FOK and market orders are sized so that they fill about as often as not; most cancels name a
 * live order (chosen when the sequence is built, from a reference exchange run alongside). Some
 * commands are invalid in exactly one field, so that both sides of every check are exercised. Some
 * are retries: a placement repeated with its client order id, a deposit or a withdrawal with its
 * request id, a cancel by client order id, a cancel of an order already cancelled. Admins withdraw
 * about as often as they are refused for want of available funds. Commands come seconds apart,
 * with a jump of 97 minutes every fifth, so that a sequence spans more than a day of the ticker.
 * GTD expiries (relative in the intents) and dead-man switches of a few seconds fall due within a
 * sequence; timer commands come at random, as the service's timer would send them. Stop orders and
 * one-cancels-other pairs trigger around the same prices, so that trades reach them and cascades happen.
 * Now and then a configure command changes the bounds on stops and resting orders.
 */
import fc from 'fast-check';
import { type Command, type EngineConfig, type EngineLimits, FEE_ACCOUNT_ID, limitsOf, type Side } from '../src/index';
import type { CommandBody } from './harness';
import { ReferenceExchange } from './reference-matcher';

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
  fillsRetainedPerUser: 5,
  tradesRetainedPerMarket: 7,
};
/**
 * The same markets with fees and instrument rules: BTC-USD pays makers a rebate (the fee account
 * pays it only while it holds the asset) and has every rule, tuned so that the generated orders
 * break each now and then; ETH-USD charges both sides.
 */
export const FEE_CONFIG: EngineConfig = {
  ...RANDOM_CONFIG,
  markets: [
    { symbol: 'BTC-USD', base: 'BTC', quote: 'USD', makerFeeBps: -3, takerFeeBps: 7, tickSize: 10_000n, lotSize: 1_000_000n, minQuantity: 2_000_000n, minNotional: 300_000_000n },
    { symbol: 'ETH-USD', base: 'ETH', quote: 'USD', makerFeeBps: 10, takerFeeBps: 25 },
  ],
};
/** Every account whose balances the tests check: the users and the fee account. */
export const ACCOUNTS = [...USERS, FEE_ACCOUNT_ID] as const;

/**
 * A command before its ids are assigned. A cancel's `orderId` is a pick: 1-80 a live order (the
 * pick modulo their number), 81-90 one of the 8 latest orders whatever its state, 91-100 an unknown id.
 * Its user OWNER means the order's owner.
 */
export type Intent = CommandBody;
const OWNER = '*owner*';
/** A placement's client order id that means: repeat one of the latest placements that had one (its orderId picks which). */
const RETRY = '*retry*';
const WHOLE = 1_000_000n;
const LOT = 10_000_000n; // 0.1 of a base asset

const user = fc.constantFrom(...USERS);
/** Mostly one market, so that its book gets deep. */
const market = fc.oneof(
  { weight: 24, arbitrary: fc.constant('BTC-USD') },
  { weight: 6, arbitrary: fc.constant('ETH-USD') },
  { weight: 1, arbitrary: fc.constant('XRP-USD') },
);
const side = fc.constantFrom<Side>('buy', 'sell');
/** Resting prices: a buy at 99 or 100, a sell at 101 or 102, so that depth builds up at 2 prices a side. */
const restingPrice = (s: Side): fc.Arbitrary<bigint> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 1 }).map((d) => (s === 'buy' ? 100n - BigInt(d) : 101n + BigInt(d)) * WHOLE) },
    { weight: 2, arbitrary: fc.integer({ min: 97_000_000, max: 103_000_000 }).map(BigInt) }, // 6 decimals leave rounding dust
    { weight: 1, arbitrary: fc.constantFrom(1n, 2n ** 53n - 1n, 2n ** 53n) },
  );
/** Prices that cross one or both levels of the other side (when they are there). */
const crossingPrice = (s: Side): fc.Arbitrary<bigint> => fc.integer({ min: 1, max: 3 }).map((d) => (s === 'buy' ? 100n + BigInt(d) : 101n - BigInt(d)) * WHOLE);
const quantity = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 5 }).map((q) => BigInt(q) * LOT) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 300_000_000 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(1n, 10n ** 15n, 2n ** 53n) }, // tiny, too valuable, too big
);
/** Takers' quantities: mostly smaller than a level, so that FOK and market orders fill about half the time. */
const takerQuantity = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }).map((q) => BigInt(q) * LOT) }, { weight: 1, arbitrary: quantity });
const stp = fc.constantFrom('cancel_resting', 'cancel_resting', 'cancel_taker', 'cancel_both') as fc.Arbitrary<'cancel_resting' | 'cancel_taker' | 'cancel_both'>;
const clientOrderId = fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('a', 'b', '') });
const withClientOrderId = <T extends object>(body: T, c: string | undefined): T => (c === undefined ? body : { ...body, clientOrderId: c });

const deposit: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('deposit' as const),
  // Now and then the fee account is funded, so that it can pay rebates.
  userId: fc.oneof({ weight: 5, arbitrary: user }, { weight: 1, arbitrary: fc.constant(FEE_ACCOUNT_ID) }),
  asset: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ASSETS) }, { weight: 1, arbitrary: fc.constant('XRP') }),
  amount: fc.oneof({ weight: 9, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 11n }) }, { weight: 1, arbitrary: fc.constantFrom(0n, 2n ** 64n) }),
});

const limitWith = (
  price: (s: Side) => fc.Arbitrary<bigint>,
  size: fc.Arbitrary<bigint>,
  timeInForce: fc.Arbitrary<'GTC' | 'IOC' | 'FOK' | 'GTD'>,
): fc.Arbitrary<Intent> =>
  side.chain((s) =>
    fc.record({
      userId: user, market, side: fc.constant(s), price: price(s), quantity: size, selfTradePrevention: stp, clientOrderId, timeInForce,
      postOnly: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
  ).map(({ clientOrderId: c, ...r }) => withClientOrderId({ kind: 'placeLimit' as const, orderId: 0, ...r }, c));

const resting = limitWith(restingPrice, quantity, fc.constantFrom('GTC', 'GTC', 'GTC', 'GTC', 'IOC') as fc.Arbitrary<'GTC' | 'IOC'>);
/**
 * GTD orders: expireAt is relative here (ms after the command's timestamp; toCommands makes it
 * absolute), mostly within a few commands, sometimes invalid: now, past, beyond 90 days, missing.
 */
const gtd: fc.Arbitrary<Intent> = fc
  .tuple(
    limitWith(restingPrice, quantity, fc.constant('GTD' as const)),
    fc.oneof(
      { weight: 12, arbitrary: fc.integer({ min: 1, max: 30_000 }) },
      { weight: 1, arbitrary: fc.constantFrom<number | undefined>(0, -5, 90 * 86_400_000 + 1, 90 * 86_400_000, undefined, 0.5) },
    ),
  )
  .map(([body, expireAt]) => (expireAt === undefined ? body : ({ ...body, expireAt } as Intent)));
/** An expiry on an order that is not GTD: refused. */
const notGtdWithExpiry: fc.Arbitrary<Intent> = resting.map((body) => ({ ...body, expireAt: 1000 }) as Intent);
const timer: fc.Arbitrary<Intent> = fc.constant({ kind: 'expire' as const });
/** Dead-man switches: armed for seconds (a few commands), renewed, disarmed; sometimes out of bounds. */
const deadMan: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('cancelAllAfter' as const),
  userId: fc.oneof({ weight: 9, arbitrary: user }, { weight: 1, arbitrary: fc.constant('') }),
  timeoutSeconds: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(1, 5, 10, 20, 30) },
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(86_400, 86_401, -1, 1.5) },
  ),
});
/** Cancel on disconnect: a user's session orders, picked as cancels pick (live orders, recent ones, unknown ids). */
const cancelSession: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('cancelSession' as const),
  userId: user,
  orderIds: fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 6 }),
});
const crossing = limitWith(crossingPrice, takerQuantity, fc.constantFrom('GTC', 'IOC', 'FOK') as fc.Arbitrary<'GTC' | 'IOC' | 'FOK'>);
const marketOrder: fc.Arbitrary<Intent> = fc
  .record({ userId: user, market, side, quantity: takerQuantity, selfTradePrevention: stp, clientOrderId })
  .map(({ clientOrderId: c, ...r }) => withClientOrderId({ kind: 'placeMarket' as const, orderId: 0, ...r }, c));
/** 2 to 6 crossing orders in a row, all on one side of one market. */
const burst: fc.Arbitrary<Intent[]> = fc
  .tuple(side, fc.constantFrom('BTC-USD', 'ETH-USD'), fc.array(fc.tuple(user, fc.integer({ min: 0, max: 3 }), takerQuantity), { minLength: 2, maxLength: 6 }))
  .map(([s, m, orders]) =>
    orders.map(([userId, d, q]) => ({
      kind: 'placeLimit' as const, orderId: 0, userId, market: m, side: s, price: (s === 'buy' ? 100n + BigInt(d) : 101n - BigInt(d)) * WHOLE,
      quantity: q, timeInForce: 'GTC' as const, postOnly: false, selfTradePrevention: 'cancel_resting' as const,
    })),
  );
const cancel: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('cancel' as const),
  userId: fc.oneof({ weight: 9, arbitrary: fc.constant(OWNER) }, { weight: 1, arbitrary: user }),
  orderId: fc.integer({ min: 1, max: 100 }),
});

/**
 * Amendments: targets picked as a cancel's; a new price near the book (crossing it or not) and/or
 * a new quantity (smaller, larger, below what is filled), sometimes neither, sometimes invalid.
 */
const amendPrice = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.integer({ min: 98, max: 103 }).map((p) => BigInt(p) * WHOLE) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 2n ** 53n) },
);
const amendQuantity = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }).map((q) => BigInt(q) * LOT) },
  { weight: 1, arbitrary: fc.constantFrom(1n, 0n, 10n ** 15n) },
);
const amend: fc.Arbitrary<Intent> = fc
  .record({
    userId: fc.oneof({ weight: 9, arbitrary: fc.constant(OWNER) }, { weight: 1, arbitrary: user }),
    orderId: fc.integer({ min: 1, max: 100 }),
    clientOrderId: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('a', 'b') }),
    price: amendPrice,
    quantity: amendQuantity,
  })
  .map(({ clientOrderId: c, price, quantity, ...r }) => ({
    kind: 'amend' as const, ...r,
    ...(c === undefined ? {} : { clientOrderId: c, orderId: 0, userId: r.userId === OWNER ? USERS[0] : r.userId }),
    ...(price === undefined ? {} : { price }),
    ...(quantity === undefined ? {} : { quantity }),
  }));

/** Mass cancels: everything, one market and/or one side; sometimes an unknown market. */
const cancelAll: fc.Arbitrary<Intent> = fc
  .record({
    userId: user,
    market: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: market }),
    side: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: side }, { weight: 1, arbitrary: fc.constant('up' as Side) }),
  })
  .map(({ market: m, side: s, ...r }) => ({ kind: 'cancelAll' as const, ...r, ...(m === undefined ? {} : { market: m }), ...(s === undefined ? {} : { side: s }) }));

/** A valid limit order with exactly one field made invalid (as a careless or hostile caller would send it). */
const invalidLimit: fc.Arbitrary<Intent> = fc
  .tuple(
    resting,
    fc.constantFrom<[string, unknown]>(
      ['userId', ''], ['userId', FEE_ACCOUNT_ID], ['side', 'up'], ['quantity', 0n], ['quantity', -LOT], ['price', 0n], ['timeInForce', 'GTD'], ['postOnly', 'yes'],
      ['selfTradePrevention', 'none'], ['clientOrderId', 'x'.repeat(65)], ['clientOrderId', 'tab\there'], ['clientOrderId', 'caf\u00e9'],
    ),
  )
  .map(([body, [key, value]]) => ({ ...body, [key]: value }) as Intent);
const invalidMarketOrder: fc.Arbitrary<Intent> = fc
  .tuple(marketOrder, fc.constantFrom<[string, unknown]>(['userId', ''], ['side', 'bid'], ['quantity', 0n], ['selfTradePrevention', ''], ['clientOrderId', '\u0000']))
  .map(([body, [key, value]]) => ({ ...body, [key]: value }) as Intent);
const invalidDeposit: fc.Arbitrary<Intent> = deposit.map((body) => ({ ...body, userId: '' }));
/** Deposits with a few request ids, amounts and references, so that repeats are retries about as often as conflicts. */
const requestedDeposit: fc.Arbitrary<Intent> = fc
  .record({
    kind: fc.constant('deposit' as const),
    userId: fc.constantFrom('u1', 'u2'),
    asset: fc.constantFrom('USD', 'USD', 'USD', 'BTC'),
    amount: fc.constantFrom(10n ** 9n, 10n ** 9n, 10n ** 9n, 2n * 10n ** 9n),
    requestId: fc.constantFrom('r1', 'r1', 'r2', '', 'bad\n'),
    reference: fc.constantFrom(undefined, undefined, undefined, 'wire 9'),
  })
  .map(({ reference, ...body }) => ({ ...body, ...(reference === undefined ? {} : { reference }) }));
/**
 * Withdrawals by an admin: of any amount up to about what a funded user holds (so about as many
 * are refused as taken), a few request ids (repeats are retries or conflicts), sometimes one
 * field invalid; deposits that name their admin.
 */
const withdrawal: fc.Arbitrary<Intent> = fc
  .record({
    userId: user,
    asset: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ASSETS) }, { weight: 1, arbitrary: fc.constant('XRP') }),
    amount: fc.oneof(
      { weight: 5, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 10n }) },
      { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 6n * 10n ** 12n }) },
      { weight: 1, arbitrary: fc.constantFrom(0n, 2n ** 64n, 60n * 10n ** 8n) },
    ),
    requestId: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(undefined, 'w1', 'w2') }, { weight: 1, arbitrary: fc.constantFrom('', 'bad\n') }),
    reference: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('wire 1', 'tx 0xab') }, { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(129), 'caf\u00e9') }),
    adminId: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('admin', 'ops') }, { weight: 1, arbitrary: fc.constant('') }),
  })
  .map(({ requestId, ...r }) => ({ kind: 'withdraw' as const, ...r, ...(requestId === undefined ? {} : { requestId }) }));
/** Withdrawals with a few request ids, amounts and references, so that repeats are retries about as often as conflicts. */
const requestedWithdrawal: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('withdraw' as const),
  userId: fc.constantFrom('u1', 'u2'),
  asset: fc.constantFrom('USD', 'USD', 'BTC'),
  amount: fc.constantFrom(10n ** 9n, 10n ** 9n, 2n * 10n ** 9n),
  requestId: fc.constantFrom('w1', 'w1', 'w2'),
  adminId: fc.constant('admin'),
  reference: fc.constantFrom('wire 1', 'wire 1', 'wire 2'),
});
/** Deposits naming their admin, some with an external reference (a few invalid). */
const adminDeposit: fc.Arbitrary<Intent> = fc
  .tuple(deposit, fc.constantFrom('admin', 'ops', ''), fc.constantFrom(undefined, undefined, 'wire 9', 'tx 0xcd', '', 'caf\u00e9'))
  .map(([body, adminId, reference]) => ({ ...body, adminId, ...(reference === undefined ? {} : { reference }) }) as Intent);
const retry: fc.Arbitrary<Intent> = fc.integer({ min: 1, max: 8 }).map((pick) => ({
  kind: 'placeMarket' as const, orderId: pick, userId: USERS[0], market: 'BTC-USD', side: 'buy' as const, quantity: LOT,
  selfTradePrevention: 'cancel_resting' as const, clientOrderId: RETRY,
}));
const cancelByClientOrderId: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('cancel' as const),
  userId: user,
  orderId: fc.constant(0),
  clientOrderId: fc.constantFrom('a', 'b', 'c', '\u0000'),
});

/** Stop prices where trades print: 99 to 102 (a few off-grid, a few invalid). */
const stopPrice = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 99, max: 102 }).map((p) => BigInt(p) * WHOLE) },
  { weight: 2, arbitrary: fc.integer({ min: 99_000_000, max: 102_000_000 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 2n ** 53n, 2n ** 53n - 1n, 8_188_008_819_614_719n) }, // a tenth more is past the bound, or just below it
);
const stopLimit: fc.Arbitrary<Intent> = side.chain((s) =>
  fc.record({
    userId: user, market, side: fc.constant(s), price: fc.oneof(restingPrice(s), crossingPrice(s)), quantity: takerQuantity, selfTradePrevention: stp,
    clientOrderId, stopPrice, timeInForce: fc.constantFrom('GTC', 'GTC', 'IOC', 'FOK') as fc.Arbitrary<'GTC' | 'IOC' | 'FOK'>,
    postOnly: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  }),
).map(({ clientOrderId: c, ...r }) => withClientOrderId({ kind: 'placeLimit' as const, orderId: 0, ...r }, c));
const stopMarket: fc.Arbitrary<Intent> = fc
  .record({ userId: user, market, side, quantity: takerQuantity, selfTradePrevention: stp, clientOrderId, stopPrice })
  .map(({ clientOrderId: c, ...r }) => withClientOrderId({ kind: 'placeMarket' as const, orderId: 0, ...r }, c));
/**
 * Pairs: a limit order at a resting price, its stop beyond the other side's levels (sometimes on
 * the wrong side); now and then a stop price or stop-limit price off BTC-USD's tick (FEE_CONFIG),
 * or a stop order worth far less than the limit order (at a price of 1), under the minimum notional.
 */
const offTick = 5_000n;
const oco: fc.Arbitrary<Intent> = side.chain((s) =>
  fc.record({
    userId: user, market, side: fc.constant(s), quantity: takerQuantity, selfTradePrevention: stp, clientOrderId,
    price: fc.oneof({ weight: 4, arbitrary: restingPrice(s) }, { weight: 1, arbitrary: crossingPrice(s) }),
    stopPrice: fc.oneof(
      { weight: 12, arbitrary: fc.integer({ min: 0, max: 3 }).map((d) => (s === 'buy' ? 101n + BigInt(d) : 100n - BigInt(d)) * WHOLE) },
      { weight: 1, arbitrary: fc.constant(s === 'buy' ? 101n * WHOLE + offTick : 99n * WHOLE + offTick) },
      { weight: 1, arbitrary: fc.constant(s === 'buy' ? 101n * WHOLE : WHOLE) },
    ),
    stopLimitPrice: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 6, arbitrary: fc.integer({ min: 99, max: 103 }).map((p) => BigInt(p) * WHOLE) },
      { weight: 1, arbitrary: fc.constantFrom(100n * WHOLE + offTick, WHOLE) },
    ),
  }),
).map(({ stopLimitPrice, clientOrderId: c, ...r }) =>
  withClientOrderId({ kind: 'placeOco' as const, orderId: 0, stopOrderId: 0, ...r, ...(stopLimitPrice === undefined ? {} : { stopLimitPrice }) }, c),
);

/**
 * New bounds on stops and resting orders, mid-sequence (toCommands keeps the config's retentions:
 * the reference models a retention lowered and raised again only in part); now and then one invalid.
 */
const configure: fc.Arbitrary<Intent> = fc
  .record({
    maxStopsPerUserMarket: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0, 1, 2, 1000) }, { weight: 1, arbitrary: fc.constantFrom(-1, 0.5) }),
    maxOpenOrdersPerUserMarket: fc.constantFrom(0, 1, 2, 4, 10_000),
  })
  .map((bounds) => ({ kind: 'configure' as const, limits: bounds as unknown as EngineLimits }));

const step: fc.Arbitrary<Intent[]> = fc.oneof(
  { weight: 1, arbitrary: deposit.map((i) => [i]) },
  { weight: 14, arbitrary: resting.map((i) => [i]) },
  { weight: 3, arbitrary: crossing.map((i) => [i]) },
  { weight: 1, arbitrary: burst },
  { weight: 3, arbitrary: marketOrder.map((i) => [i]) },
  { weight: 3, arbitrary: cancel.map((i) => [i]) },
  { weight: 1, arbitrary: cancelByClientOrderId.map((i) => [i]) },
  { weight: 3, arbitrary: amend.map((i) => [i]) },
  { weight: 1, arbitrary: cancelAll.map((i) => [i]) },
  { weight: 1, arbitrary: requestedDeposit.map((i) => [i]) },
  { weight: 2, arbitrary: withdrawal.map((i) => [i]) },
  { weight: 1, arbitrary: requestedWithdrawal.map((i) => [i]) },
  { weight: 1, arbitrary: adminDeposit.map((i) => [i]) },
  { weight: 2, arbitrary: retry.map((i) => [i]) },
  { weight: 1, arbitrary: fc.oneof(invalidLimit, invalidMarketOrder, invalidDeposit, notGtdWithExpiry).map((i) => [i]) },
  { weight: 4, arbitrary: gtd.map((i) => [i]) },
  { weight: 3, arbitrary: timer.map((i) => [i]) },
  { weight: 1, arbitrary: deadMan.map((i) => [i]) },
  { weight: 1, arbitrary: cancelSession.map((i) => [i]) },
  { weight: 3, arbitrary: stopLimit.map((i) => [i]) },
  { weight: 2, arbitrary: stopMarket.map((i) => [i]) },
  { weight: 2, arbitrary: oco.map((i) => [i]) },
  { weight: 1, arbitrary: configure.map((i) => [i]) },
);

/** Funding every user first, then about `length` random commands. */
export const intents = (length: number): fc.Arbitrary<Intent[]> =>
  fc.array(step, { minLength: Math.floor(length / 2), maxLength: length, size: 'max' }).map((steps) => [
    ...FUNDED.flatMap((u): Intent[] => [
      { kind: 'deposit', userId: u, asset: 'USD', amount: 50_000n * 10n ** 8n },
      { kind: 'deposit', userId: u, asset: 'BTC', amount: 60n * 10n ** 8n },
      { kind: 'deposit', userId: u, asset: 'ETH', amount: 60n * 10n ** 8n },
    ]),
    ...steps.flat(),
  ]);

export const START_TIME = 1_700_000_000_000;
/**
 * Time between two commands: mostly seconds, every fifth 97 minutes, so that a sequence spans more
 * than a day of minute buckets (ticker windows slide, bucket slots are reused) and several trades
 * still share a minute.
 */
const timeStep = (seq: number): number => (seq % 5 === 0 ? 97 * 60_000 : 7_000);

/**
 * Turns intents into commands: seqs from 1, the next order id for each placement, cancels' targets
 * and owners. A reference exchange runs alongside to know which orders are live.
 */
export function toCommands(list: Intent[], config: EngineConfig = RANDOM_CONFIG): Command[] {
  const reference = new ReferenceExchange(config);
  let timestamp = START_TIME;
  const owners: string[] = [];
  /** Placements that had a client order id, latest last. */
  const keyed: Intent[] = [];
  return list.map((intent, i) => {
    const seq = i + 1;
    timestamp += timeStep(seq);
    let body = intent;
    if (intent.kind === 'cancelSession') {
      const live = reference.openOrders().filter((o) => o.userId === intent.userId);
      const orderIds = intent.orderIds.map((pick) =>
        pick <= 80 && live.length > 0 ? live[pick % live.length]!.orderId : pick <= 90 && owners.length > 0 ? owners.length - (pick % Math.min(owners.length, 8)) : 1000 + pick,
      );
      body = { ...intent, orderIds };
    } else if (intent.kind === 'placeLimit' || intent.kind === 'placeMarket' || intent.kind === 'placeOco') {
      // A retry repeats one of the latest keyed placements, a pair as well as a single order.
      const repeated = intent.clientOrderId === RETRY ? (keyed[keyed.length - 1 - (intent.orderId % Math.max(keyed.length, 1))] ?? { ...intent, clientOrderId: 'a' }) : intent;
      if (repeated.kind !== 'placeLimit' && repeated.kind !== 'placeMarket' && repeated.kind !== 'placeOco') throw new Error('only placements are repeated');
      if (repeated.clientOrderId !== undefined) keyed.push(repeated);
      if (repeated.kind === 'placeOco') {
        owners.push(repeated.userId, repeated.userId);
        body = { ...repeated, orderId: owners.length - 1, stopOrderId: owners.length };
      } else {
        owners.push(repeated.userId);
        body = { ...repeated, orderId: owners.length };
        if (body.kind === 'placeLimit' && body.expireAt !== undefined && repeated === intent) body = { ...body, expireAt: timestamp + body.expireAt };
      }
    } else if ((intent.kind === 'cancel' || intent.kind === 'amend') && intent.clientOrderId === undefined) {
      const live = reference.openOrders();
      const pick = intent.orderId;
      const orderId =
        pick <= 80 && live.length > 0 ? live[pick % live.length]!.orderId
        : pick <= 90 && owners.length > 0 ? owners.length - (pick % Math.min(owners.length, 8))
        : 1000 + pick;
      body = { ...intent, orderId, userId: intent.userId === OWNER ? (owners[orderId - 1] ?? USERS[0]) : intent.userId };
    } else if (intent.kind === 'configure') {
      body = { ...intent, limits: { ...limitsOf(config), ...intent.limits } };
    }
    const cmd = { ...body, seq, timestamp } as Command;
    reference.apply(cmd);
    return cmd;
  });
}
