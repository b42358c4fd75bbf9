import { expect } from 'chai';
import { Engine, formatQuantity, type CommandResult, type WithdrawCommand } from '../src/index';
import { readSections } from '../src/snapshot';
import { FILL, FILL_FIELDS, FillRings, TradeRing } from '../src/trade-ring';
import { accepted, amt, CONFIG, Harness, placed, px, qty, rejected } from './harness';

type WithdrawBody = Omit<WithdrawCommand, 'seq' | 'timestamp' | 'kind'>;
const withdraw = (h: Harness, body: Partial<WithdrawBody> & Pick<WithdrawBody, 'userId' | 'asset' | 'amount'>): CommandResult =>
  h.send({ kind: 'withdraw', adminId: 'admin-1', reference: 'wire 42', ...body });

function withdrawn(result: CommandResult) {
  const r = accepted(result);
  if (r.value.kind !== 'withdrawn') throw new Error(`expected a withdrawal, got ${r.value.kind}`);
  return { ...r.value, events: r.events };
}

/** Sends commands with the given timestamps (instead of the harness's seq-derived ones). */
class TimedHarness extends Harness {
  at = 1_700_000_000_000;
  override send(body: Parameters<Harness['send']>[0]): CommandResult {
    const seq = this.engine.lastSeq() + 1;
    return this.engine.apply({ ...body, seq, timestamp: this.at } as Parameters<Engine['apply']>[0]);
  }
}

