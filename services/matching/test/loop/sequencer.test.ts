import { expect } from 'chai';
import { Sequencer } from '../../src/loop/sequencer';

describe('Sequencer', () => {
  it('gives the next seq, and a placement the order id equal to its seq', () => {
    const sequencer = new Sequencer({ lastSeq: 41, lastTimestamp: 0 }, () => 1_000);
    const input = { kind: 'placeMarket', userId: 'u', market: 'BTC-USD', side: 'buy', quantity: 5n } as const;
    const placed = sequencer.next({ ...input, selfTradePrevention: 'cancel_taker' });
    expect(placed).to.deep.equal({
      kind: 'placeMarket',
      userId: 'u',
      market: 'BTC-USD',
      side: 'buy',
      quantity: 5n,
      selfTradePrevention: 'cancel_taker',
      seq: 42,
      timestamp: 1_000,
      orderId: 42,
    });
    const cancel = sequencer.next({ kind: 'cancel', userId: 'u', orderId: 42 });
    expect(cancel).to.deep.equal({ kind: 'cancel', userId: 'u', orderId: 42, seq: 43, timestamp: 1_000 });
  });

  it('never hands out a timestamp below the last one, even when the clock steps back', () => {
    const clock = [5_000, 4_000, 6_000, 5_500];
    const sequencer = new Sequencer({ lastSeq: 0, lastTimestamp: 4_500 }, () => clock.shift() ?? 0);
    const deposit = { kind: 'deposit', userId: 'u', asset: 'USD', amount: 1n } as const;
    const stamps = [1, 2, 3, 4].map(() => sequencer.next(deposit).timestamp);
    expect(stamps).to.deep.equal([5_000, 5_000, 6_000, 6_000]);
  });

  it('starts from the recovered timestamp when the clock is behind it', () => {
    const sequencer = new Sequencer({ lastSeq: 0, lastTimestamp: 9_000 }, () => 1_000);
    expect(sequencer.next({ kind: 'cancel', userId: 'u', orderId: 1 }).timestamp).to.equal(9_000);
  });
});
