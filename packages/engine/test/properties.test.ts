import { expect } from 'chai';
import fc from 'fast-check';
import { Engine, type Command, type CommandResult, type TradeView } from '../src/index';
import { type Book, engineBook, expectSameState, runs } from './compare-state';
import { ACCOUNTS, ASSETS, FEE_CONFIG, intents, RANDOM_CONFIG, toCommands, USERS } from './random-commands';
import { ReferenceExchange } from './reference-matcher';

/** What a buy of `quantity` at `price` must still reserve: ceil(price × quantity / 10^6), in bigint. */
const buyReserve = (price: bigint, quantity: bigint): bigint => (price * quantity + 999_999n) / 1_000_000n;

/** Invariants that need no reference: each computed here from the engine's public answers. */
function checkInvariants(engine: Engine, book: Book, deposits: Map<string, bigint>, where: string): void {
  const markets = engine.markets();
  for (const { symbol } of markets) {
    const { buy, sell } = book[symbol]!;
    // Never crossed at rest; levels strictly best first.
    if (buy.length > 0 && sell.length > 0) expect(buy[0]![0] < sell[0]![0], `${where} crossed`).to.equal(true);
    for (let i = 1; i < buy.length; i++) expect(buy[i]![0] < buy[i - 1]![0], `${where} bids order`).to.equal(true);
    for (let i = 1; i < sell.length; i++) expect(sell[i]![0] > sell[i - 1]![0], `${where} asks order`).to.equal(true);
  }
  const totals = new Map<string, bigint>();
  // The fee account too: conservation holds only with what it was paid and paid out.
  for (const userId of ACCOUNTS) {
    const reserved = new Map<string, bigint>();
    for (const order of engine.listOrders(userId, { openOnly: true, limit: 1_000_000 })) {
      const market = markets.find((m) => m.symbol === order.market)!;
      const asset = order.side === 'buy' ? market.quote : market.base;
      reserved.set(asset, (reserved.get(asset) ?? 0n) + order.locked);
      const remaining = order.quantity - order.filled;
      // A buy's lock covers what the rest of it could cost at its limit price; a sell's is its rest.
      // A waiting stop-market buy's lock is its quantity at the stop price plus a tenth (stops.ts).
      const lockPrice = order.price ?? order.stopPrice! + (order.stopPrice! + 9n) / 10n;
      if (order.side === 'buy') expect(order.locked >= buyReserve(lockPrice, remaining), `${where} order ${order.orderId} lock`).to.equal(true);
      else expect(order.locked, `${where} order ${order.orderId} lock`).to.equal(remaining);
    }
    for (const { asset, available, locked } of engine.balances(userId)) {
      // No balance is ever negative: the u64 table would fault first, but the views say it too.
      expect(available >= 0n && locked >= 0n, `${where} ${userId} ${asset} negative`).to.equal(true);
      // What a user has locked is exactly what their open orders reserve.
      expect(locked, `${where} ${userId} ${asset} locked`).to.equal(reserved.get(asset) ?? 0n);
      totals.set(asset, (totals.get(asset) ?? 0n) + available + locked);
    }
  }
  // Conservation: every unit of every asset is somewhere, and nowhere twice.
  for (const asset of ASSETS) expect(totals.get(asset), `${where} ${asset} conservation`).to.equal(deposits.get(asset) ?? 0n);
}

/**
 * History: each user's fills are exactly the trades they were in, newest first, the newest
 * fillsRetainedPerUser of them; each market's recent trades its newest tradesRetainedPerMarket.
 */
function checkHistory(engine: Engine, trades: readonly TradeView[], where: string): void {
  const newest = (list: TradeView[], n: number): number[] => list.slice(Math.max(0, list.length - n)).reverse().map((t) => t.tradeId);
  for (const userId of USERS) {
    const theirs = trades.filter((t) => t.makerUserId === userId || t.takerUserId === userId);
    const fills = engine.listFills(userId, { limit: 1_000_000 });
    expect(fills.map((f) => f.tradeId), `${where} ${userId} fills`).to.deep.equal(newest(theirs, RANDOM_CONFIG.fillsRetainedPerUser!));
    for (const f of fills) expect(f.liquidity === 'taker', `${where} ${userId} liquidity`).to.equal(theirs.find((t) => t.tradeId === f.tradeId)!.takerUserId === userId);
  }
  for (const { symbol } of RANDOM_CONFIG.markets) {
    const recent = engine.recentTrades(symbol, 1_000_000)!.map((t) => t.tradeId);
    expect(recent, `${where} ${symbol} trades`).to.deep.equal(newest(trades.filter((t) => t.market === symbol), RANDOM_CONFIG.tradesRetainedPerMarket!));
  }
}