describe('engine: withdrawals and the funds ledger', () => {
  it('debits available funds, never locked ones, and records the admin, the reference and the balance after', () => {
    const h = new Harness();
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: amt('1000'), adminId: 'admin-0', requestId: 'd-1' }));
    placed(h.limit('ann', 'BTC-USD', 'buy', '100', '6')); // locks 600
    const w = withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('150'), requestId: 'w-1' }));
    expect(w.balance).to.deep.equal({ asset: 'USD', available: amt('250'), locked: amt('600') });
    expect(w.entry).to.deep.equal({
      seq: 3, timestamp: 1_700_000_000_003, kind: 'withdrawal', asset: 'USD', amount: amt('150'), requestId: 'w-1',
      adminId: 'admin-1', reference: 'wire 42', balanceAfter: amt('250'),
    });
    expect(w.events).to.deep.equal([{ type: 'balance', userId: 'ann', balance: w.balance }]);
    const over = rejected(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('250.00000001') }));
    expect(over.code).to.equal('FAILED_PRECONDITION');
    expect(over.field).to.equal('amount');
    expect(over.message).to.equal('amount: 250.00000001 USD is more than the 250 available (funds locked by open orders cannot be withdrawn)');
    withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('250'), reference: 'tx 0xabc' }));
    expect(h.balance('ann', 'USD')).to.deep.equal({ available: 0n, locked: amt('600') });
    expect(h.engine.ledger('ann', { limit: 10 }).map((e) => [e.seq, e.kind, e.amount, e.adminId, e.reference, e.balanceAfter])).to.deep.equal([
      [5, 'withdrawal', amt('250'), 'admin-1', 'tx 0xabc', 0n],
      [3, 'withdrawal', amt('150'), 'admin-1', 'wire 42', amt('250')],
      [1, 'deposit', amt('1000'), 'admin-0', undefined, amt('1000')],
    ]);
    expect(h.engine.ledger('ann', { limit: 2, beforeSeq: 5 }).map((e) => e.seq)).to.deep.equal([3, 1]);
    expect(h.engine.ledger('nobody', { limit: 10 })).to.deep.equal([]);
  });

  it('answers a retry of a retained request id with the original entry, debiting nothing; another use is ALREADY_EXISTS', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 2 });
    h.deposit('ann', 'USD', '1000');
    const first = withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('10'), requestId: 'w-1' }));
    const hash = h.engine.stateHash();
    const again = withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('10'), requestId: 'w-1' }));
    expect(again.entry).to.equal(first.entry);
    expect(again.events).to.deep.equal([]);
    expect(h.engine.stateHash()).to.equal(hash);
    for (const change of [{ amount: amt('11') }, { asset: 'BTC' }, { reference: 'other' }]) {
      const error = rejected(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('10'), requestId: 'w-1', ...change }));
      expect([error.code, error.field], JSON.stringify(String(Object.values(change)[0]))).to.deep.equal(['ALREADY_EXISTS', 'request_id']);
    }
    // Another user's request ids are theirs: the same id is a new withdrawal for bob.
    h.deposit('bob', 'USD', '5');
    withdrawn(withdraw(h, { userId: 'bob', asset: 'USD', amount: amt('5'), requestId: 'w-1' }));
    // Two later withdrawals with ids push w-1 out of the window: it withdraws again.
    withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('1'), requestId: 'w-2' }));
    withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('1'), requestId: 'w-3' }));
    withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('10'), requestId: 'w-1' }));
    expect(h.balance('ann', 'USD').available).to.equal(amt('978'));
  });

  it('refuses bad fields, naming each, and changes nothing', () => {
    const h = new Harness();
    h.deposit('ann', 'USD', '1000');
    const hash = h.engine.stateHash();
    const cases: [Partial<WithdrawBody>, string, string][] = [
      [{ userId: '' }, 'INVALID_ARGUMENT', 'user_id'],
      [{ asset: 'XRP' }, 'INVALID_ARGUMENT', 'asset'],
      [{ amount: 0n }, 'INVALID_ARGUMENT', 'amount'],
      [{ amount: -1n }, 'INVALID_ARGUMENT', 'amount'],
      [{ amount: 2n ** 64n }, 'INVALID_ARGUMENT', 'amount'],
      [{ requestId: 'x'.repeat(65) }, 'INVALID_ARGUMENT', 'request_id'],
      [{ reference: '' }, 'INVALID_ARGUMENT', 'reference'],
      [{ reference: 'r'.repeat(129) }, 'INVALID_ARGUMENT', 'reference'],
      [{ reference: 'line\nbreak' }, 'INVALID_ARGUMENT', 'reference'],
      [{ adminId: '' }, 'INVALID_ARGUMENT', 'admin_id'],
      [{ userId: 'stranger' }, 'FAILED_PRECONDITION', 'amount'],
    ];
    for (const [change, code, field] of cases) {
      const error = rejected(withdraw(h, { userId: 'ann', asset: 'USD', amount: amt('1'), ...change }));
      expect([error.code, error.field, error.message.startsWith(`${field}: `)], JSON.stringify(String(Object.values(change)[0]))).to.deep.equal([code, field, true]);
    }
    expect(rejected(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 1n, adminId: '' })).field).to.equal('admin_id');
    expect(h.engine.stateHash()).to.equal(hash);
    expect(h.engine.ledger('stranger', { limit: 1 })).to.deep.equal([]);
  });

  it('lets a withdrawn supply be deposited again up to the 2^64-1 total', () => {
    const h = new Harness();
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 2n ** 64n - 1n }));
    expect(rejected(h.send({ kind: 'deposit', userId: 'bob', asset: 'USD', amount: 1n })).field).to.equal('amount');
    withdrawn(withdraw(h, { userId: 'ann', asset: 'USD', amount: 5n }));
    accepted(h.send({ kind: 'deposit', userId: 'bob', asset: 'USD', amount: 5n }));
  });
});

