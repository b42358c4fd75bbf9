import { expect } from 'chai';
import fc from 'fast-check';
import { Engine, type Command, type CommandResult, type Side } from '../src/index';
import { buyLockAmount } from '../src/settlement';
import { ASSETS, engineLevels, intents, RANDOM_CONFIG, toCommands, USERS } from './random-commands';

const MARKETS = RANDOM_CONFIG.markets;

/** Every invariant of the engine's state, checked through its public queries and snapshot. */
function checkInvariants(engine: Engine, deposits: Map<string, bigint>, where: string): void {
  for (const { symbol } of MARKETS) {
    const depth = engine.depth(symbol, 1_000)!;
    // Never crossed at rest.
    if (depth.bids.length > 0 && depth.asks.length > 0) expect(depth.bids[0]!.price < depth.asks[0]!.price, `${where} crossed`).to.equal(true);
    for (const side of ['buy', 'sell'] as Side[]) {
      const levels = engineLevels(engine, symbol, side);
      const views = side === 'buy' ? depth.bids : depth.asks;
      expect(views.map((l) => [l.price, l.quantity, l.orderCount]), `${where} levels`).to.deep.equal(levels.map(([p, q, ids]) => [p, q, ids.length]));
      for (let i = 1; i < levels.length; i++) expect(side === 'buy' ? levels[i]![0] < levels[i - 1]![0] : levels[i]![0] > levels[i - 1]![0]).to.equal(true);
      // FIFO: order ids are handed out in arrival order, so each queue is sorted by id.
      for (const [, , ids] of levels) expect(ids, `${where} FIFO`).to.deep.equal([...ids].sort((a, b) => a - b));
    }
  }
  const totals = new Map<string, bigint>();
  for (const userId of USERS) {
    const reserved = new Map<string, bigint>();
    for (const order of engine.listOrders(userId, { openOnly: true, limit: 1_000_000 })) {
      const market = MARKETS.find((m) => m.symbol === order.market)!;
      const asset = order.side === 'buy' ? market.quote : market.base;
      reserved.set(asset, (reserved.get(asset) ?? 0n) + order.locked);
      const remaining = order.quantity - order.filled;
      // A buy's lock always covers what the rest of it could cost at its limit price; a sell's is its rest.
      const needed = order.side === 'buy' ? BigInt(buyLockAmount(Number(order.price), Number(remaining))) : remaining;
      expect(order.locked >= needed, `${where} order ${order.orderId} lock ${order.locked} < ${needed}`).to.equal(true);
      if (order.side === 'sell') expect(order.locked).to.equal(remaining);
    }
    for (const { asset, available, locked } of engine.balances(userId)) {
      expect(available >= 0n && locked >= 0n, `${where} negative`).to.equal(true);
      // What a user has locked is exactly what their open orders reserve.
      expect(locked, `${where} ${userId} ${asset} locked`).to.equal(reserved.get(asset) ?? 0n);
      totals.set(asset, (totals.get(asset) ?? 0n) + available + locked);
    }
  }
  // Conservation: every unit of every asset is somewhere, and nowhere twice.
  for (const asset of ASSETS) expect(totals.get(asset), `${where} ${asset} conservation`).to.equal(deposits.get(asset) ?? 0n);
}

function depositOf(cmd: Command, result: CommandResult, deposits: Map<string, bigint>): void {
  if (cmd.kind === 'deposit' && result.ok) deposits.set(cmd.asset, (deposits.get(cmd.asset) ?? 0n) + cmd.amount);
}

describe('properties: invariants on random command sequences', () => {
  it('hold after every command; rejected commands change nothing; snapshots restore the same state', function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(intents(45), (list) => {
        const engine = new Engine(RANDOM_CONFIG);
        const deposits = new Map<string, bigint>();
        for (const cmd of toCommands(list)) {
          const before = engine.stateHash();
          const result = engine.apply(cmd);
          const where = `seq ${cmd.seq} ${cmd.kind}`;
          expect(engine.lastSeq()).to.equal(cmd.seq);
          if (!result.ok) expect(engine.stateHash(), `${where} rejected but changed state`).to.equal(before);
          else expect(result.events.length, `${where} accepted without events`).to.be.greaterThan(0);
          depositOf(cmd, result, deposits);
          checkInvariants(engine, deposits, where);
          expect(Engine.restore(RANDOM_CONFIG, engine.snapshot()).stateHash(), `${where} restore`).to.equal(engine.stateHash());
        }
      }),
      { numRuns: 150 },
    );
  });

  it('replaying the commands reproduces every result and the state; a restored snapshot has the same future', function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(intents(45), fc.nat(), (list, cut) => {
        const commands = toCommands(list);
        const split = cut % commands.length;
        const engine = new Engine(RANDOM_CONFIG);
        const results = commands.map((cmd) => engine.apply(cmd));
        const replay = new Engine(RANDOM_CONFIG);
        expect(commands.map((cmd) => replay.apply(cmd))).to.deep.equal(results);
        expect(replay.stateHash()).to.equal(engine.stateHash());
        expect(replay.snapshot()).to.equal(engine.snapshot());

        const first = new Engine(RANDOM_CONFIG);
        for (const cmd of commands.slice(0, split)) first.apply(cmd);
        const restored = Engine.restore(RANDOM_CONFIG, first.snapshot());
        expect(commands.slice(split).map((cmd) => restored.apply(cmd))).to.deep.equal(results.slice(split));
        expect(restored.stateHash()).to.equal(engine.stateHash());
      }),
      { numRuns: 150 },
    );
  });
});