/** How deep and busy the generated sequences are: printed, so that a generator that collapses is seen. */
class Distribution {
  private readonly tradesPerSequence: number[] = [];
  private readonly maxLevelDepth: number[] = [];
  private readonly maxLevels: number[] = [];
  private readonly counts = new Map<string, number>();
  private trades = 0;
  private depth = 0;
  private levels = 0;

  command(cmd: Command, result: CommandResult, book: Book): void {
    if (result.ok && result.value.kind === 'placed') {
      this.trades += result.value.trades.length;
      for (const t of result.value.trades) {
        if (t.makerFee < 0n) this.count('fill with a maker rebate');
        if (t.takerFee > 0n) this.count('fill with a taker fee');
      }
    }
    const fok = cmd.kind === 'placeLimit' && cmd.timeInForce === 'FOK';
    const gtd = cmd.kind === 'placeLimit' && cmd.timeInForce === 'GTD';
    const counted = ['placeMarket', 'cancel', 'amend', 'cancelAll', 'cancelAllAfter', 'cancelSession', 'withdraw', 'placeOco'].includes(cmd.kind);
    const kind = fok ? 'FOK' : gtd ? 'GTD' : counted ? cmd.kind : undefined;
    if (result.ok && result.value.kind === 'expired') {
      const { expiredOrders, deadManSwitches, deadManOrders } = result.value;
      const fired = [expiredOrders > 0 && 'expiries', deadManSwitches > 0 && 'dead-man switches', deadManOrders > 0 && 'dead-man cancels'].filter(Boolean);
      this.count(`expire: ${fired.length === 0 ? 'nothing due' : fired.join(' + ')}`);
    }
    if (kind !== undefined) this.count(`${kind} ${result.ok ? 'accepted' : `${result.error.code}(${result.error.field ?? 'funds'})`}`);
    if (result.ok && result.events.length === 0) this.count(`${cmd.kind} accepted, nothing to change`);
    for (const e of result.ok ? result.events : []) {
      // A stop's first update after its trigger: open, nothing filled yet (or cancelled unfilled, a stop-market).
      if (e.type === 'orderUpdated' && e.order.stopPrice !== undefined && e.order.filled === 0n && e.order.status !== 'untriggered' && e.trade === undefined) {
        this.count(`stop ${e.order.status === 'open' ? 'triggered' : `${e.order.status} (${e.order.cancelReason})`}`);
      }
    }
    for (const sides of Object.values(book)) {
      for (const levels of [sides.buy, sides.sell]) {
        this.levels = Math.max(this.levels, levels.length);
        for (const [, , ids] of levels) this.depth = Math.max(this.depth, ids.length);
      }
    }
  }

  sequenceEnd(): void {
    this.tradesPerSequence.push(this.trades);
    this.maxLevelDepth.push(this.depth);
    this.maxLevels.push(this.levels);
    this.trades = this.depth = this.levels = 0;
  }

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  report(): string {
    const spread = (values: number[]): string => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return `min ${sorted[0]} median ${at(0.5)} p90 ${at(0.9)} max ${sorted.at(-1)}`;
    };
    const counts = [...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(', ');
    return [
      `${this.tradesPerSequence.length} sequences; trades per sequence: ${spread(this.tradesPerSequence)}`,
      `  sequences without a trade: ${this.tradesPerSequence.filter((n) => n === 0).length}`,
      `  max orders in one level: ${spread(this.maxLevelDepth)}; max levels on one side: ${spread(this.maxLevels)}`,
      `  ${counts}`,
    ].join('\n');
  }
}

/** The fee rule, computed here on its own: ceil(received × bps / 10^4). */
const feeOn = (received: bigint, bps: number): bigint => {
  const product = received * BigInt(bps);
  return product >= 0n ? (product + 9_999n) / 10_000n : -(-product / 10_000n);
};