describe('engine: trade history', () => {
  it("keeps each user's newest fills with their side and liquidity, and each market's newest trades", () => {
    const h = new Harness({ ...CONFIG, fillsRetainedPerUser: 2, tradesRetainedPerMarket: 3 });
    for (const u of ['ann', 'bob', 'cy']) for (const a of ['USD', 'BTC', 'ETH']) h.deposit(u, a, '10000');
    // Order ids 1-6 at seqs 10-15.
    placed(h.limit('ann', 'BTC-USD', 'sell', '100', '1')); // 1
    placed(h.limit('bob', 'BTC-USD', 'buy', '100', '0.25')); // 2: trade 1 (ann maker, bob taker)
    placed(h.limit('cy', 'BTC-USD', 'buy', '100', '0.25')); // 3: trade 2 (ann, cy)
    placed(h.limit('cy', 'ETH-USD', 'sell', '10', '1')); // 4
    placed(h.market('bob', 'ETH-USD', 'buy', '0.5')); // 5: trade 3 (cy maker, bob taker)
    placed(h.market('bob', 'BTC-USD', 'buy', '0.5')); // 6: trade 4 (ann, bob)
    expect(h.engine.listFills('bob', { limit: 10 })).to.deep.equal([
      {
        tradeId: 4, market: 'BTC-USD', orderId: 6, side: 'buy', liquidity: 'taker', price: px('100'), quantity: qty('0.5'),
        quoteAmount: amt('50'), fee: 0n, feeAsset: 'BTC', timestamp: 1_700_000_000_015, seq: 15,
      },
      {
        tradeId: 3, market: 'ETH-USD', orderId: 5, side: 'buy', liquidity: 'taker', price: px('10'), quantity: qty('0.5'),
        quoteAmount: amt('5'), fee: 0n, feeAsset: 'ETH', timestamp: 1_700_000_000_014, seq: 14,
      },
    ]);
    expect(h.engine.listFills('ann', { limit: 10 }).map((f) => [f.tradeId, f.orderId, f.side, f.liquidity])).to.deep.equal([
      [4, 1, 'sell', 'maker'],
      [2, 1, 'sell', 'maker'],
    ]);
    expect(h.engine.listFills('cy', { limit: 10, market: 'ETH-USD' }).map((f) => f.tradeId)).to.deep.equal([3]);
    expect(h.engine.listFills('cy', { limit: 10, beforeTradeId: 3 }).map((f) => f.tradeId)).to.deep.equal([2]);
    expect(h.engine.listFills('cy', { limit: 1 }).map((f) => f.tradeId)).to.deep.equal([3]);
    expect(h.engine.listFills('cy', { limit: 10, from: 1_700_000_000_013, to: 1_700_000_000_015 }).map((f) => f.tradeId)).to.deep.equal([3]);
    expect(h.engine.listFills('nobody', { limit: 10 })).to.deep.equal([]);
    expect(h.engine.recentTrades('BTC-USD', 10)!.map((t) => t.tradeId)).to.deep.equal([4, 2, 1]);
    expect(h.engine.recentTrades('BTC-USD', 2)!.map((t) => t.tradeId)).to.deep.equal([4, 2]);
    expect(h.engine.recentTrades('ETH-USD', 10)!.map((t) => t.tradeId)).to.deep.equal([3]);
    expect(h.engine.recentTrades('SOL-USD', 10)).to.deep.equal([]);
    expect(h.engine.recentTrades('XRP-USD', 10)).to.equal(undefined);
  });

  it("shows each user the fee of their side, in the asset they received", () => {
    const markets = CONFIG.markets.map((m) => (m.symbol === 'BTC-USD' ? { ...m, makerFeeBps: 10, takerFeeBps: 20 } : m));
    const h = new Harness({ ...CONFIG, markets });
    for (const u of ['ann', 'bob']) for (const a of ['USD', 'BTC']) h.deposit(u, a, '1000');
    placed(h.limit('ann', 'BTC-USD', 'sell', '100', '1'));
    placed(h.market('bob', 'BTC-USD', 'buy', '1'));
    const [ann] = h.engine.listFills('ann', { limit: 1 });
    const [bob] = h.engine.listFills('bob', { limit: 1 });
    expect([ann!.side, ann!.liquidity, ann!.fee, ann!.feeAsset]).to.deep.equal(['sell', 'maker', amt('0.1'), 'USD']);
    expect([bob!.side, bob!.liquidity, bob!.fee, bob!.feeAsset]).to.deep.equal(['buy', 'taker', qty('0.002'), 'BTC']);
    const [trade] = h.engine.recentTrades('BTC-USD', 1)!;
    expect([trade!.makerFee, trade!.takerFee]).to.deep.equal([amt('0.1'), qty('0.002')]);
    expect(Engine.restore(h.config, h.engine.snapshot()).listFills('ann', { limit: 1 })).to.deep.equal([ann]);
  });

  it('retains nothing when told to retain nothing, and refuses a negative retention', () => {
    const h = new Harness({ ...CONFIG, fillsRetainedPerUser: 0, tradesRetainedPerMarket: 0 });
    for (const u of ['ann', 'bob']) for (const a of ['USD', 'BTC']) h.deposit(u, a, '1000');
    placed(h.limit('ann', 'BTC-USD', 'sell', '100', '1'));
    placed(h.limit('bob', 'BTC-USD', 'buy', '100', '1'));
    expect(h.engine.listFills('ann', { limit: 10 })).to.deep.equal([]);
    expect(h.engine.recentTrades('BTC-USD', 10)).to.deep.equal([]);
    expect(h.engine.ticker('BTC-USD', 1_700_000_000_000)!.lastPrice).to.equal(px('100'));
    expect(() => new Engine({ ...CONFIG, fillsRetainedPerUser: -1 })).to.throw('fillsRetainedPerUser must be a non-negative integer');
    expect(() => new Engine({ ...CONFIG, tradesRetainedPerMarket: 1.5 })).to.throw('tradesRetainedPerMarket must be a non-negative integer');
  });
});

