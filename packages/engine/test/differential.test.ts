import { expect } from 'chai';
import fc from 'fast-check';
import { Engine, type CommandResult, type Side } from '../src/index';
import { ASSETS, engineLevels, intents, RANDOM_CONFIG, toCommands, USERS } from './random-commands';
import { ReferenceExchange, type RefResult } from './reference-matcher';

/** The engine's result in the reference's terms. */
function summarize(result: CommandResult): RefResult {
  if (!result.ok) return { ok: false, code: result.error.code, field: result.error.field };
  const v = result.value;
  if (v.kind === 'deposited') return { ok: true, trades: [] };
  const order = { status: v.order.status, filled: v.order.filled, locked: v.order.locked };
  if (v.kind === 'cancelled') return { ok: true, trades: [], order };
  const trades = v.trades.map(({ tradeId, price, quantity, quoteAmount, makerOrderId, takerOrderId, makerUserId, takerUserId }) => ({
    tradeId, price, quantity, quoteAmount, makerOrderId, takerOrderId, makerUserId, takerUserId,
  }));
  return { ok: true, trades, order };
}

describe('differential: engine vs a naive reference matcher', () => {
  // Retaining nothing frees an order's slot as soon as it closes, even mid-match: worth its own run.
  for (const config of [RANDOM_CONFIG, { ...RANDOM_CONFIG, closedOrdersRetainedPerUser: 0 }]) {
    it(`agrees on every result, trade, balance and final book (${config.closedOrdersRetainedPerUser} closed orders retained)`, function () {
      this.timeout(60_000);
      fc.assert(
        fc.property(intents(45), (list) => {
          const engine = new Engine(config);
          const reference = new ReferenceExchange(config);
          for (const cmd of toCommands(list)) {
            const ours = summarize(engine.apply(cmd));
            const theirs = reference.apply(cmd);
            expect(ours, `seq ${cmd.seq} ${cmd.kind}`).to.deep.equal(theirs);
            for (const userId of USERS) {
              const balances = engine.balances(userId);
              for (const asset of ASSETS) {
                const { available, locked } = balances.find((b) => b.asset === asset)!;
                expect({ available, locked }, `seq ${cmd.seq} ${userId} ${asset}`).to.deep.equal(reference.balance(userId, asset));
              }
            }
          }
          for (const { symbol } of RANDOM_CONFIG.markets) {
            for (const side of ['buy', 'sell'] as Side[]) expect(engineLevels(engine, symbol, side)).to.deep.equal(reference.levels(symbol, side));
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});