for (const [name, CONFIG] of [['without fees', RANDOM_CONFIG], ['with fees and instrument rules', FEE_CONFIG]] as const) describe(`properties (${name}): invariants on random command sequences, against an independent model`, () => {
  it('hold after every command; rejected commands change nothing; snapshots restore the same state', function () {
    this.timeout(0);
    const distribution = new Distribution();
    fc.assert(
      fc.property(intents(100), (list) => {
        const engine = new Engine(CONFIG);
        // The independent model: balances, locks, reserves per order, fees and the book come from it.
        const model = new ReferenceExchange(CONFIG);
        const deposits = new Map<string, bigint>();
        const trades: TradeView[] = [];
        for (const cmd of toCommands(list, CONFIG)) {
          const before = engine.stateHash();
          const balancesBefore = cmd.kind === 'withdraw' ? engine.balances(cmd.userId) : [];
          const result = engine.apply(cmd);
          const expected = model.apply(cmd);
          const where = `seq ${cmd.seq} ${cmd.kind}`;
          expect(engine.lastSeq()).to.equal(cmd.seq);
          expect(result.ok, `${where} accepted`).to.equal(expected.ok);
          // A rejection changes nothing; so does an accepted command without events: a retry (a repeated
          // placement or deposit, a cancel of a cancelled order), answered with what the original did, or
          // a timer command with nothing due. Only arming a dead-man switch, one firing for a user
          // without open orders, or new limits (a configure command) change state without an event.
          const switched = cmd.kind === 'cancelAllAfter' || cmd.kind === 'configure' || (result.ok && result.value.kind === 'expired' && result.value.deadManSwitches > 0);
          if (!result.ok || (result.events.length === 0 && !switched)) {
            expect(engine.stateHash(), `${where} changed state without events`).to.equal(before);
          }
          // The timer command leaves nothing due at its time.
          if (cmd.kind === 'expire') expect(engine.nextDeadline() > cmd.timestamp, `${where} left something due`).to.equal(true);
          if (result.ok && expected.ok && result.value.kind === 'placed' && expected.value.kind === 'placed') {
            // The exact makers, in the exact order (price, then time priority), for the exact quantities.
            const fills = (trades: typeof result.value.trades) => trades.map((t) => [t.makerOrderId, t.quantity, t.price, t.quoteAmount, t.makerFee, t.takerFee]);
            expect(fills(result.value.trades), `${where} fills`).to.deep.equal(fills(expected.value.trades));
            for (const t of result.value.trades) {
              const market = CONFIG.markets.find((m) => m.symbol === t.market)!;
              const [takerGets, makerGets] = t.takerSide === 'buy' ? [t.quantity, t.quoteAmount] : [t.quoteAmount, t.quantity];
              expect(t.takerFee, `${where} taker fee`).to.equal(feeOn(takerGets, market.takerFeeBps ?? 0));
              // A rebate is the rule's, or less when the fee account cannot pay it all; a fee is the rule's.
              const makerFee = feeOn(makerGets, market.makerFeeBps ?? 0);
              if (makerFee >= 0n) expect(t.makerFee, `${where} maker fee`).to.equal(makerFee);
              else expect(t.makerFee >= makerFee && t.makerFee <= 0n, `${where} maker rebate`).to.equal(true);
            }
          }
          if (cmd.kind === 'deposit' && result.ok && result.events.length > 0) deposits.set(cmd.asset, (deposits.get(cmd.asset) ?? 0n) + cmd.amount);
          // Conservation counts what left: a withdrawal takes exactly its amount out of available, never out of locked.
          if (cmd.kind === 'withdraw' && result.ok && result.events.length > 0) {
            deposits.set(cmd.asset, deposits.get(cmd.asset)! - cmd.amount);
            const after = engine.balances(cmd.userId).find((b) => b.asset === cmd.asset)!;
            const was = balancesBefore.find((b) => b.asset === cmd.asset)!;
            expect([after.available, after.locked], `${where} withdrawal`).to.deep.equal([was.available - cmd.amount, was.locked]);
          }
          for (const e of result.ok ? result.events : []) if (e.type === 'trade') trades.push(e.trade);
          checkHistory(engine, trades, where);
          const book = engineBook(engine);
          checkInvariants(engine, book, deposits, where);
          expectSameState(engine, model, ACCOUNTS, ASSETS, where);
          expect(Engine.restore(CONFIG, engine.snapshot()).stateHash(), `${where} restore`).to.equal(engine.stateHash());
          distribution.command(cmd, result, book);
        }
        distribution.sequenceEnd();
      }),
      { numRuns: runs(15) },
    );
    console.log(`      distribution: ${distribution.report()}`);
  });

  it('replaying the commands reproduces every result and the state; a restored snapshot has the same future', function () {
    this.timeout(0);
    fc.assert(
      fc.property(intents(100), fc.nat(), (list, cut) => {
        const commands = toCommands(list, CONFIG);
        const split = cut % commands.length;
        const engine = new Engine(CONFIG);
        const results = commands.map((cmd) => engine.apply(cmd));
        const replay = new Engine(CONFIG);
        expect(commands.map((cmd) => replay.apply(cmd))).to.deep.equal(results);
        expect(replay.stateHash()).to.equal(engine.stateHash());
        expect(replay.snapshot()).to.deep.equal(engine.snapshot());

        const first = new Engine(CONFIG);
        for (const cmd of commands.slice(0, split)) first.apply(cmd);
        const restored = Engine.restore(CONFIG, first.snapshot());
        expect(commands.slice(split).map((cmd) => restored.apply(cmd))).to.deep.equal(results.slice(split));
        expect(restored.stateHash()).to.equal(engine.stateHash());
      }),
      { numRuns: runs(15) },
    );
  });
});