describe('engine: ticker and candles', () => {
  const MINUTE = 60_000;
  const T0 = 1_700_000_040_000; // a whole minute

  /** Trades at T0 + the given minutes: ann sells 1 at each price, bob takes it. */
  function traded(prices: [number, string][]): TimedHarness {
    const h = new TimedHarness();
    for (const u of ['ann', 'bob']) for (const a of ['USD', 'BTC']) h.deposit(u, a, '100000');
    for (const [minute, price] of prices) {
      h.at = T0 + minute * MINUTE;
      placed(h.limit('ann', 'BTC-USD', 'sell', price, '1'));
      placed(h.market('bob', 'BTC-USD', 'buy', '1'));
    }
    return h;
  }

  it('gives the last price, best prices and the open, high, low, volume of the 1440 minutes up to now', () => {
    const h = traded([[0, '100'], [0, '103'], [30, '98'], [1439, '101']]);
    placed(h.limit('ann', 'BTC-USD', 'sell', '120', '1'));
    placed(h.limit('bob', 'BTC-USD', 'buy', '90', '1'));
    const now = T0 + 1439 * MINUTE + 59_999;
    expect(h.engine.ticker('BTC-USD', now)).to.deep.equal({
      market: 'BTC-USD', lastPrice: px('101'), lastTradeAt: T0 + 1439 * MINUTE, bestBid: px('90'), bestAsk: px('120'),
      windowStart: T0, windowEnd: T0 + 1440 * MINUTE,
      window: { open: px('100'), high: px('103'), low: px('98'), close: px('101'), volume: qty('4'), quoteVolume: amt('402'), tradeCount: 4 },
    });
    // A minute later the first minute has left the window; a day after the last trade nothing is left but the last price.
    expect(h.engine.ticker('BTC-USD', now + 1)!.window).to.deep.equal({
      open: px('98'), high: px('101'), low: px('98'), close: px('101'), volume: qty('2'), quoteVolume: amt('199'), tradeCount: 2,
    });
    const quiet = h.engine.ticker('BTC-USD', now + 1440 * MINUTE)!;
    expect([quiet.lastPrice, quiet.window]).to.deep.equal([px('101'), undefined]);
    expect(h.engine.ticker('ETH-USD', now)).to.deep.equal({ market: 'ETH-USD', windowStart: T0, windowEnd: T0 + 1440 * MINUTE });
    expect(h.engine.ticker('XRP-USD', now)).to.equal(undefined);
  });

  it('reuses a minute slot a day later: the older minute is replaced, not added to', () => {
    const h = traded([[0, '100'], [1440, '110']]);
    const now = T0 + 1440 * MINUTE;
    expect(h.engine.ticker('BTC-USD', now)!.window).to.deep.equal({
      open: px('110'), high: px('110'), low: px('110'), close: px('110'), volume: qty('1'), quoteVolume: amt('110'), tradeCount: 1,
    });
    expect(h.engine.candles('BTC-USD', 1, now, 10)).to.have.length(1);
  });

  it('aggregates candles of 1, 5 and 60 minutes from the same buckets, newest first, only intervals with trades', () => {
    const h = traded([[0, '100'], [1, '104'], [4, '99'], [5, '101'], [61, '97']]);
    const now = T0 + 61 * MINUTE;
    // [minute of the span's start relative to T0, open, high, low, close, trades]; spans are aligned to
    // the epoch, and T0's minute is 4 past a 5-minute span and 14 past an hour.
    const shown = (interval: number, limit = 100) =>
      h.engine.candles('BTC-USD', interval, now, limit)!.map((c) => {
        expect(c.volume, 'volume').to.equal(qty(String(c.tradeCount)));
        return [(c.start - T0) / MINUTE, c.open, c.high, c.low, c.close, c.tradeCount];
      });
    const p = px;
    expect(shown(1)).to.deep.equal([
      [61, p('97'), p('97'), p('97'), p('97'), 1], [5, p('101'), p('101'), p('101'), p('101'), 1], [4, p('99'), p('99'), p('99'), p('99'), 1],
      [1, p('104'), p('104'), p('104'), p('104'), 1], [0, p('100'), p('100'), p('100'), p('100'), 1],
    ]);
    expect(shown(1, 2).map(([start]) => start)).to.deep.equal([61, 5]);
    expect(shown(5)).to.deep.equal([[61, p('97'), p('97'), p('97'), p('97'), 1], [1, p('104'), p('104'), p('99'), p('101'), 3], [-4, p('100'), p('100'), p('100'), p('100'), 1]]);
    expect(shown(60)).to.deep.equal([[46, p('97'), p('97'), p('97'), p('97'), 1], [-14, p('100'), p('104'), p('99'), p('101'), 4]]);
    expect(h.engine.candles('BTC-USD', 60, now, 100)![1]!.quoteVolume).to.equal(amt('404'));
    // The window cuts a span: a day later only what is still inside it counts.
    expect(h.engine.candles('BTC-USD', 60, T0 + (1440 + 4) * MINUTE, 100)!.map((c) => [(c.start - T0) / MINUTE, c.tradeCount])).to.deep.equal([[46, 1], [-14, 1]]);
    expect(() => h.engine.candles('BTC-USD', 7, now, 10)).to.throw(RangeError);
    expect(h.engine.candles('XRP-USD', 1, now, 10)).to.equal(undefined);
  });

  it('keeps the exact volume past 2^53 units, through a snapshot', () => {
    const h = traded([]);
    h.deposit('ann', 'BTC', '200000000');
    const big = (2n ** 53n - 1n) / 2n;
    for (let i = 0; i < 3; i++) {
      placed(h.limit('ann', 'BTC-USD', 'sell', '0.000001', formatQuantity(big)));
      placed(h.market('bob', 'BTC-USD', 'buy', formatQuantity(big)));
    }
    expect(h.engine.ticker('BTC-USD', h.at)!.window!.volume).to.equal(3n * big);
    expect(Engine.restore(CONFIG, h.engine.snapshot()).ticker('BTC-USD', h.at)).to.deep.equal(h.engine.ticker('BTC-USD', h.at));
  });
});

