import { expect } from 'chai';
import fc from 'fast-check';
import { Engine, type CommandResult, type EngineEvent } from '../src/index';
import { expectSameState, expectSameTickers, runs } from './compare-state';
import { ACCOUNTS, ASSETS, FEE_CONFIG, intents, RANDOM_CONFIG, toCommands } from './random-commands';
import { ReferenceExchange } from './reference-matcher';

type Coalesced = Extract<EngineEvent, { type: 'bookLevel' | 'balance' }>;
const isCoalesced = (e: EngineEvent): e is Coalesced => e.type === 'bookLevel' || e.type === 'balance';
const byKey = (key: (e: Coalesced) => string) => (a: Coalesced, b: Coalesced) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const levelKey = (e: Coalesced): string => (e.type === 'bookLevel' ? `${e.market} ${e.side} ${e.price}` : `${e.userId} ${e.balance.asset}`);

/**
 * A result in comparable form: everything as it is, except that an error's message is only
 * required to name its field, and the coalesced level and balance events — whose order among
 * themselves the contract leaves open — are sorted, each market's bookSeqs compared as a set.
 */
export function comparable(result: CommandResult): unknown {
  if (!result.ok) {
    const { code, field, message } = result.error;
    return { ok: false, code, field, namesField: field === undefined || message.startsWith(`${field}: `) };
  }
  const coalesced = result.events.filter(isCoalesced);
  const bookSeqs: Record<string, number[]> = {};
  for (const e of coalesced) if (e.type === 'bookLevel') (bookSeqs[e.market] ??= []).push(e.bookSeq);
  for (const seqs of Object.values(bookSeqs)) seqs.sort((a, b) => a - b);
  const levels = coalesced.map((e) => (e.type === 'bookLevel' ? { ...e, bookSeq: 0 } : e)).sort(byKey(levelKey));
  return {
    ok: true,
    value: result.value,
    kinds: result.events.map((e) => e.type),
    ordered: result.events.filter((e) => !isCoalesced(e)),
    coalesced: levels,
    bookSeqs,
  };
}

describe('differential: engine vs a naive reference exchange', () => {
  // Retaining nothing frees an order's slot as soon as it closes, even mid-match: worth its own run,
  // with bounds of 2 waiting stops and 4 resting orders per user and market that random sequences reach.
  // And with fees and instrument rules, which the reference computes on its own.
  for (const config of [RANDOM_CONFIG, { ...RANDOM_CONFIG, closedOrdersRetainedPerUser: 0, maxStopsPerUserMarket: 2, maxOpenOrdersPerUserMarket: 4 }, FEE_CONFIG]) {
    const fees = config === FEE_CONFIG ? ', fees and instrument rules' : '';
    const stops = config.maxStopsPerUserMarket === undefined ? '' : `, ${config.maxStopsPerUserMarket} stops and ${config.maxOpenOrdersPerUserMarket} resting orders per user and market`;
    it(`agrees on every field of every result and event, and on the whole state after every command (${config.closedOrdersRetainedPerUser} closed orders retained${stops}${fees})`, function () {
      this.timeout(0);
      fc.assert(
        fc.property(intents(100), (list) => {
          const engine = new Engine(config);
          const reference = new ReferenceExchange(config);
          for (const cmd of toCommands(list, config)) {
            const where = `seq ${cmd.seq} ${cmd.kind}`;
            expect(comparable(engine.apply(cmd)), where).to.deep.equal(comparable(reference.apply(cmd)));
            expectSameState(engine, reference, ACCOUNTS, ASSETS, where);
            // At the command's time, and 20 hours on: the window slides past the minutes it held.
            for (const later of [0, 20 * 3_600_000]) expectSameTickers(engine, reference, cmd.timestamp + later, `${where} +${later}ms`);
          }
        }),
        { numRuns: runs(15) },
      );
    });
  }
});