describe('engine: history and ledger in the snapshot', () => {
  it('restores fills, recent trades, tickers and the ledger; LDGR and HIST are left out until a deposit and a trade', () => {
    const empty = new Engine(CONFIG);
    expect(readSections(empty.snapshot()).has('LDGR')).to.equal(false);
    expect(readSections(empty.snapshot()).has('HIST')).to.equal(false);
    const h = new Harness({ ...CONFIG, fillsRetainedPerUser: 2, tradesRetainedPerMarket: 2 });
    for (const u of ['ann', 'bob']) for (const a of ['USD', 'BTC']) h.deposit(u, a, '1000');
    expect(readSections(h.engine.snapshot()).has('HIST')).to.equal(false);
    expect(readSections(h.engine.snapshot()).get('LDGR')).to.have.length.above(0);
    for (let i = 0; i < 3; i++) {
      placed(h.limit('ann', 'BTC-USD', 'sell', String(100 + i), '1'));
      placed(h.market('bob', 'BTC-USD', 'buy', '1'));
    }
    withdrawn(withdraw(h, { userId: 'bob', asset: 'USD', amount: amt('7'), requestId: 'w' }));
    const restored = Engine.restore(h.config, h.engine.snapshot());
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.snapshot()).to.deep.equal(h.engine.snapshot());
    const now = 1_700_000_000_100;
    for (const e of [restored, h.engine]) expect(e.listFills('bob', { limit: 9 }).map((f) => f.tradeId)).to.deep.equal([3, 2]);
    expect(restored.recentTrades('BTC-USD', 9)).to.deep.equal(h.engine.recentTrades('BTC-USD', 9));
    expect(restored.ticker('BTC-USD', now)).to.deep.equal(h.engine.ticker('BTC-USD', now));
    expect(restored.ledger('bob', { limit: 9 })).to.deep.equal(h.engine.ledger('bob', { limit: 9 }));
    // The restored engine answers a retry of the withdrawal as the original does.
    const retry = { kind: 'withdraw', seq: h.engine.lastSeq() + 1, timestamp: now, userId: 'bob', asset: 'USD', amount: amt('7'), requestId: 'w', adminId: 'a', reference: 'wire 42' } as const;
    expect(restored.apply(retry)).to.deep.equal(h.engine.apply(retry));
  });
});

describe('engine: the typed trade ring', () => {
  it('grows by doubling to its bound, then overwrites the oldest; copies come oldest first', () => {
    const ring = new TradeRing(10, FILL_FIELDS);
    const row = new Float64Array(FILL_FIELDS);
    for (let id = 1; id <= 25; id++) {
      row[FILL.tradeId] = id;
      row[FILL.seq] = id * 10;
      ring.push(row);
      expect(ring.size).to.equal(Math.min(id, 10));
      expect([ring.newest(0, FILL.tradeId), ring.newest(ring.size - 1, FILL.seq)]).to.deep.equal([id, Math.max(1, id - 9) * 10]);
    }
    const copy = ring.copyRows();
    expect(Array.from({ length: 10 }, (_, k) => copy[k * FILL_FIELDS + FILL.tradeId])).to.deep.equal([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    const none = new TradeRing(0, FILL_FIELDS);
    none.push(row);
    expect([none.size, none.copyRows().length]).to.deep.equal([0, 0]);
  });

  it("keeps each account's newest fills in chunks of one pool, apart from every other account's", () => {
    const rings = new FillRings(20);
    const row = new Float64Array(FILL_FIELDS);
    // Interleaved: account 3 and an account far past the first tables get fills 1..50 and 1001..1050.
    for (let id = 1; id <= 50; id++) {
      for (const [account, base] of [[3, 0], [5000, 1000]] as const) {
        row[FILL.tradeId] = base + id;
        row[FILL.seq] = (base + id) * 10;
        rings.push(account, row);
        expect(rings.size(account)).to.equal(Math.min(id, 20));
        expect([rings.newest(account, 0, FILL.tradeId), rings.newest(account, rings.size(account) - 1, FILL.seq)]).to.deep.equal([
          base + id,
          (base + Math.max(1, id - 19)) * 10,
        ]);
      }
    }
    // Three hundred more accounts' first chunks take more than the first slab (256 chunks).
    for (let account = 10; account < 310; account++) {
      row[FILL.tradeId] = account;
      rings.push(account, row);
    }
    expect([rings.size(309), rings.newest(309, 0, FILL.tradeId), rings.newest(10, 0, FILL.tradeId)]).to.deep.equal([1, 309, 10]);
    const ids = (account: number): number[] => {
      const copy = rings.copyRows(account);
      return Array.from({ length: copy.length / FILL_FIELDS }, (_, k) => copy[k * FILL_FIELDS + FILL.tradeId]!);
    };
    expect(ids(3)).to.deep.equal(Array.from({ length: 20 }, (_, k) => 31 + k));
    expect(ids(5000)).to.deep.equal(Array.from({ length: 20 }, (_, k) => 1031 + k));
    expect([rings.size(4), rings.size(1_000_000), ids(4)]).to.deep.equal([0, 0, []]);
    const none = new FillRings(0);
    none.push(1, row);
    expect([none.size(1), none.copyRows(1).length]).to.deep.equal([0, 0]);
  });
});
